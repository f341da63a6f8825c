# bench/lib.sh - shared by the bench/ scripts (sourced, not run).
# Before sourcing set: tmp (the run's temp dir), LIB_TAG (log prefix, e.g. "bench")
# and LIB_KEEP (1 keeps $tmp on exit); optionally LIB_RUNS_SEP (between the runs
# runs_of lists, default ", ") and LIB_DECIMALS (fixed decimals for median and
# runs_of; unset: whole numbers from 100 up, else up to 2). Gives: pids (children to
# stop on exit), problems/notes arrays, log, problem, note, report_notes_and_problems,
# cpu_busy, note_if_busy, record/median/runs_of, new_key, launch_hookd (needs
# HOOKD_BIN, optionally HOOKD_FLAGS), thread_ticks, free_port and start_nginx (an nginx
# answering 204 on NGINX_PORT; needs $tmp/nginx/logs), and the exit trap that stops every
# child and removes $tmp.

pids=()
problems=()
notes=()

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${LIB_KEEP:-0}" = 1 ]; then
        echo "$LIB_TAG: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '[%s %s] %s\n' "$LIB_TAG" "$(date +%T)" "$*" >&2; }
problem() {
    problems+=("$*")
    log "PROBLEM: $*"
}
note() {
    notes+=("$*")
    log "note: $*"
}

# The Notes and Problems sections of a Markdown report (on stdout).
report_notes_and_problems() {
    if [ "${#notes[@]}" -gt 0 ]; then
        echo
        echo "Notes:"
        echo
        printf -- '- %s\n' "${notes[@]}"
    fi
    if [ "${#problems[@]}" -gt 0 ]; then
        echo
        echo "Problems:"
        echo
        for p in "${problems[@]}"; do echo "- $p"; done
    fi
}

# cpu_busy SECONDS: percent of all CPUs busy over SECONDS (from /proc/stat).
cpu_busy() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep "$1"
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
        busy = y[1] - x[1]; idle = y[2] - x[2];
        printf "%.0f\n", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0 }'
}

# note_if_busy LABEL: sample the CPU for 1 s (nothing of the benchmark running) and add a
# note when more than 10% was busy: other load skews every wall-clock figure.
note_if_busy() {
    local busy
    busy=$(cpu_busy 1)
    if [ "$busy" -gt 10 ]; then
        note "$1: the machine was not idle before it: ${busy}% CPU busy over 1 s while nothing of the benchmark ran"
    fi
}

# record FIGURE VALUE: append one run's value of a figure (the caller makes $tmp/res).
record() { echo "$2" >>"$tmp/res/$1"; }
# median FIGURE: median of the recorded values ("n/a" if none).
median() {
    [ -s "$tmp/res/$1" ] || {
        echo "n/a"
        return
    }
    sort -g "$tmp/res/$1" | awk -v dec="${LIB_DECIMALS:-}" '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              if (dec != "") printf "%.*f\n", dec, m;
              else if (m >= 100 || m == int(m)) printf "%.0f\n", m; else printf "%.2f\n", m }'
}
# runs_of FIGURE: every run's value, in run order ("-" if none).
runs_of() {
    [ -s "$tmp/res/$1" ] || {
        echo "-"
        return
    }
    awk -v sep="${LIB_RUNS_SEP:-, }" -v dec="${LIB_DECIMALS:-}" '{
        v = dec != "" ? sprintf("%.*f", dec, $1) : ($1 >= 100 ? sprintf("%.0f", $1) : $1);
        printf "%s%s", (NR > 1 ? sep : ""), v }' "$tmp/res/$1"
}

# new_key: a random live API key, for HOOKD_BOOTSTRAP_KEY.
new_key() { echo "hk_live_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# launch_hookd DATA LOG KEY: start `$HOOKD_BIN serve` on a loopback port with DATA as
# its store, KEY as bootstrap key and $HOOKD_FLAGS, at log level warn, stderr to LOG.
# Sets hookd_pid (also in pids) and hookd_port, which stays empty when hookd did not
# report "listening on" within 10 s (or died); the caller reports and stops it then.
# With BENCH_PG_URL (postgres://user@host:port of a server, e.g. bench/pg.sh's), every
# hookd gets a fresh database of that server instead of DATA's SQLite store.
launch_hookd() {
    local db=()
    if [ -n "${BENCH_PG_URL:-}" ]; then
        local name="bench_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
        psql -X -q "$BENCH_PG_URL/postgres" -c "CREATE DATABASE $name" >/dev/null
        db=(--db "$BENCH_PG_URL/$name")
    fi
    # shellcheck disable=SC2086 # HOOKD_FLAGS is a list of flags
    HOOKD_BOOTSTRAP_KEY=$3 "$HOOKD_BIN" serve --listen 127.0.0.1:0 --data "$1" "${db[@]}" \
        --allow-http --allow-private-networks --log-level warn ${HOOKD_FLAGS:-} 2>"$2" &
    hookd_pid=$!
    pids+=("$hookd_pid")
    hookd_port=
    for _ in $(seq 100); do
        hookd_port=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$2" 2>/dev/null |
            head -n1 | sed 's/.*://' || true)
        [ -n "$hookd_port" ] && break
        kill -0 "$hookd_pid" 2>/dev/null || break
        sleep 0.1
    done
}

# thread_ticks PID: "api committer delivery other" - CPU ticks of the process's threads
# grouped by name (libmicrohttpd's MHD-*, the committer, deliver-N, the rest).
thread_ticks() {
    local t comm ticks a=0 c=0 d=0 o=0
    for t in /proc/"$1"/task/*; do
        comm=$(cat "$t/comm" 2>/dev/null) || continue
        ticks=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) || continue
        case $comm in
        MHD*) a=$((a + ticks)) ;;
        committer) c=$((c + ticks)) ;;
        deliver-*) d=$((d + ticks)) ;;
        *) o=$((o + ticks)) ;;
        esac
    done
    echo "$a $c $d $o"
}

# ---- nginx receiver (needs $tmp/nginx/logs; sets NGINX_PORT) ----------------------
# A loopback port that nothing listens on now (nginx retries with another if it races).
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

start_nginx() {
    local port pid
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$port backlog=4096;
        location / { return 204; }
    }
}
EOF
        nginx -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' \
            2>>"$tmp/nginx/logs/stderr.log" &
        pid=$!
        for _ in $(seq 50); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -X POST -d '{}' \
                "http://127.0.0.1:$port/hook" || true)" = 204 ]; then
                pids+=("$pid")
                NGINX_PORT=$port
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "$LIB_TAG: nginx did not start; see below" >&2
    cat "$tmp/nginx/logs/"*.log >&2 || true
    exit 1
}
