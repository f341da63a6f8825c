#!/usr/bin/env bash
# bench/faulty.sh - a healthy endpoint's send -> receipt latency, alone and beside nine
# faulty endpoints with backlogs (invoked by `make bench-faulty`).
#
# What it measures, FAULTY_RUNS times (default 3, a fresh hookd each run), reported as
# medians with the ratio beside / alone from the same run:
#   alone   FAULTY_N (2,000) messages sent to one endpoint whose receiver
#           (bench/latency_receiver.mjs, its own process) answers 204 at once, paced at
#           FAULTY_RATE (200)/s. Latency = receipt of the delivery at the receiver
#           (headers arrived) minus the moment the client started the send request to
#           hookd (both on CLOCK_MONOTONIC; the send time travels in the payload). So it
#           includes hookd's durable commit, the dispatch and the POST. p50 / p99 / max.
#   beside  then, on the same hookd, nine more endpoints pointing at
#           bench/faulty_receivers.mjs: connection reset, hang (never answers), slowloris
#           (one byte a second), a 10 MB body, garbage bytes, self-signed TLS, 410,
#           connection refused, 301. Each gets FAULTY_PRELOAD (200) messages at once (a
#           backlog), then a steady FAULTY_STREAM_RATE (10)/s each until the end; after
#           FAULTY_WARMUP (5) s the same FAULTY_N paced messages go to the healthy
#           endpoint and are timed the same way.
# The issue's figures (ARCHITECTURE §3): about 25 ms p99 alone -> 140 ms beside today;
# aim <= 30 ms beside.
#
# hookd runs as `hookd serve --listen 127.0.0.1:0 --data <fresh tmp dir> --allow-http
# --allow-private-networks --log-level warn --shutdown-grace 1s`, plus `--api-rate-limit
# 0` when the binary has that flag, plus FAULTY_HOOKD_FLAGS; everything else default
# (retries: failed attempts wait 30 min, so each faulty message costs one attempt here).
# The self-signed certificate is made with the openssl CLI in the temp dir.
#
# Everything runs on loopback in a mktemp -d directory and every child process is
# stopped on exit (trap). One run takes about 40 s; the whole script stays under 3 min
# with the defaults, and every wait is bounded.
#
# Usage: bench/faulty.sh
# Environment:
#   HOOKD_BIN            hookd binary (default: ./hookd at the repo root)
#   FAULTY_RUNS          runs (default 3)
#   FAULTY_N             timed messages per phase (default 2000)
#   FAULTY_RATE          their pace, messages/s (default 200)
#   FAULTY_PRELOAD       messages sent to each faulty endpoint at once (default 200)
#   FAULTY_STREAM_RATE   then messages/s to each faulty endpoint (default 10)
#   FAULTY_WARMUP        seconds between the faulty load starting and the timed sends (5)
#   FAULTY_KINDS         only these faulty receivers, comma-separated (default: all nine:
#                        reset,hang,slowloris,big,garbage,tls,gone,refused,redirect)
#   FAULTY_HOOKD_FLAGS   extra flags for `hookd serve`, e.g. "--delivery-threads 2"
#   FAULTY_KEEP_TMP=1    keep the temp dir (logs) after the run
# Output: a Markdown report on stdout, also saved as bench/results/faulty-<UTC time>.md
# (gitignored). Exit status 1 if a check failed (healthy messages not all received,
# sends refused, hookd crashing or logging errors).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
HOOKD_BIN=${HOOKD_BIN:-$root/hookd}
RUNS=${FAULTY_RUNS:-3}
N=${FAULTY_N:-2000}
RATE=${FAULTY_RATE:-200}
PRELOAD=${FAULTY_PRELOAD:-200}
STREAM_RATE=${FAULTY_STREAM_RATE:-10}
WARMUP=${FAULTY_WARMUP:-5}
HOOKD_FLAGS=${FAULTY_HOOKD_FLAGS:-}
KINDS=${FAULTY_KINDS:-}
COLLECT=10 # seconds to wait for the last healthy deliveries of a phase

for tool in node openssl curl awk; do
    command -v "$tool" >/dev/null || {
        echo "faulty.sh: '$tool' not found" >&2
        exit 2
    }
done
if [ ! -x "$HOOKD_BIN" ]; then
    echo "faulty.sh: no hookd binary at $HOOKD_BIN (run 'make')" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookd-faulty.XXXXXX")
