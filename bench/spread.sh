#!/usr/bin/env bash
# bench/spread.sh - CPU per durable send when the sends are spread over many endpoints
# (issue 6 §4: per-endpoint state must not make each send dearer).
#
# For each N in SPREAD_ENDPOINTS (default "1 10000"), SPREAD_RUNS times (interleaved):
# a fresh hookd, N endpoints created and paused through the API
# (bench/make_endpoints.mjs, 16 at a time), a 2 s warm-up, then `wrk -t2 -c64` for
# SPREAD_DURATION s with bench/send_many.lua (each request to the next endpoint of the
# list, so consecutive sends of a commit batch hit different endpoints). Prints, per N,
# the median of hookd's CPU µs per accepted send (/proc/PID/stat utime+stime) and of
# sends/s, and the split by thread (API threads, committer, delivery threads).
# Paused endpoints: no deliveries, so this is the send path alone, as (1b) in run.sh.
# BENCH_ENDPOINT_FIELDS (see make_endpoints.mjs) gives every endpoint a policy under test;
# the payload is always the same, so with '"deduplicate":{...}' every send after the
# first is a repeat: the cost of a deduplicated send.
# Loopback only, a mktemp -d directory, every process stopped at exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HOOKD_BIN=${HOOKD_BIN:-$here/../hookd}
ENDPOINTS=${SPREAD_ENDPOINTS:-1 10000}
RUNS=${SPREAD_RUNS:-3}
DURATION=${SPREAD_DURATION:-6}
for tool in wrk node curl jq; do
    command -v "$tool" >/dev/null || {
        echo "spread.sh: $tool is missing (make bench-deps)" >&2
        exit 2
    }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookd-spread.XXXXXX")
mkdir -p "$tmp/res"
HOOKD_FLAGS="--api-rate-limit 0"
LIB_TAG=spread
LIB_KEEP=0
LIB_RUNS_SEP=" · "
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
accepted() {
    curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "hookd_sends_accepted_total" { print $2 }'
}
hz=$(getconf CLK_TCK)
per_us() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN { printf "%.1f\n", t * 1e6 / hz / n }'; }

one_run() {
    local n=$1 data key pid port ids t0 t1 g0 g1 a0 a1 rps
    data=$(mktemp -d "$tmp/data.XXXXXX")
    key=$(new_key)
    launch_hookd "$data" "$data/log" "$key"
    pid=$hookd_pid
    port=$hookd_port
    [ -n "$port" ] || { problem "hookd did not start: $(tail -n 3 "$data/log")"; return 1; }
    ids=$data/ids.txt
    node "$here/make_endpoints.mjs" "$port" "$key" "$n" >"$ids"
    [ "$(wc -l <"$ids")" = "$n" ] || { problem "made $(wc -l <"$ids") of $n endpoints"; return 1; }
    BENCH_IDS_FILE=$ids BENCH_API_KEY=$key wrk -t2 -c64 -d2s -s "$here/send_many.lua" \
        "http://127.0.0.1:$port" >/dev/null
    t0=$(ticks "$pid")
    g0=$(thread_ticks "$pid")
    a0=$(accepted "$port")
    BENCH_IDS_FILE=$ids BENCH_API_KEY=$key wrk -t2 -c64 -d"${DURATION}s" \
        -s "$here/send_many.lua" "http://127.0.0.1:$port" >"$data/wrk.txt"
    t1=$(ticks "$pid")
    g1=$(thread_ticks "$pid")
    a1=$(accepted "$port")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$data/wrk.txt")
    grep -q 'Non-2xx' "$data/wrk.txt" && problem "N=$n: wrk saw non-2xx answers"
    record "rps_$n" "$rps"
    record "cpu_$n" "$(per_us $((t1 - t0)) $((a1 - a0)))"
    read -r -a x0 <<<"$g0"
    read -r -a x1 <<<"$g1"
    record "api_$n" "$(per_us $((x1[0] - x0[0])) $((a1 - a0)))"
    record "committer_$n" "$(per_us $((x1[1] - x0[1])) $((a1 - a0)))"
    record "delivery_$n" "$(per_us $((x1[2] - x0[2])) $((a1 - a0)))"
    log "N=$n: $rps sends/s, $(per_us $((t1 - t0)) $((a1 - a0))) µs CPU per send"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$data"
}

for r in $(seq "$RUNS"); do
    for n in $ENDPOINTS; do
        note_if_busy "run $r, N=$n"
        one_run "$n" || true
    done
done

echo "### hookd sends spread over endpoints, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- hookd: $HOOKD_BIN (git HEAD $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')); \`bench/spread.sh\` (SPREAD_ENDPOINTS=\"$ENDPOINTS\" SPREAD_RUNS=$RUNS SPREAD_DURATION=$DURATION); wrk -t2 -c64; endpoints paused"
echo
echo "| endpoints | sends/s | CPU µs per send | runs | API threads | committer | delivery threads |"
echo "|---:|---:|---:|---|---:|---:|---:|"
for n in $ENDPOINTS; do
    echo "| $n | $(median "rps_$n") | $(median "cpu_$n") | $(runs_of "cpu_$n") | $(median "api_$n") | $(median "committer_$n") | $(median "delivery_$n") |"
done
report_notes_and_problems
[ "${#problems[@]}" -eq 0 ]
