#!/usr/bin/env bash
# bench/run.sh - repeatable hookd benchmark (invoked by `make bench`).
#
# What it measures, each repeated BENCH_RUNS times (default 3, runs interleaved)
# and reported as the median, every hookd figure beside the same tool's ceiling
# on the same machine in the same run:
#
#  (1) durable sends/s    wrk -t2 -c64 POSTing POST /v1/webhooks/send (bench/send.lua)
#                         to hookd; hookd answers 202 only after the message is fsync'd
#                         (group commit). Figure = wrk's Requests/sec; every answer must
#                         be 202. Deliveries to nginx run at the same time (realistic).
#  (a) wrk ceiling        the same wrk command and byte-identical requests against
#                         the static nginx receiver answering 204: what wrk + loopback
#                         + this CPU can do at 64 connections. Ceiling for (1).
#  (2) deliveries/s       in the same hookd run as (1): hookd's single endpoint points at
#                         nginx (return 204). hookd_deliveries_succeeded_total is sampled
#                         from /metrics when wrk starts, every 0.5 s while it runs, then
#                         every 0.1 s until it reaches hookd_sends_accepted_total (bounded
#                         wait, 30 s). Figure = delivered / (first sample to drained).
#                         Also reported: sends/s seen by /metrics in that run, the backlog
#                         left when wrk stopped, and failed attempts (must be 0).
#  (1b) sends/s, paused   then, on the same drained hookd, the endpoint is paused
#                         (POST /v1/endpoints/{id}/pause) and the same wrk command runs
#                         again: durable sends with no deliveries competing for the CPU.
#  (2b) backlog drain     the endpoint is resumed and /metrics is sampled every 0.1 s until
#                         the backlog is delivered: deliveries/s = delivered / drain time,
#                         the dispatcher's own rate (in (2) it only has to keep up with
#                         the sends). Skipped with a note if pause is refused;
#                         BENCH_BACKLOG=0 skips it.
#  (b) curl ceiling       bench/curl_sender.c -s: one libcurl multi handle with 64 easy
#                         handles (= hookd's default per-endpoint concurrency), keep-alive,
#                         POSTing a ~220-byte JSON body to the same nginx, each request
#                         signed afresh (webhook-id, timestamp, v1 + sha256 HMACs, as hookd
#                         signs). Figure = completed 2xx/s. Ceiling for (2).
#  (d) MHD ceiling        bench/mhd_ceiling.c: bare libmicrohttpd (epoll, 2 threads) +
#                         jansson parsing the send body and answering 202 JSON; the same
#                         wrk command. Ceiling for the CPU per send (and context for (1)).
#
# CPU per message (the steadiest figure on a shared machine): the process's user+system
# time from /proc/PID/stat (utime+stime) over a phase, divided by the messages of that
# phase, in µs:
#  CPU µs per durable send   hookd during (1b) (endpoint paused: sends only) / sends accepted
#  CPU µs per delivery       hookd from resume to drained in (2b) / deliveries succeeded
#  CPU µs per send+delivery  hookd during (1)+(2), wrk start to drained / messages
#  ceilings                  (d) mhd_ceiling's CPU / requests answered 202 during its wrk run;
#                            (b) curl_sender's own getrusage / signed 2xx deliveries
#  (c) SQLite ceiling     bench/sqlite_ceiling.c: WAL + synchronous=FULL, ~300-byte rows;
#                         1 row per transaction (= fsyncs/s of this disk) and 64 rows per
#                         transaction (rows/s). Context for (1): without group commit,
#                         durable sends/s could not exceed the fsyncs/s figure.
#
# hookd runs as `hookd serve --listen 127.0.0.1:0 --data <fresh tmp dir> --allow-http
# --allow-private-networks --log-level warn`, plus `--api-rate-limit 0` when the binary
# has that flag (the per-key API limiter would otherwise cap the load), plus
# BENCH_HOOKD_FLAGS; all other settings are hookd's defaults.
#
# Everything runs on loopback, in a mktemp -d directory (nginx config/pid/logs, hookd
# data, helper binaries), and every child process is stopped on exit. The whole script
# takes about 3 minutes with the defaults; every wait is bounded.
#
# Usage: bench/run.sh [--ceilings-only]
# Environment:
#   HOOKD_BIN            hookd binary (default: ./hookd at the repo root)
#   BENCH_RUNS           repetitions of every figure (default 3)
#   BENCH_DURATION       seconds per wrk / curl_sender measurement (default 8)
#   BENCH_SQLITE_DURATION seconds per SQLite measurement (default 5)
#   BENCH_DRAIN_TIMEOUT  max seconds to wait for deliveries to drain in (2) (default 30)
#   BENCH_BACKLOG_TIMEOUT  max seconds to time the backlog drain in (2b) (default 20)
#   BENCH_BACKLOG=0      skip (1b) and (2b)
#   BENCH_HOOKD_FLAGS    extra flags for `hookd serve`, e.g. "--max-in-flight 512"
#   BENCH_CURL_CONCURRENCY  easy handles in curl_sender (default 64)
#   BENCH_KEEP_TMP=1     keep the temp dir (logs) after the run
#   BENCH_ENDPOINT_FIELDS  extra members of the endpoint's create body, e.g.
#                        '"deduplicate":{"window_ms":3600000}' (a policy under test)
#   BENCH_UNIQUE=1       every send has its own payload (bench/send.lua), in every wrk run
# Output: a Markdown report on stdout, also saved as bench/results/<UTC time>.md
# (gitignored). Exit status 1 if any check failed (non-202 answers, socket errors,
# undelivered messages, failed attempts, hookd crash or hang).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
HOOKD_BIN=${HOOKD_BIN:-$root/hookd}
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-8}
SQLITE_DURATION=${BENCH_SQLITE_DURATION:-5}
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-30}
BACKLOG_TIMEOUT=${BENCH_BACKLOG_TIMEOUT:-20}
HOOKD_FLAGS=${BENCH_HOOKD_FLAGS:-}
CURL_CONC=${BENCH_CURL_CONCURRENCY:-64}
CONNS=64
THREADS=2
WRK_OPTS=(-t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency --timeout 10s -s "$here/send.lua")

