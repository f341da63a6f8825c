#!/usr/bin/env bash
# bench/fanout.sh - publishing with fan-out (issue 7; `make bench-fanout`).
#
# For each fan-out F in FANOUT_SIZES (default "1 10 100"): a fresh hookd, one
# application with F endpoints that all receive the event type, each pointing at a
# static nginx answering 204. wrk -t2 -c16 publishes events through the Svix
# surface (bench/publish.lua) for FANOUT_DURATION s (default 4); then hookd drains
# the deliveries. Figures per F (medians of FANOUT_RUNS, default 3, runs interleaved):
#   events/s     wrk's Requests/sec (every answer must be 202)
#   deliveries/s F x events accepted / (wrk start -> the last delivery succeeded)
#   CPU per delivery   hookd's user+system time from wrk start to drained / deliveries
#   CPU per event      the same time / events
# The direct-send figure to compare with is `make bench`'s CPU per send + delivery; or
# put "send" in FANOUT_SIZES: a run of direct sends (POST /v1/webhooks/send to one /v1
# endpoint, bench/send.lua) with the same wrk command and the same figures, its rows
# interleaved with the others, for a comparison in one sitting on one harness.
# Every wait is bounded (drain: 120 s). Loopback only; a temp dir removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HOOKD_BIN=${HOOKD_BIN:-$here/../hookd}
SIZES=${FANOUT_SIZES:-1 10 100}
RUNS=${FANOUT_RUNS:-3}
DURATION=${FANOUT_DURATION:-4}
for tool in wrk nginx curl jq; do
    command -v "$tool" >/dev/null || {
        echo "fanout.sh: $tool is missing (make bench-deps)" >&2
        exit 2
    }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookd-fanout.XXXXXX")
mkdir -p "$tmp/res" "$tmp/nginx/logs"
HOOKD_FLAGS="--api-rate-limit 0"
LIB_TAG=fanout
LIB_KEEP=0
LIB_RUNS_SEP=" · "
. "$here/lib.sh"
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
metric() {
    curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}
api() { # api PORT KEY METHOD PATH [BODY]
    curl -s -X "$3" "http://127.0.0.1:$1$4" -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' ${5:+-d "$5"}
}

one_run() {
    local f=$1 data key pid port app t0 t1 s0 s1 rps events want got deadline
    data=$(mktemp -d "$tmp/data.XXXXXX")
    key=$(new_key)
    launch_hookd "$data" "$data/log" "$key"
    pid=$hookd_pid
    port=$hookd_port
    [ -n "$port" ] || { problem "hookd did not start: $(tail -n 3 "$data/log")"; return 1; }
    local script=$here/publish.lua ep= fan=$f
    if [ "$f" = send ]; then # direct sends: one /v1 endpoint, one delivery per request
        fan=1
        script=$here/send.lua
        ep=$(api "$port" "$key" POST /v1/endpoints \
            "{\"url\":\"http://127.0.0.1:$NGINX_PORT/hook\"}" | jq -r '.data.id // .id')
    else
        app=$(api "$port" "$key" POST /api/v1/app '{"name":"bench"}' | jq -r .id)
        for i in $(seq "$f"); do
            api "$port" "$key" POST "/api/v1/app/$app/endpoint" \
                "{\"url\":\"http://127.0.0.1:$NGINX_PORT/e$i\"}" >/dev/null
        done
    fi
    s0=$(metric "$port" hookd_deliveries_succeeded_total)
    t0=$(ticks "$pid")
    local start end
    start=$(date +%s.%N)
    BENCH_APP=${app:-} BENCH_ENDPOINT_ID=$ep BENCH_API_KEY=$key wrk -t2 -c16 -d"${DURATION}s" \
        -s "$script" "http://127.0.0.1:$port" >"$data/wrk.txt"
    grep -q 'Non-2xx' "$data/wrk.txt" && problem "F=$f: wrk saw non-2xx answers"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$data/wrk.txt")
    events=$(awk '/requests in/ { print $1 }' "$data/wrk.txt")
    want=$((s0 + events * fan))
    deadline=$(($(date +%s) + 120))
    got=$s0
    while [ "$got" -lt "$want" ] && [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 0.1
        got=$(metric "$port" hookd_deliveries_succeeded_total)
    done
    end=$(date +%s.%N)
    t1=$(ticks "$pid")
    [ "$got" -ge "$want" ] || problem "F=$f: $((got - s0)) of $((want - s0)) deliveries after 120 s"
    s1=$got
    local n=$((s1 - s0))
    record "eps_$f" "$rps"
    record "dps_$f" "$(awk -v n="$n" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')"
    record "cpud_$f" "$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
    record "cpue_$f" "$(awk -v t=$((t1 - t0)) -v n="$events" -v hz="$hz" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
    log "F=$f: $rps events/s, $n deliveries"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$data"
}

start_nginx
for r in $(seq "$RUNS"); do
    for f in $SIZES; do
        note_if_busy "run $r, F=$f"
        one_run "$f" || true
    done
done

echo "### hookd publishing with fan-out, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- hookd: $HOOKD_BIN (git HEAD $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')); \`bench/fanout.sh\` (FANOUT_SIZES=\"$SIZES\" FANOUT_RUNS=$RUNS FANOUT_DURATION=$DURATION); wrk -t2 -c16 publishing through /api/v1; endpoints → nginx 204"
echo
echo "| fan-out | events/s | deliveries/s | CPU µs per delivery | runs | CPU µs per event |"
echo "|---:|---:|---:|---:|---|---:|"
for f in $SIZES; do
    echo "| $f | $(median "eps_$f") | $(median "dps_$f") | $(median "cpud_$f") | $(runs_of "cpud_$f") | $(median "cpue_$f") |"
done
report_notes_and_problems
[ "${#problems[@]}" -eq 0 ]
