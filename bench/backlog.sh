#!/usr/bin/env bash
# bench/backlog.sh - hookd's memory per pending message and its time to the first
# delivery after a crash with 1,000,000 pending (part of `make bench-scale`).
#
# What it measures, BACKLOG_RUNS times (default 3), reported as medians:
#  (1) live backlog: a fresh hookd with one endpoint whose receiver hangs (reads the
#      request, never answers: bench/latency_receiver.mjs --hang). RSS of that idle
#      hookd (VmRSS from /proc/PID/status, after one warm-up send), then wrk POSTs
#      sends (bench/send.lua, -t2 -c64, BACKLOG_LIVE_S = 20 s); 1 s later RSS again.
#      Figure = (RSS after - RSS idle) / messages pending (accepted - delivered): the
#      bytes each waiting message costs while it is sent live. With tens of thousands
#      of messages a few MB of one-off growth (SQLite page cache, malloc arenas) are
#      included; at 1M they would not be, so this errs high when few were sent.
#  (2) recovered backlog: bench/scale_fill.c -q writes BACKLOG_MESSAGES (1,000,000)
#      queued messages (~200-byte payloads, due now) to one endpoint pointing at the
#      hanging receiver straight into a migrated store (once; each run gets a copy).
#      hookd starts on it; when its RSS has settled (two samples 0.5 s apart within
#      1%, at most 30 s): (RSS - idle RSS from (1)) / BACKLOG_MESSAGES. Also: the time
#      from exec to "listening on".
#  (3) restart: that hookd is killed with SIGKILL; the hanging receiver is replaced by
#      a healthy one (answers 204) on the same port; hookd starts again on the same
#      store. Figure = time from exec of hookd to the first delivery arriving at the
#      receiver (wall clock, ms). Also the time to "listening on".
# The issue's figures (ARCHITECTURE §3): today 864 MB RSS for 1M pending (about 850 B
# each), aim <= 250 B; delivery should start within 1 s of a restart with 1M pending.
#
# hookd runs as `hookd serve --listen 127.0.0.1:0 --data DIR --allow-http
# --allow-private-networks --log-level info --shutdown-grace 1s`, plus `--api-rate-limit
# 0` when the binary has that flag, plus BACKLOG_HOOKD_FLAGS.
#
# Everything runs on loopback in a mktemp -d directory (the store needs ~600 MB per
# million messages, twice: the filled original and a run's copy) and every child
# process is stopped on exit. About 20 s for the fill plus 30-40 s per run; every wait
# is bounded.
#
# Usage: bench/backlog.sh
# Environment:
#   HOOKD_BIN            hookd binary (default: ./hookd at the repo root)
#   BACKLOG_RUNS         runs (default 3)
#   BACKLOG_MESSAGES     messages in the filled store (default 1000000)
#   BACKLOG_LIVE_S       seconds of live sends in (1) (default 20)
#   BACKLOG_HOOKD_FLAGS  extra flags for `hookd serve`
#   BACKLOG_KEEP_TMP=1   keep the temp dir after the run
# Output: a Markdown report on stdout, also saved as bench/results/backlog-<UTC time>.md
# (gitignored). Exit status 1 if a check failed (hookd not starting, no delivery after the
# restart within 60 s, send errors, hookd logging errors).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
HOOKD_BIN=${HOOKD_BIN:-$root/hookd}
RUNS=${BACKLOG_RUNS:-3}
MESSAGES=${BACKLOG_MESSAGES:-1000000}
LIVE_S=${BACKLOG_LIVE_S:-20}
HOOKD_FLAGS=${BACKLOG_HOOKD_FLAGS:-}

for tool in gcc pkg-config node curl awk wrk; do
    command -v "$tool" >/dev/null || {
        echo "backlog.sh: '$tool' not found (wrk: make bench-deps)" >&2
        exit 2
    }
done
if [ ! -x "$HOOKD_BIN" ]; then
    echo "backlog.sh: no hookd binary at $HOOKD_BIN (run 'make')" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookd-backlog.XXXXXX")
mkdir -p "$tmp/res"
cp "$HOOKD_BIN" "$tmp/hookd"
HOOKD_SRC=$HOOKD_BIN
HOOKD_BIN=$tmp/hookd
if "$HOOKD_BIN" serve --help 2>&1 | grep -q -- '--api-rate-limit'; then
    HOOKD_FLAGS="--api-rate-limit 0${HOOKD_FLAGS:+ $HOOKD_FLAGS}"