ceilings_only=0
case "${1:-}" in
--ceilings-only) ceilings_only=1 ;;
"") ;;
*)
    echo "usage: $0 [--ceilings-only]" >&2
    exit 2
    ;;
esac

for tool in wrk nginx gcc curl pkg-config awk getconf; do
    command -v "$tool" >/dev/null || {
        echo "run.sh: '$tool' not found" >&2
        exit 2
    }
done
if [ "$ceilings_only" = 0 ] && [ ! -x "$HOOKD_BIN" ]; then
    echo "run.sh: no hookd binary at $HOOKD_BIN (run 'make' or use --ceilings-only)" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookd-bench.XXXXXX")
mkdir -p "$tmp/res" "$tmp/nginx/logs"
if [ "$ceilings_only" = 0 ]; then
    # Run a private copy: every run uses the same binary, and a rebuild of ./hookd
    # during the benchmark neither fails (text file busy) nor changes the results.
    cp "$HOOKD_BIN" "$tmp/hookd"
    HOOKD_SRC=$HOOKD_BIN
    HOOKD_BIN=$tmp/hookd
    # The per-key API rate limit (if this hookd has one) would turn a load test
    # into a test of the limiter: switch it off.
    if "$HOOKD_BIN" serve --help 2>&1 | grep -q -- '--api-rate-limit'; then
        HOOKD_FLAGS="--api-rate-limit 0${HOOKD_FLAGS:+ $HOOKD_FLAGS}"
    fi
fi
LIB_TAG=bench
LIB_KEEP=${BENCH_KEEP_TMP:-0}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
now() { date +%s.%N; }
CLK_TCK=$(getconf CLK_TCK)
# cpu_ticks PID: user+system CPU time of a process so far, in clock ticks (empty if gone).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || true; }
# record_split PREFIX "TICKS0" "TICKS1" COUNT: record µs per item of each thread group
# (as thread_ticks lists them) under PREFIX_api, PREFIX_committer, ...
record_split() {
    local names=(api committer delivery other) i v t0 t1
    read -r -a t0 <<<"$2"
    read -r -a t1 <<<"$3"
    for i in 0 1 2 3; do
        v=$(cpu_us_per "${t0[$i]:-}" "${t1[$i]:-}" "$4")
        [ -n "$v" ] && record "$1_${names[$i]}" "$v"
    done
}
# cpu_us_per TICKS0 TICKS1 COUNT: µs of CPU per item (empty if unknown).
cpu_us_per() {
    [ -n "$1" ] && [ -n "$2" ] && [ "${3:-0}" -gt 0 ] || return 0
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f\n", (b - a) * 1e6 / hz / n }'
}
# kv KEY LINE: value of KEY=... in a key=value line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1; }

# ---- build the C helpers ----------------------------------------------------------
log "building helpers in $tmp"
read -ra curl_flags <<<"$(pkg-config --cflags --libs libcurl)"
read -ra sqlite_flags <<<"$(pkg-config --cflags --libs sqlite3)"
read -ra mhd_flags <<<"$(pkg-config --cflags --libs libmicrohttpd jansson)"
read -ra crypto_flags <<<"$(pkg-config --cflags --libs libcrypto)"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -o "$tmp/curl_sender" \
    "$here/curl_sender.c" "${curl_flags[@]}" "${crypto_flags[@]}"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -o "$tmp/mhd_ceiling" \
    "$here/mhd_ceiling.c" "${mhd_flags[@]}"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -o "$tmp/sqlite_ceiling" \
    "$here/sqlite_ceiling.c" "${sqlite_flags[@]}"