mkdir -p "$tmp/res"
cp "$HOOKD_BIN" "$tmp/hookd" # a private copy: a rebuild during the run changes nothing
HOOKD_SRC=$HOOKD_BIN
HOOKD_BIN=$tmp/hookd
if "$HOOKD_BIN" serve --help 2>&1 | grep -q -- '--api-rate-limit'; then
    HOOKD_FLAGS="--api-rate-limit 0${HOOKD_FLAGS:+ $HOOKD_FLAGS}"
fi
HOOKD_FLAGS="--shutdown-grace 1s${HOOKD_FLAGS:+ $HOOKD_FLAGS}"
LIB_TAG=faulty
LIB_KEEP=${FAULTY_KEEP_TMP:-0}
LIB_RUNS_SEP=" · "
LIB_DECIMALS=1
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# wait_line FILE SECONDS PID: first line of FILE once written (empty on timeout/exit).
wait_line() {
    for _ in $(seq $(($2 * 10))); do
        if [ -s "$1" ] && [ "$(wc -l <"$1")" -ge 1 ]; then
            head -n1 "$1"
            return
        fi
        kill -0 "$3" 2>/dev/null || return 0
        sleep 0.1
    done
}
# stop PID: SIGTERM, SIGKILL after 15 s, reap, forget.
stop() {
    local pid=$1 keep=() p
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

# ---- receivers ------------------------------------------------------------------------
log "self-signed certificate, receivers"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=hookd-bench-self-signed" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
    >"$tmp/openssl.log" 2>&1 || {
    echo "faulty.sh: openssl could not make a certificate: $(cat "$tmp/openssl.log")" >&2
    exit 1
}
node "$here/latency_receiver.mjs" >"$tmp/healthy.out" 2>"$tmp/healthy.err" &
healthy_pid=$!
pids+=("$healthy_pid")
node "$here/faulty_receivers.mjs" "$tmp" >"$tmp/faulty.out" 2>"$tmp/faulty.err" &
faulty_pid=$!
pids+=("$faulty_pid")
healthy_url=$(wait_line "$tmp/healthy.out" 10 "$healthy_pid" | sed 's/.*"url":"\([^"]*\)".*/\1/')
faulty_urls=$(wait_line "$tmp/faulty.out" 10 "$faulty_pid")
if [ -z "$healthy_url" ] || [ -z "$faulty_urls" ]; then
    echo "faulty.sh: receivers did not start: $(cat "$tmp/healthy.err" "$tmp/faulty.err")" >&2
    exit 1
fi
log "healthy receiver $healthy_url; faulty: $faulty_urls"

# ---- one run ---------------------------------------------------------------------------
run_once() {
    local run=$1 label="run $1" data logf key pid port out
    data="$tmp/data-$run"
    logf="$tmp/hookd-$run.log"
    key=$(new_key)
    launch_hookd "$data" "$logf" "$key"
    pid=$hookd_pid
    port=$hookd_port
    if [ -z "$port" ]; then
        problem "$label: hookd did not report 'listening on' within 10 s: $(tail -n 5 "$logf" | tr '\n' ' ')"
        stop "$pid"
        return 1
    fi
    local cfg
    local kinds_json=null
    [ -n "$KINDS" ] && kinds_json="[\"$(printf '%s' "$KINDS" | sed 's/,/","/g')\"]"
    cfg=$(printf '{"base":"http://127.0.0.1:%s","key":"%s","run":%s,"healthy":"%s","faulty":%s,"kinds":%s,"n":%s,"rate":%s,"faultyRate":%s,"preload":%s,"warmupS":%s,"collectS":%s}' \
        "$port" "$key" "$run" "$healthy_url" "$faulty_urls" "$kinds_json" "$N" "$RATE" \
        "$STREAM_RATE" "$PRELOAD" "$WARMUP" "$COLLECT")
    local bound=$((2 * N / RATE + WARMUP + 2 * COLLECT + 40))
    out=$(timeout "$bound" node "$here/faulty_client.mjs" "$cfg" 2>"$tmp/client-$run.err") ||
        problem "$label: faulty_client failed or took over $bound s: $(head -c 400 "$tmp/client-$run.err")"
    echo "$out" >"$tmp/client-$run.json"
    if ! kill -0 "$pid" 2>/dev/null; then
        problem "$label: hookd died: $(tail -n 5 "$logf" | tr '\n' ' ')"
    fi
    stop "$pid"
    if grep -qiE 'level=(error|fatal)|panic|assert|sanitizer' "$logf"; then
        problem "$label: hookd log has errors: $(grep -iE 'level=(error|fatal)|panic|assert|sanitizer' "$logf" | head -n 3 | tr '\n' ' ')"
    fi
    [ -n "$out" ] || return 1
    # Record the figures and check that every timed message arrived.
    local line
    line=$(node -e '
        const r = JSON.parse(process.argv[1]);
        const f = (x) => (x == null ? "" : x.toFixed(3));
        console.log([r.alone.sent, r.alone.received, f(r.alone.p50_ms), f(r.alone.p99_ms), f(r.alone.max_ms),
            r.beside.sent, r.beside.received, f(r.beside.p50_ms), f(r.beside.p99_ms), f(r.beside.max_ms),
            r.faulty_sent, r.faulty_rejected, r.send_errors, JSON.stringify(r.first_error ?? "")].join(" "));
    ' "$out")
    local as ar a50 a99 amax bs br b50 b99 bmax fs se fe
    read -r as ar a50 a99 amax bs br b50 b99 bmax fs _ se fe <<<"$line"
    [ "$ar" -ge "$N" ] || problem "$label: alone: $ar of $N healthy messages received ($as accepted)"
    [ "$br" -ge "$N" ] || problem "$label: beside: $br of $N healthy messages received ($bs accepted)"
    [ "$se" = 0 ] || problem "$label: $se sends not answered 202 (first: $fe)"
    [ -n "$a99" ] && record alone_p50 "$a50" && record alone_p99 "$a99" && record alone_max "$amax"
    [ -n "$b99" ] && record beside_p50 "$b50" && record beside_p99 "$b99" && record beside_max "$bmax"
    if [ -n "$a99" ] && [ -n "$b99" ]; then
        record ratio_p99 "$(awk -v a="$a99" -v b="$b99" 'BEGIN { printf "%.2f", b / a }')"
        record ratio_p50 "$(awk -v a="$a50" -v b="$b50" 'BEGIN { printf "%.2f", b / a }')"
    fi
    record faulty_sent "$fs"
    log "$label: alone p50 ${a50} p99 ${a99} ms; beside p50 ${b50} p99 ${b99} ms; $fs faulty messages sent"
}

for run in $(seq "$RUNS"); do
    log "---- run $run of $RUNS"
    note_if_busy "run $run"
    run_once "$run" || true
done
stop "$faulty_pid"
conns=$(tail -n1 "$tmp/faulty.out")
stop "$healthy_pid"

# ---- report ----------------------------------------------------------------------------
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
report="$tmp/report.md"
{
    echo "### hookd faulty-endpoints benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $cpu, kernel $(uname -r), node $(node --version)"
    echo "- hookd: $(timeout 5 "$HOOKD_BIN" version 2>/dev/null | head -n1 || echo '?') ($HOOKD_SRC, git HEAD $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "- command: \`make bench-faulty\` (bench/faulty.sh; FAULTY_RUNS=$RUNS FAULTY_N=$N FAULTY_RATE=$RATE FAULTY_PRELOAD=$PRELOAD FAULTY_STREAM_RATE=$STREAM_RATE FAULTY_WARMUP=$WARMUP${KINDS:+ FAULTY_KINDS=$KINDS}${FAULTY_HOOKD_FLAGS:+ FAULTY_HOOKD_FLAGS=\"$FAULTY_HOOKD_FLAGS\"})"
    echo "- hookd command: \`hookd serve --listen 127.0.0.1:0 --data TMP --allow-http --allow-private-networks --log-level warn $HOOKD_FLAGS\`, fresh data dir per run"
    echo "- latency = receipt at the healthy receiver minus the start of the send request to hookd (CLOCK_MONOTONIC); $N messages per phase at $RATE/s; medians of $RUNS runs"
    echo "- faulty receivers' connections over all runs: \`$conns\`"
    echo
    echo "| healthy endpoint send → receipt | p50 ms | p99 ms | max ms | runs (p99) |"
    echo "|---|---:|---:|---:|---|"
    echo "| alone | $(median alone_p50) | $(median alone_p99) | $(median alone_max) | $(runs_of alone_p99) |"
    echo "| beside ${KINDS:-9 faulty endpoints} | $(median beside_p50) | $(median beside_p99) | $(median beside_max) | $(runs_of beside_p99) |"
    echo "| beside / alone (same run) | $(median ratio_p50)× | $(median ratio_p99)× | | $(runs_of ratio_p99) |"
    echo
    echo "Faulty messages accepted per run: $(runs_of faulty_sent | sed 's/\.0//g')."
    report_notes_and_problems
} >"$report"
mkdir -p "$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$report" "$here/results/faulty-$stamp.md"
cat "$report"
log "report saved to bench/results/faulty-$stamp.md"
[ "${#problems[@]}" -eq 0 ]