fi
HOOKD_FLAGS="--shutdown-grace 1s${HOOKD_FLAGS:+ $HOOKD_FLAGS}"
LIB_TAG=backlog
LIB_KEEP=${BACKLOG_KEEP_TMP:-0}
LIB_RUNS_SEP=" · "
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

kv() { sed -n "s/^$1=//p" "$2" | head -n1; }
wall_ms() { echo $(($(date +%s%N) / 1000000)); }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
# metric PORT NAME: one counter/gauge from /metrics (sum over label sets; empty if none).
metric() {
    curl -s --max-time 2 "http://127.0.0.1:$1/metrics" |
        awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF; f = 1 } END { if (f) print s }'
}
# stop PID [KILL]: SIGTERM (or SIGKILL), SIGKILL after 15 s, reap, forget.
stop() {
    local pid=$1 sig=${2:-TERM} keep=() p
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}
# receiver PORT [--hang]: start latency_receiver.mjs; sets RECV_PID and RECV_PORT.
receiver() {
    local out="$tmp/recv-$RANDOM.out"
    node "$here/latency_receiver.mjs" --port "$1" ${2:+"$2"} >"$out" 2>&1 &
    RECV_PID=$!
    pids+=("$RECV_PID")
    RECV_PORT=
    for _ in $(seq 100); do
        RECV_PORT=$(sed -n 's/.*"url":"http:\/\/127\.0\.0\.1:\([0-9]*\)\/hook".*/\1/p' "$out")
        [ -n "$RECV_PORT" ] && return 0
        kill -0 "$RECV_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "backlog.sh: receiver did not start on port $1: $(cat "$out")" >&2
    exit 1
}
# start_hookd DATA LOG: start hookd; sets HOOKD_PID, HOOKD_PORT (empty if no
# "listening on" within 60 s), T_START (wall ms at exec) and LISTEN_MS (exec -> listening).
start_hookd() {
    local data=$1 logf=$2
    T_START=$(wall_ms)
    # shellcheck disable=SC2086 # HOOKD_FLAGS is a list of flags
    HOOKD_BOOTSTRAP_KEY=$KEY "$HOOKD_BIN" serve --listen 127.0.0.1:0 --data "$data" \
        --allow-http --allow-private-networks --log-level info $HOOKD_FLAGS 2>"$logf" &
    HOOKD_PID=$!
    pids+=("$HOOKD_PID")
    HOOKD_PORT=
    LISTEN_MS=
    for _ in $(seq 1200); do
        HOOKD_PORT=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$logf" 2>/dev/null |
            head -n1 | sed 's/.*://' || true)
        if [ -n "$HOOKD_PORT" ]; then
            LISTEN_MS=$(($(wall_ms) - T_START))
            return 0
        fi
        kill -0 "$HOOKD_PID" 2>/dev/null || break
        sleep 0.05
    done
    problem "hookd did not report 'listening on' within 60 s: $(tail -n 5 "$logf" | tr '\n' ' ')"
}
# settled_rss PID: VmRSS (kB) once two samples 0.5 s apart are within 1% (at most 30 s).
settled_rss() {
    local a b
    a=$(rss_kb "$1")
    for _ in $(seq 60); do
        sleep 0.5
        b=$(rss_kb "$1")
        [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a < a / 100 && a - b < a / 100) }' && break
        a=$b
    done
    echo "$b"
}
check_log() {
    if grep -qiE 'level=(error|fatal)|panic|assert|sanitizer' "$2"; then
        problem "$1: hookd log has errors: $(grep -iE 'level=(error|fatal)|panic|assert|sanitizer' "$2" | head -n 3 | tr '\n' ' ')"
    fi
}

# ---- the filled store (once) -------------------------------------------------------------
log "building scale_fill"
read -ra sqlite_flags <<<"$(pkg-config --cflags --libs sqlite3)"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -o "$tmp/scale_fill" \
    "$here/scale_fill.c" "${sqlite_flags[@]}"
receiver 0 --hang
HANG_PID=$RECV_PID
PORT_R=$RECV_PORT
KEY="hk_live_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
filled="$tmp/filled"
timeout 30 "$HOOKD_BIN" migrate --data "$filled" 2>"$tmp/migrate.log" || {
    echo "backlog.sh: hookd migrate failed: $(cat "$tmp/migrate.log")" >&2
    exit 1
}
log "writing $MESSAGES queued messages to http://127.0.0.1:$PORT_R/hook"
timeout 120 "$tmp/scale_fill" "$filled" -n "$MESSAGES" -d 1 -q "http://127.0.0.1:$PORT_R/hook" \
    >"$tmp/fill.txt" || {
    echo "backlog.sh: scale_fill failed or took over 120 s" >&2
    exit 1
}
log "store written in $(kv elapsed_s "$tmp/fill.txt") s: $(du -h "$filled/hookd.db" | cut -f1)"