# ---- wrk --------------------------------------------------------------------------
# run_wrk OUTFILE URL EXPECT [env...]: run wrk with send.lua; leaves its output in OUTFILE.
run_wrk() {
    local out=$1 url=$2 expect=$3
    shift 3
    env BENCH_EXPECT="$expect" "$@" timeout $((DURATION + 30)) wrk "${WRK_OPTS[@]}" "$url" \
        >"$out" 2>&1
}
# parse_wrk OUTFILE PREFIX LABEL: record req/s and latency percentiles, check errors.
parse_wrk() {
    local out=$1 prefix=$2 label=$3 rps res unexpected sockerr p50 p99
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    res=$(grep '^BENCH_RESULT' "$out" || true)
    if [ -z "$rps" ] || [ -z "$res" ]; then
        problem "$label: wrk produced no result: $(tr '\n' ' ' <"$out" | cut -c1-400)"
        return 1
    fi
    record "${prefix}_rps" "$rps"
    # wrk prints latencies with units (us, ms, s); normalise to ms.
    to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
                                     else if (v ~ /s$/) n *= 1000; printf "%.3f\n", n }'; }
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    [ -n "$p50" ] && record "${prefix}_p50_ms" "$(to_ms "$p50")"
    [ -n "$p99" ] && record "${prefix}_p99_ms" "$(to_ms "$p99")"
    unexpected=$(kv unexpected "$res")
    if [ "${unexpected:-1}" != 0 ]; then
        problem "$label: $unexpected unexpected HTTP statuses ($(kv statuses "$res")) of $(kv requests "$res") requests"
    fi
    sockerr=$(grep 'Socket errors' "$out" || true)
    if [ -n "$sockerr" ]; then
        problem "$label: wrk ${sockerr#"${sockerr%%[! ]*}"}"
    fi
    log "$label: $rps req/s (p50 ${p50:-?}, p99 ${p99:-?}, unexpected ${unexpected:-?})"
}

# ---- (d) bare libmicrohttpd + jansson ------------------------------------------------
# mhd_ceiling_run RUN: start mhd_ceiling, run wrk against it, record req/s and CPU µs/req.
mhd_ceiling_run() {
    local run=$1 pid port="" c0 c1 n
    "$tmp/mhd_ceiling" -t 2 >"$tmp/mhd-$run.out" 2>"$tmp/mhd-$run.err" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 50); do
        port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1://p' "$tmp/mhd-$run.err")
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        problem "run $run (d): mhd_ceiling did not start: $(head -c 300 "$tmp/mhd-$run.err")"
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        forget_pid "$pid"
        return 1
    fi
    c0=$(cpu_ticks "$pid")
    run_wrk "$tmp/wrk-mhd-$run.txt" "http://127.0.0.1:$port" 202 ||
        problem "run $run (d): wrk exited with status $?"
    c1=$(cpu_ticks "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
    parse_wrk "$tmp/wrk-mhd-$run.txt" mhd_ceiling "run $run (d) libmicrohttpd+jansson" || return 1
    n=$(kv expected "$(grep '^BENCH_RESULT' "$tmp/wrk-mhd-$run.txt" || true)")
    n=$(cpu_us_per "$c0" "$c1" "${n:-0}")
    [ -n "$n" ] && record cpu_us_mhd "$n"
    log "run $run (d) CPU: ${n:-?} µs per answer"
}

# ---- hookd ------------------------------------------------------------------------
# metrics PORT: prints "accepted delivered attempts commits commit_ops" (sums over any
# label sets). The last two are optional extras (-1 when hookd does not export them);
# "missing" if one of the first three is absent.
metrics() {
    curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '
        function is(name) { return $1 == name || index($1, name "{") == 1 }
        BEGIN { b = -1; o = -1 }
        /^#/ { next }
        is("hookd_sends_accepted_total") { a += $NF; fa = 1 }
        is("hookd_deliveries_succeeded_total") { d += $NF; fd = 1 }
        is("hookd_delivery_attempts_total") { t += $NF; ft = 1 }
        is("hookd_commit_batches_total") { b = $NF }
        is("hookd_commit_ops_total") { o = $NF }
        END { if (fa && fd && ft) printf "%d %d %d %d %d\n", a, d, t, b, o; else print "missing" }'
}

# forget_pid PID: drop a reaped child from the cleanup list.
forget_pid() {
    local keep=() p
    for p in "${pids[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    pids=("${keep[@]}")
}

# describe_status RC: "status N" or "status N = SIGNAME" for deaths by signal.
describe_status() {
    if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
        echo "status $1 = SIG$(kill -l "$(($1 - 128))" 2>/dev/null || echo '?')"
    else
        echo "status $1"
    fi
}

# stop_hookd PID LABEL: SIGTERM, then SIGKILL after 15 s (hookd's default
# --shutdown-grace is 10 s; longer is reported as a hang).
stop_hookd() {
    local pid=$1 label=$2 rc
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null && rc=0 || rc=$?
        forget_pid "$pid"
        problem "$label: hookd had already exited ($(describe_status "$rc")) before shutdown"
        return
    fi
    kill -TERM "$pid"
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        problem "$label: hookd did not exit within 15 s of SIGTERM; killed"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null && rc=0 || rc=$?
    forget_pid "$pid"
    if [ "$rc" = 143 ]; then
        note "$label: hookd ended by the default SIGTERM action (status 143), not a clean exit 0"
    elif [ "$rc" != 0 ]; then
        problem "$label: hookd ended with $(describe_status "$rc") after SIGTERM"
    fi
}

