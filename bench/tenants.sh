#!/usr/bin/env bash
# bench/tenants.sh - many applications (issue 7; `make bench-tenants`): publish and
# list latency with TENANTS_APPS applications of 3 endpoints each (default "1 10000").
#
# For each count N: a fresh hookd, N applications x 3 endpoints (bench/make_tenants.mjs,
# endpoints → a static nginx answering 204), then, on the last application made:
#   publish   wrk -t2 -c16 -d TENANTS_DURATION s (default 4) --latency, bench/publish.lua:
#             events/s, p50 and p99 of the 202
#   messages  wrk -t2 -c16 GET /api/v1/app/{app}/msg?limit=50: p50, p99
#   endpoints wrk -t2 -c16 GET /api/v1/app/{app}/endpoint?limit=50: p50, p99
#   apps      wrk -t2 -c16 GET /api/v1/app?limit=50 (the first page): p50, p99
# Medians of TENANTS_RUNS (default 3) runs of the measurements on the same store (the
# store is built once per N). Loopback only; every wait is bounded; a temp dir
# removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HOOKD_BIN=${HOOKD_BIN:-$here/../hookd}
COUNTS=${TENANTS_APPS:-1 10000}
RUNS=${TENANTS_RUNS:-3}
DURATION=${TENANTS_DURATION:-4}
for tool in wrk nginx curl node; do
    command -v "$tool" >/dev/null || {
        echo "tenants.sh: $tool is missing (make bench-deps)" >&2
        exit 2
    }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookd-tenants.XXXXXX")
mkdir -p "$tmp/res" "$tmp/nginx/logs"
HOOKD_FLAGS="--api-rate-limit 0"
LIB_TAG=tenants
LIB_KEEP=0
LIB_RUNS_SEP=" · "
. "$here/lib.sh"

# ms VALUE: wrk's latency ("812.00us", "3.41ms", "1.02s") in ms
ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.2f", n }'; }
wrk_latency() { # wrk_latency OUT TAG: record TAG_p50 and TAG_p99 from wrk --latency output OUT
    record "${2}_p50" "$(ms "$(awk '$1 == "50%" { print $2 }' "$1")")"
    record "${2}_p99" "$(ms "$(awk '$1 == "99%" { print $2 }' "$1")")"
    grep -q 'Non-2xx' "$1" && problem "$2: wrk saw non-2xx answers"
    return 0
}

start_nginx
for n in $COUNTS; do
    data=$(mktemp -d "$tmp/data.XXXXXX")
    key=$(new_key)
    launch_hookd "$data" "$data/log" "$key"
    pid=$hookd_pid
    port=$hookd_port
    [ -n "$port" ] || { problem "hookd did not start: $(tail -n 3 "$data/log")"; continue; }
    t0=$(date +%s)
    node "$here/make_tenants.mjs" "$port" "$key" "$n" "http://127.0.0.1:$NGINX_PORT" >"$data/apps"
    log "N=$n: $n applications with 3 endpoints each made in $(($(date +%s) - t0)) s"
    app=$(tail -n 1 "$data/apps")
    for r in $(seq "$RUNS"); do
        note_if_busy "run $r, N=$n"
        BENCH_APP=$app BENCH_API_KEY=$key wrk -t2 -c16 -d"${DURATION}s" --latency \
            -s "$here/publish.lua" "http://127.0.0.1:$port" >"$data/pub.txt"
        record "eps_$n" "$(awk '/^Requests\/sec:/ { print $2 }' "$data/pub.txt")"
        wrk_latency "$data/pub.txt" "pub_$n"
        for what in "msg:/api/v1/app/$app/msg?limit=50" "ep:/api/v1/app/$app/endpoint?limit=50" \
            "apps:/api/v1/app?limit=50"; do
            BENCH_PATH=${what#*:} BENCH_API_KEY=$key wrk -t2 -c16 -d"${DURATION}s" --latency \
                -s "$here/list_msgs.lua" "http://127.0.0.1:$port" >"$data/list.txt"
            wrk_latency "$data/list.txt" "${what%%:*}_$n"
        done
    done
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$data"
done

echo "### hookd with many applications, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- hookd: $HOOKD_BIN (git HEAD $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')); \`bench/tenants.sh\` (TENANTS_APPS=\"$COUNTS\" TENANTS_RUNS=$RUNS TENANTS_DURATION=$DURATION); wrk -t2 -c16 on the last application made; 3 endpoints per application → nginx 204; latencies in ms, medians of the runs' p50 / p99"
echo
echo "| applications | publish events/s | publish p50 / p99 | messages list p50 / p99 | endpoints list p50 / p99 | applications list p50 / p99 |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $COUNTS; do
    echo "| $n | $(median "eps_$n") | $(median "pub_${n}_p50") / $(median "pub_${n}_p99") | $(median "msg_${n}_p50") / $(median "msg_${n}_p99") | $(median "ep_${n}_p50") / $(median "ep_${n}_p99") | $(median "apps_${n}_p50") / $(median "apps_${n}_p99") |"
done
report_notes_and_problems
[ "${#problems[@]}" -eq 0 ]