# ---- one run -----------------------------------------------------------------------------
run_once() {
    local run=$1 label="run $1" data code ep_id idle live a d pending rss first
    # (1) live backlog
    data="$tmp/live-$run"
    start_hookd "$data" "$tmp/hookd-live-$run.log"
    [ -n "$HOOKD_PORT" ] || {
        stop "$HOOKD_PID"
        return 1
    }
    code=$(curl -s -o "$tmp/ep-$run.json" -w '%{http_code}' --max-time 5 \
        -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        -d "{\"url\":\"http://127.0.0.1:$PORT_R/hook\"}" "http://127.0.0.1:$HOOKD_PORT/v1/endpoints" || true)
    ep_id=$(sed -n 's/.*"id":"\(ep_[0-9a-f]*\)".*/\1/p' "$tmp/ep-$run.json")
    if [ "$code" != 201 ] || [ -z "$ep_id" ]; then
        problem "$label: POST /v1/endpoints answered $code: $(head -c 300 "$tmp/ep-$run.json")"
        stop "$HOOKD_PID"
        return 1
    fi
    curl -s -o /dev/null --max-time 5 -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        -d "{\"endpoint_id\":\"$ep_id\",\"payload\":{\"warmup\":true}}" "http://127.0.0.1:$HOOKD_PORT/v1/webhooks/send" || true
    sleep 1
    idle=$(rss_kb "$HOOKD_PID")
    env BENCH_EXPECT=202 BENCH_ENDPOINT_ID="$ep_id" BENCH_API_KEY="$KEY" timeout $((LIVE_S + 30)) \
        wrk -t2 -c64 -d"${LIVE_S}s" --timeout 10s -s "$here/send.lua" "http://127.0.0.1:$HOOKD_PORT" \
        >"$tmp/wrk-$run.txt" 2>&1 || problem "$label: wrk exited with status $?"
    grep -q 'unexpected=0 ' "$tmp/wrk-$run.txt" ||
        problem "$label: some sends were not answered 202: $(grep BENCH_RESULT "$tmp/wrk-$run.txt" || tail -n 3 "$tmp/wrk-$run.txt")"
    sleep 1
    live=$(rss_kb "$HOOKD_PID")
    a=$(metric "$HOOKD_PORT" hookd_sends_accepted_total)
    d=$(metric "$HOOKD_PORT" hookd_deliveries_succeeded_total)
    pending=$((${a:-0} - ${d:-0}))
    stop "$HOOKD_PID"
    check_log "$label (1)" "$tmp/hookd-live-$run.log"
    rm -rf "$data"
    if [ -n "$idle" ] && [ -n "$live" ] && [ "$pending" -gt 0 ]; then
        record idle_mb "$(awk -v k="$idle" 'BEGIN { printf "%.1f", k / 1024 }')"
        record live_pending "$pending"
        record live_b "$(awk -v a="$idle" -v b="$live" -v n="$pending" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')"
        log "$label (1): idle RSS $((idle / 1024)) MB; $pending pending after ${LIVE_S} s of sends: RSS $((live / 1024)) MB"
    else
        problem "$label (1): no figure (idle RSS '$idle', RSS '$live', pending '$pending')"
    fi

    # (2) recovered backlog, hanging receiver
    data="$tmp/run-$run"
    rm -rf "$data"
    cp -r "$filled" "$data"
    start_hookd "$data" "$tmp/hookd-recover-$run.log"
    [ -n "$HOOKD_PORT" ] || {
        stop "$HOOKD_PID"
        return 1
    }
    record recover_listen_s "$(awk -v m="$LISTEN_MS" 'BEGIN { printf "%.2f", m / 1000 }')"
    rss=$(settled_rss "$HOOKD_PID")
    if [ -n "$rss" ] && [ -n "$idle" ]; then
        record recovered_mb "$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')"
        record recovered_b "$(awk -v a="$idle" -v b="$rss" -v n="$MESSAGES" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')"
    fi
    log "$label (2): listening after $LISTEN_MS ms; settled RSS $((${rss:-0} / 1024)) MB with $MESSAGES pending"
    # (3) crash, healthy receiver on the same port, restart
    stop "$HOOKD_PID" KILL 2>/dev/null # (no "Killed" job notice)
    check_log "$label (2)" "$tmp/hookd-recover-$run.log"
    stop "$HANG_PID"
    receiver "$PORT_R"
    local healthy_pid=$RECV_PID
    start_hookd "$data" "$tmp/hookd-restart-$run.log"
    if [ -n "$HOOKD_PORT" ]; then
        record restart_listen_s "$(awk -v m="$LISTEN_MS" 'BEGIN { printf "%.2f", m / 1000 }')"
    fi
    first=
    for _ in $(seq 1200); do
        first=$(curl -s --max-time 1 "http://127.0.0.1:$PORT_R/_stats" |
            sed -n 's/.*"first_wall_ms":\([0-9.]*\).*/\1/p')
        [ -n "$first" ] && break
        kill -0 "$HOOKD_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -n "$first" ]; then
        record first_delivery_s "$(awk -v f="$first" -v t="$T_START" 'BEGIN { printf "%.2f", (f - t) / 1000 }')"
        log "$label (3): listening after ${LISTEN_MS:-?} ms, first delivery $(awk -v f="$first" -v t="$T_START" 'BEGIN { printf "%.0f", f - t }') ms after exec"
    else
        problem "$label (3): no delivery reached the receiver within 60 s of the restart"
    fi
    stop "$HOOKD_PID"
    check_log "$label (3)" "$tmp/hookd-restart-$run.log"
    rm -rf "$data"
    # back to a hanging receiver on the same port for the next run
    stop "$healthy_pid"
    receiver "$PORT_R" --hang
    HANG_PID=$RECV_PID
}