# backlog_phase RUN PORT KEY EP_ID PID: (1b) and (2b) on a drained hookd. Pauses the
# endpoint, sends for DURATION s (no deliveries compete), resumes it and times how
# fast the dispatcher drains the backlog. Skipped with a note if pause is refused.
backlog_phase() {
    local run=$1 port=$2 key=$3 ep_id=$4 pid=$5 label="hookd run $1 (backlog)"
    local code m a0 d0 at0 a d at t t_res deadline backlog d_res at_res
    code=$(curl -s -o "$tmp/pause-$run.json" -w '%{http_code}' --max-time 5 -X POST \
        -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/endpoints/$ep_id/pause" ||
        true)
    if [ "$code" != 200 ]; then
        note "$label: POST /v1/endpoints/{id}/pause answered $code; (1b) and (2b) not measured"
        return 0
    fi
    read -r a0 d0 at0 _ _ <<<"$(metrics "$port")"
    local c0 c1 s0 s1
    c0=$(cpu_ticks "$pid")
    s0=$(thread_ticks "$pid")
    run_wrk "$tmp/wrk-paused-$run.txt" "http://127.0.0.1:$port" 202 \
        BENCH_ENDPOINT_ID="$ep_id" BENCH_API_KEY="$key" || problem "$label: wrk exited with status $?"
    c1=$(cpu_ticks "$pid")
    s1=$(thread_ticks "$pid")
    parse_wrk "$tmp/wrk-paused-$run.txt" paused_sends "$label (1b) sends, endpoint paused" || true
    m=$(metrics "$port" || true)
    if [ -z "$m" ] || [ "$m" = missing ]; then
        problem "$label: /metrics unanswered after the paused sends"
        return 1
    fi
    read -r a d at _ _ <<<"$m"
    if [ "$d" -ne "$d0" ]; then
        problem "$label: $((d - d0)) deliveries succeeded while the endpoint was paused"
    fi
    local cpu_send
    cpu_send=$(cpu_us_per "$c0" "$c1" "$((a - a0))")
    [ -n "$cpu_send" ] && record cpu_us_send "$cpu_send"
    record_split cpu_us_send "$s0" "$s1" "$((a - a0))"
    backlog=$((a - d))
    d_res=$d
    at_res=$at
    code=$(curl -s -o "$tmp/resume-$run.json" -w '%{http_code}' --max-time 5 -X POST \
        -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/endpoints/$ep_id/resume" ||
        true)
    t_res=$(now)
    c0=$(cpu_ticks "$pid")
    s0=$(thread_ticks "$pid")
    t=$t_res
    if [ "$code" != 200 ]; then
        problem "$label: resume answered $code: $(head -c 300 "$tmp/resume-$run.json")"
        return 1
    fi
    deadline=$(awk -v t="$t_res" -v w="$BACKLOG_TIMEOUT" 'BEGIN { printf "%.3f", t + w }')
    while [ "$d" -lt "$a" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            problem "$label: hookd died while draining the backlog"
            return 1
        fi
        if awk -v t="$t" -v d="$deadline" 'BEGIN { exit !(t >= d) }'; then
            if [ "$d" -le "$d_res" ]; then
                problem "$label: nothing of a $backlog backlog delivered within ${BACKLOG_TIMEOUT} s of resume"
                return 1
            fi
            # A rate over part of the backlog is still the dispatcher's rate.
            note "$label: drain cut off after ${BACKLOG_TIMEOUT} s with $((d - d_res)) of $backlog delivered; (2b) is the rate so far"
            break
        fi
        sleep 0.1
        t=$(now)
        m=$(metrics "$port" || true)
        if [ -z "$m" ] || [ "$m" = missing ]; then
            continue
        fi
        read -r a d at _ _ <<<"$m"
    done
    c1=$(cpu_ticks "$pid")
    s1=$(thread_ticks "$pid")
    if [ "$((at - at_res))" -ne "$((d - d_res))" ]; then
        problem "$label: $((at - at_res - d + d_res)) delivery attempts failed while draining"
    fi
    local cpu_del
    cpu_del=$(cpu_us_per "$c0" "$c1" "$((d - d_res))")
    [ -n "$cpu_del" ] && record cpu_us_delivery "$cpu_del"
    record_split cpu_us_delivery "$s0" "$s1" "$((d - d_res))"
    log "$label CPU: ${cpu_send:-?} µs per durable send (1b), ${cpu_del:-?} µs per delivery (2b)"
    record backlog_size "$backlog"
    record backlog_drain_rps "$(awk -v n="$((d - d_res))" -v t0="$t_res" -v t="$t" \
        'BEGIN { printf "%.1f", n / (t - t0) }')"
    log "$label (2b) drained $((d - d_res)) of a $backlog backlog in $(awk -v t0="$t_res" \
        -v t="$t" 'BEGIN { printf "%.2f", t - t0 }') s"
}

# run_hookd RUN: one hookd instance with a fresh data dir; records (1) and (2).
run_hookd() {
    local run=$1 label="hookd run $1" data logf key pid port code ep_id
    data=$(mktemp -d "$tmp/hookd-data.XXXXXX")
    logf="$tmp/hookd-$run.log"
    key=$(new_key)
    launch_hookd "$data" "$logf" "$key"
    pid=$hookd_pid
    port=$hookd_port
    if [ -z "$port" ]; then
        problem "$label: hookd did not report 'listening on' within 10 s; log: $(tail -n 5 "$logf" | tr '\n' ' ')"
        stop_hookd "$pid" "$label"
        return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/healthz" || true)
    [ "$code" = 200 ] || problem "$label: GET /healthz answered $code"

    code=$(curl -s -o "$tmp/ep-$run.json" -w '%{http_code}' --max-time 5 \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"url\":\"http://127.0.0.1:$NGINX_PORT/hook\"${BENCH_ENDPOINT_FIELDS:+,$BENCH_ENDPOINT_FIELDS}}" \
        "http://127.0.0.1:$port/v1/endpoints" || true)
    ep_id=$(jq -r '.data.id // empty' "$tmp/ep-$run.json" 2>/dev/null ||
        grep -o '"id":"ep_[0-9a-f]*"' "$tmp/ep-$run.json" | head -n1 | cut -d'"' -f4)
    if [ "$code" != 201 ] || [ -z "$ep_id" ]; then
        problem "$label: POST /v1/endpoints answered $code: $(head -c 300 "$tmp/ep-$run.json")"
        stop_hookd "$pid" "$label"
        return 1
    fi

    # Sanity: one send must be accepted and delivered before the load starts.
    code=$(curl -s -o "$tmp/send-$run.json" -w '%{http_code}' --max-time 5 \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"endpoint_id\":\"$ep_id\",\"payload\":{\"warmup\":true}}" \
        "http://127.0.0.1:$port/v1/webhooks/send" || true)
    if [ "$code" != 202 ]; then
        problem "$label: sanity send answered $code: $(head -c 300 "$tmp/send-$run.json")"
        stop_hookd "$pid" "$label"
        return 1
    fi
    local m=
    for _ in $(seq 50); do
        m=$(metrics "$port" || true)
        [ "$m" != missing ] && [ -n "$m" ] && [ "$(echo "$m" | cut -d' ' -f2)" -ge 1 ] && break
        sleep 0.1
    done
    if [ "$m" = missing ] || [ -z "$m" ]; then
        problem "$label: /metrics lacks hookd_sends_accepted_total, hookd_deliveries_succeeded_total or hookd_delivery_attempts_total"
        stop_hookd "$pid" "$label"
        return 1
    fi
    if [ "$(echo "$m" | cut -d' ' -f2)" -lt 1 ]; then
        problem "$label: the sanity send was not delivered within 5 s (metrics: accepted delivered attempts = $m)"
    fi

    # Load: wrk for DURATION s, sampling /metrics throughout, then wait for the drain.
    local a0 d0 at0 b0 o0 b_wrk o_wrk t0 a d at t wrk_pid t_wrk a_wrk d_wrk drained=0 samples="$tmp/samples-$run.txt"
    read -r a0 d0 at0 b0 o0 <<<"$(metrics "$port")"
    local cpu0
    cpu0=$(cpu_ticks "$pid")
    t0=$(now)
    echo "$t0 $a0 $d0 $at0" >"$samples"
    # A simple command in the background, so $! is timeout(1) itself, which passes
    # the cleanup's SIGTERM on to wrk.
    env BENCH_EXPECT=202 BENCH_ENDPOINT_ID="$ep_id" BENCH_API_KEY="$key" \
        timeout $((DURATION + 30)) wrk "${WRK_OPTS[@]}" "http://127.0.0.1:$port" \
        >"$tmp/wrk-hookd-$run.txt" 2>&1 &
    wrk_pid=$!
    pids+=("$wrk_pid")
    while kill -0 "$wrk_pid" 2>/dev/null; do
        sleep 0.5
        t=$(now)
        m=$(metrics "$port" || true)
        echo "$t $m" >>"$samples"
    done
    wait "$wrk_pid" || problem "$label: wrk exited with status $?"
    forget_pid "$wrk_pid"
    t_wrk=$(now)
    m=$(metrics "$port" || true)
    if ! kill -0 "$pid" 2>/dev/null || [ -z "$m" ] || [ "$m" = missing ]; then
        problem "$label: hookd gone or /metrics unanswered after the load; log: $(tail -n 5 "$logf" | tr '\n' ' ')"
        parse_wrk "$tmp/wrk-hookd-$run.txt" sends_failed "$label (1) sends" || true
        stop_hookd "$pid" "$label"
        return 1
    fi
    read -r a_wrk d_wrk at b_wrk o_wrk <<<"$m"
    if [ "$b0" -ge 0 ] && [ "$b_wrk" -gt "$b0" ]; then
        # Group commit at work: commits/s during the load and write ops per commit
        # (sends plus delivery results), next to SQLite's fsyncs/s ceiling.
        record commits_rps "$(awk -v n="$((b_wrk - b0))" -v t0="$t0" -v t="$t_wrk" \
            'BEGIN { printf "%.1f", n / (t - t0) }')"
        record ops_per_commit "$(awk -v o="$((o_wrk - o0))" -v b="$((b_wrk - b0))" \
            'BEGIN { printf "%.1f", o / b }')"
    fi
    echo "$t_wrk $a_wrk $d_wrk $at" >>"$samples"
    parse_wrk "$tmp/wrk-hookd-$run.txt" sends "$label (1) sends" || true
    a=$a_wrk
    d=$d_wrk
    t=$t_wrk
    local deadline
    deadline=$(awk -v t="$t_wrk" -v w="$DRAIN_TIMEOUT" 'BEGIN { printf "%.3f", t + w }')
    while :; do
        if [ "$((d - d0))" -ge "$((a - a0))" ]; then
            drained=1
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            problem "$label: hookd died during the drain; log: $(tail -n 5 "$logf" | tr '\n' ' ')"
            break
        fi
        awk -v t="$t" -v d="$deadline" 'BEGIN { exit !(t >= d) }' && break
        sleep 0.1
        t=$(now)
        m=$(metrics "$port" || true)
        if [ -z "$m" ] || [ "$m" = missing ]; then
            continue
        fi
        read -r a d at _ _ <<<"$m"
        echo "$t $a $d $at" >>"$samples"
    done

    local sent=$((a - a0)) delivered=$((d - d0)) attempts=$((at - at0)) cpu_both
    cpu_both=$(cpu_us_per "$cpu0" "$(cpu_ticks "$pid")" "$sent")
    if [ "$drained" = 1 ]; then
        [ -n "$cpu_both" ] && record cpu_us_both "$cpu_both"
        record deliveries_rps "$(awk -v n="$delivered" -v t0="$t0" -v t="$t" \
            'BEGIN { printf "%.1f", n / (t - t0) }')"
        record drain_s "$(awk -v a="$t_wrk" -v b="$t" 'BEGIN { printf "%.2f", b - a }')"
    else
        problem "$label: deliveries did not drain within ${DRAIN_TIMEOUT} s after wrk stopped: $delivered of $sent delivered, $attempts attempts"
    fi
    record metrics_sends_rps "$(awk -v n="$((a_wrk - a0))" -v t0="$t0" -v t="$t_wrk" \
        'BEGIN { printf "%.1f", n / (t - t0) }')"
    record backlog_at_wrk_end "$((a_wrk - d_wrk))"
    # Counter consistency: every 202 that wrk saw must be counted as accepted, and
    # nothing can be delivered that was not accepted (one message, one delivery).
    local wrk_ok
    wrk_ok=$(kv expected "$(grep '^BENCH_RESULT' "$tmp/wrk-hookd-$run.txt" || true)")
    if [ -n "$wrk_ok" ] && [ "$sent" -lt "$wrk_ok" ]; then
        problem "$label: hookd_sends_accepted_total rose by $sent but wrk received $wrk_ok 202 answers"
    fi
    if [ "$delivered" -gt "$sent" ]; then
        problem "$label: hookd_deliveries_succeeded_total rose by $delivered, more than hookd_sends_accepted_total ($sent): $((delivered - sent)) sends uncounted or delivered twice"
    fi
    if [ "$attempts" -ne "$delivered" ]; then
        problem "$label: $((attempts - delivered)) delivery attempts did not succeed ($attempts attempts, $delivered succeeded)"
    fi
    log "$label (2) deliveries: $delivered of $sent in $(awk -v t0="$t0" -v t="$t" \
        'BEGIN { printf "%.2f", t - t0 }') s, backlog at wrk end $((a_wrk - d_wrk)), drained=$drained"
    if [ "$drained" = 1 ] && [ "${BENCH_BACKLOG:-1}" = 1 ]; then
        backlog_phase "$run" "$port" "$key" "$ep_id" "$pid" || true
    fi
    if grep -qiE 'level=(error|fatal)|panic|assert|sanitizer' "$logf"; then
        problem "$label: hookd log has errors: $(grep -iE 'level=(error|fatal)|panic|assert|sanitizer' "$logf" | head -n 3 | tr '\n' ' ')"
    fi
    stop_hookd "$pid" "$label"
    rm -rf "$data"
}

# ---- the runs -----------------------------------------------------------------------
start_nginx
log "nginx receiver on 127.0.0.1:$NGINX_PORT; $RUNS runs of ${DURATION} s measurements"
for run in $(seq "$RUNS"); do
    log "---- run $run of $RUNS"
    # Other load on the machine skews every figure: say so in the report.
    note_if_busy "run $run"
    # (a) wrk ceiling: identical requests, nginx answers 204.
    run_wrk "$tmp/wrk-nginx-$run.txt" "http://127.0.0.1:$NGINX_PORT" 204 ||
        problem "run $run (a): wrk exited with status $?"
    parse_wrk "$tmp/wrk-nginx-$run.txt" wrk_ceiling "run $run (a) wrk ceiling" || true

    # (b) curl multi ceiling.
    out=$(timeout $((DURATION + 30)) "$tmp/curl_sender" "http://127.0.0.1:$NGINX_PORT/hook" \
        -c "$CURL_CONC" -d "$DURATION" -s 2>"$tmp/curl-$run.err") ||
        problem "run $run (b): curl_sender failed: $(cat "$tmp/curl-$run.err")"
    if [ -n "$out" ]; then
        record curl_ceiling_rps "$(kv req_per_s "$out")"
        record cpu_us_curl "$(kv cpu_us_per_req "$out")"
        log "run $run (b) curl ceiling: $out"
    fi

    # (d) bare libmicrohttpd + jansson: same wrk command, its CPU per answer.
    mhd_ceiling_run "$run" || true

    # (c) SQLite ceilings, fresh database files each time.
    for batch in 1 64; do
        out=$("$tmp/sqlite_ceiling" "$tmp/sqlite-$run-$batch.db" -b "$batch" \
            -d "$SQLITE_DURATION") || problem "run $run (c): sqlite_ceiling -b $batch failed"
        rm -f "$tmp/sqlite-$run-$batch.db"*
        if [ -n "$out" ]; then
            if [ "$batch" = 1 ]; then
                record sqlite_fsyncs "$(kv txns_per_s "$out")"
            else
                record sqlite_rows64 "$(kv rows_per_s "$out")"
                record sqlite_txns64 "$(kv txns_per_s "$out")"
            fi
            log "run $run (c) sqlite batch $batch: $out"
        fi
    done

    # (1) + (2) hookd.
    if [ "$ceilings_only" = 0 ]; then
        run_hookd "$run" || true
    fi
done

# ---- report -------------------------------------------------------------------------
ratio() {
    awk -v a="$(median "$1")" -v b="$(median "$2")" \
        'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else print "-" }'
}
# times A B: median A / median B as "N.N×" (how many times the ceiling's CPU hookd spends).
times() {
    awk -v a="$(median "$1")" -v b="$(median "$2")" \
        'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f×", a / b; else print "-" }'
}
sum_of() {
    awk -v a="$(median "$1")" -v b="$(median "$2")" \
        'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a + b; else print "n/a" }'
}
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
report="$tmp/report.md"
{
    echo "### hookd benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $cpu, kernel $(uname -r)"
    echo "- tools: $(wrk -v 2>&1 | head -n1 | awk '{print "wrk", $2}'), $(nginx -v 2>&1 | sed 's/.*: //'), libcurl $(pkg-config --modversion libcurl), SQLite $(pkg-config --modversion sqlite3)"
    if [ "$ceilings_only" = 0 ]; then
        echo "- hookd: $(timeout 5 "$HOOKD_BIN" version 2>/dev/null | head -n1 || echo '?') ($HOOKD_SRC, built $(date -u -r "$HOOKD_SRC" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?'), git HEAD $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    fi
    echo "- command: \`make bench\` (bench/run.sh; BENCH_RUNS=$RUNS BENCH_DURATION=$DURATION${BENCH_HOOKD_FLAGS:+ BENCH_HOOKD_FLAGS=\"$BENCH_HOOKD_FLAGS\"}${BENCH_ENDPOINT_FIELDS:+ BENCH_ENDPOINT_FIELDS='$BENCH_ENDPOINT_FIELDS'}${BENCH_UNIQUE:+ BENCH_UNIQUE=$BENCH_UNIQUE}); wrk ${WRK_OPTS[*]/#$here\//bench/}"
    if [ "$ceilings_only" = 0 ]; then
        echo "- hookd command: \`hookd serve --listen 127.0.0.1:0 --data TMP --allow-http --allow-private-networks --log-level warn${HOOKD_FLAGS:+ $HOOKD_FLAGS}\`, one endpoint → nginx, fresh data dir per run"
    fi
    echo "- medians of $RUNS runs (runs interleaved: a, b, c, hookd; then again); \"runs\" lists each run's value"
    echo
    echo "| figure | median | runs | ceiling | median | runs | hookd / ceiling |"
    echo "|---|---:|---|---|---:|---|---:|"
    if [ "$ceilings_only" = 0 ]; then
        echo "| (1) durable sends/s (wrk -c$CONNS) | $(median sends_rps) | $(runs_of sends_rps) | (a) wrk → nginx 204 | $(median wrk_ceiling_rps) | $(runs_of wrk_ceiling_rps) | $(ratio sends_rps wrk_ceiling_rps) |"
        echo "| (2) deliveries/s → nginx 204 | $(median deliveries_rps) | $(runs_of deliveries_rps) | (b) signed libcurl multi, $CURL_CONC handles | $(median curl_ceiling_rps) | $(runs_of curl_ceiling_rps) | $(ratio deliveries_rps curl_ceiling_rps) |"
        if [ -s "$tmp/res/paused_sends_rps" ]; then
            echo "| (1b) durable sends/s, endpoint paused | $(median paused_sends_rps) | $(runs_of paused_sends_rps) | (a) | | | $(ratio paused_sends_rps wrk_ceiling_rps) |"
        fi
        if [ -s "$tmp/res/backlog_drain_rps" ]; then
            echo "| (2b) deliveries/s draining a backlog | $(median backlog_drain_rps) | $(runs_of backlog_drain_rps) | (b) | | | $(ratio backlog_drain_rps curl_ceiling_rps) |"
        fi
    else
        echo "| (1) durable sends/s | not run | | (a) wrk → nginx 204 | $(median wrk_ceiling_rps) | $(runs_of wrk_ceiling_rps) | |"
        echo "| (2) deliveries/s | not run | | (b) signed libcurl multi, $CURL_CONC handles | $(median curl_ceiling_rps) | $(runs_of curl_ceiling_rps) | |"
    fi
    echo "| | | | (d) bare libmicrohttpd + jansson 202 | $(median mhd_ceiling_rps) | $(runs_of mhd_ceiling_rps) | |"
    echo "| | | | (c) SQLite fsyncs/s (1 row/txn) | $(median sqlite_fsyncs) | $(runs_of sqlite_fsyncs) | |"
    echo "| | | | (c) SQLite rows/s (64 rows/txn) | $(median sqlite_rows64) | $(runs_of sqlite_rows64) | |"
    echo
    echo "CPU per message: the process's user+system time (/proc/PID/stat, ${CLK_TCK} ticks/s) over the phase / its messages; the last column is hookd's CPU as a multiple of the ceiling's:"
    echo
    echo "| figure | median µs | runs | ceiling | median µs | runs | hookd / ceiling |"
    echo "|---|---:|---|---|---:|---|---:|"
    if [ "$ceilings_only" = 0 ]; then
        echo "| CPU µs per durable send (1b) | $(median cpu_us_send) | $(runs_of cpu_us_send) | (d) bare libmicrohttpd + jansson | $(median cpu_us_mhd) | $(runs_of cpu_us_mhd) | $(times cpu_us_send cpu_us_mhd) |"
        echo "| CPU µs per delivery (2b) | $(median cpu_us_delivery) | $(runs_of cpu_us_delivery) | (b) bare signed libcurl | $(median cpu_us_curl) | $(runs_of cpu_us_curl) | $(times cpu_us_delivery cpu_us_curl) |"
        echo "| CPU µs per send + delivery (1)+(2) | $(median cpu_us_both) | $(runs_of cpu_us_both) | (d) + (b) | $(sum_of cpu_us_mhd cpu_us_curl) | | $(awk -v a="$(median cpu_us_both)" -v b="$(sum_of cpu_us_mhd cpu_us_curl)" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f×", a / b; else print "-" }') |"
    else
        echo "| | | | (d) bare libmicrohttpd + jansson | $(median cpu_us_mhd) | $(runs_of cpu_us_mhd) | |"
        echo "| | | | (b) bare signed libcurl | $(median cpu_us_curl) | $(runs_of cpu_us_curl) | |"
    fi
    echo
    echo "Details (medians):"
    echo
    echo "- wrk latency p50 / p99: hookd sends $(median sends_p50_ms) / $(median sends_p99_ms) ms; nginx ceiling $(median wrk_ceiling_p50_ms) / $(median wrk_ceiling_p99_ms) ms"
    if [ "$ceilings_only" = 0 ]; then
        echo "- sends/s by /metrics in the delivery run: $(median metrics_sends_rps) [$(runs_of metrics_sends_rps)]"
        if [ -s "$tmp/res/commits_rps" ]; then
            echo "- hookd group commit during the load: $(median commits_rps) commits/s [$(runs_of commits_rps)], $(median ops_per_commit) write ops per commit [$(runs_of ops_per_commit)] (hookd_commit_batches_total, hookd_commit_ops_total)"
        fi
        if [ -s "$tmp/res/backlog_size" ]; then
            echo "- (1b)/(2b): sends p50 / p99 with the endpoint paused $(median paused_sends_p50_ms) / $(median paused_sends_p99_ms) ms; backlog drained after resume: $(median backlog_size) messages [$(runs_of backlog_size)]"
            echo "- CPU µs per durable send (1b) by thread (medians): API threads $(median cpu_us_send_api), committer $(median cpu_us_send_committer), delivery threads $(median cpu_us_send_delivery), other $(median cpu_us_send_other)"
            echo "- CPU µs per delivery (2b) by thread (medians): API threads $(median cpu_us_delivery_api), committer $(median cpu_us_delivery_committer), delivery threads $(median cpu_us_delivery_delivery), other $(median cpu_us_delivery_other)"
        fi
        echo "- undelivered backlog when wrk stopped: $(median backlog_at_wrk_end) messages [$(runs_of backlog_at_wrk_end)]; drain after wrk stopped: $(median drain_s) s [$(runs_of drain_s)]"
    fi
    echo "- SQLite 64 rows/txn: $(median sqlite_txns64) commits/s [$(runs_of sqlite_txns64)]"
    report_notes_and_problems
} >"$report"

mkdir -p "$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$report" "$here/results/$stamp.md"
for f in "$tmp"/wrk-*.txt "$tmp"/samples-*.txt "$tmp"/hookd-*.log; do
    [ -e "$f" ] && mkdir -p "$here/results/$stamp" && cp "$f" "$here/results/$stamp/"
done
cat "$report"
log "report saved to bench/results/$stamp.md"
[ "${#problems[@]}" -eq 0 ]