for run in $(seq "$RUNS"); do
    log "---- run $run of $RUNS"
    note_if_busy "run $run"
    run_once "$run" || true
done

# ---- report --------------------------------------------------------------------------------
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
report="$tmp/report.md"
{
    echo "### hookd backlog benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $cpu, $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
    echo "- hookd: $(timeout 5 "$HOOKD_BIN" version 2>/dev/null | head -n1 || echo '?') ($HOOKD_SRC, git HEAD $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "- command: \`bench/backlog.sh\` (BACKLOG_RUNS=$RUNS BACKLOG_MESSAGES=$MESSAGES BACKLOG_LIVE_S=$LIVE_S${BACKLOG_HOOKD_FLAGS:+ BACKLOG_HOOKD_FLAGS=\"$BACKLOG_HOOKD_FLAGS\"})"
    echo "- hookd command: \`hookd serve --listen 127.0.0.1:0 --data DIR --allow-http --allow-private-networks --log-level info $HOOKD_FLAGS\`"
    echo "- store for (2)/(3): $MESSAGES queued messages to one endpoint, written by bench/scale_fill.c -q in $(kv elapsed_s "$tmp/fill.txt") s, $(du -h "$filled/hookd.db" | cut -f1) on disk"
    echo "- medians of $RUNS runs; RSS = VmRSS; idle RSS $(median idle_mb) MB (fresh hookd, one endpoint, one send)"
    echo
    echo "| figure | median | runs | aim |"
    echo "|---|---:|---|---|"
    echo "| (1) RSS per pending message, sent live to a hanging receiver (B) | $(median live_b) | $(runs_of live_b) | ≤ 250 |"
    echo "| (1) messages pending after ${LIVE_S} s of sends | $(median live_pending) | $(runs_of live_pending) | |"
    echo "| (2) RSS per pending message, $MESSAGES recovered at start (B) | $(median recovered_b) | $(runs_of recovered_b) | ≤ 250 |"
    echo "| (2) RSS with $MESSAGES pending (MB) | $(median recovered_mb) | $(runs_of recovered_mb) | |"
    echo "| (2) start → listening, $MESSAGES pending (s) | $(median recover_listen_s) | $(runs_of recover_listen_s) | |"
    echo "| (3) after kill -9: start → listening (s) | $(median restart_listen_s) | $(runs_of restart_listen_s) | |"
    echo "| (3) after kill -9: start → first delivery received (s) | $(median first_delivery_s) | $(runs_of first_delivery_s) | ≤ 1 |"
    report_notes_and_problems
} >"$report"
mkdir -p "$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$report" "$here/results/backlog-$stamp.md"
cat "$report"
log "report saved to bench/results/backlog-$stamp.md"
[ "${#problems[@]}" -eq 0 ]
