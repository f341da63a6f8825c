#!/usr/bin/env bash
# bench/scale.sh - read latency of the observability API with 1,000,000 messages.
#
# What it does:
#  1. `hookd migrate` creates the schema in a fresh data dir and `hookd keys create`
#     an API key; bench/scale_fill.c then writes SCALE_MESSAGES messages straight into
#     the SQLite store (events, messages, attempts of failed/retrying messages, rollups;
#     ~93% succeeded, ~5% failed_permanent, ~2% pending_retry due in 30 days, 5% in test
#     mode; spread over the last SCALE_DAYS days across SCALE_ENDPOINTS live endpoints).
#  2. It starts `hookd serve` on that store (API rate limit off) and times, with
#     bench/scale_client.mjs (node fetch, one keep-alive connection, sequential), 10
#     warm-up calls then SCALE_CALLS calls of each request below, each call's wall time
#     including reading the body:
#       GET /v1/logs                                first page (50 items)
#       GET /v1/logs?cursor=<deep>                  a page 90% down the newest-first list
#       GET /v1/logs?status=failed_permanent        first page of one status
#       GET /v1/logs?status=…&start_time=…&end_time=…  one status within one day mid-data
#                                                   (PHP-style +00:00 offsets)
#       GET /v1/logs?status=succeeded (first page, and 90% down) and status=pending_retry:
#                                                   succeeded pages walk messages_mode_id,
#                                                   the others the partial messages_mode_status
#       GET /v1/dlq/messages                        first DLQ page (100 items)
#       GET /v1/metrics?window=24h and window=30d
#       GET /v1/metrics/timeseries?window=24h and window=30d
#  3. It reports p50/p99/max per request as Markdown and checks p99 < SCALE_P99_LIMIT_MS.
#
# Everything runs on loopback in a mktemp -d directory and every child process is
# stopped on exit. Each step has a time bound; the whole run takes about one minute on
# 2 CPUs (the fill is most of it) and always less than three.
#
# Usage: bench/scale.sh
# Environment:
#   HOOKD_BIN            hookd binary (default: ./hookd at the repo root)
#   SCALE_MESSAGES       messages in the store (default 1000000)
#   SCALE_ENDPOINTS      live endpoints (default 20; plus one test-mode endpoint)
#   SCALE_DAYS           days the messages are spread over (default 30)
#   SCALE_CALLS          timed calls per request (default 200)
#   SCALE_P99_LIMIT_MS   the p99 every request must stay under (default 50)
#   SCALE_KEEP_TMP=1     keep the temp dir (store, logs) after the run
# Output: a Markdown report on stdout, also saved as bench/results/scale-<UTC time>.md
# (gitignored). Exit status 1 if a check failed (a p99 at or over the limit, a status
# other than 200, hookd crashing or not stopping). A route that still answers 501 is
# reported as not implemented rather than failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
HOOKD_BIN=${HOOKD_BIN:-$root/hookd}
MESSAGES=${SCALE_MESSAGES:-1000000}
ENDPOINTS=${SCALE_ENDPOINTS:-20}
DAYS=${SCALE_DAYS:-30}
CALLS=${SCALE_CALLS:-200}
LIMIT_MS=${SCALE_P99_LIMIT_MS:-50}

for tool in gcc pkg-config node curl awk; do
    command -v "$tool" >/dev/null || {
        echo "scale.sh: '$tool' not found" >&2
        exit 2
    }
done
if [ ! -x "$HOOKD_BIN" ]; then
    echo "scale.sh: no hookd binary at $HOOKD_BIN (run 'make')" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hookd-scale.XXXXXX")
# A private copy: a rebuild of ./hookd during the run changes nothing.
cp "$HOOKD_BIN" "$tmp/hookd"
HOOKD_SRC=$HOOKD_BIN
HOOKD_BIN=$tmp/hookd
LIB_TAG=scale
LIB_KEEP=${SCALE_KEEP_TMP:-0}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# kv KEY FILE: value of a KEY=... line.
kv() { sed -n "s/^$1=//p" "$2" | head -n1; }
# rfc3339 MS: PHP-style (DATE_ATOM) UTC time with a +00:00 offset.
rfc3339() { date -u -d "@$(($1 / 1000))" '+%Y-%m-%dT%H:%M:%S+00:00'; }

# ---- build the fill helper, make the store -------------------------------------------
log "building scale_fill in $tmp"
read -ra sqlite_flags <<<"$(pkg-config --cflags --libs sqlite3)"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -o "$tmp/scale_fill" \
    "$here/scale_fill.c" "${sqlite_flags[@]}"

data="$tmp/data"
timeout 30 "$HOOKD_BIN" migrate --data "$data" 2>"$tmp/migrate.log" || {
    echo "scale.sh: hookd migrate failed: $(cat "$tmp/migrate.log")" >&2
    exit 1
}
key=$(timeout 30 "$HOOKD_BIN" keys create --mode live --label scale --data "$data" 2>>"$tmp/migrate.log")
log "writing $MESSAGES messages over $DAYS days to $ENDPOINTS endpoints"
timeout 120 "$tmp/scale_fill" "$data" -n "$MESSAGES" -e "$ENDPOINTS" -d "$DAYS" >"$tmp/fill.txt" || {
    echo "scale.sh: scale_fill failed or took over 120 s" >&2
    exit 1
}
log "store written in $(kv elapsed_s "$tmp/fill.txt") s: $(du -h "$data/hookd.db" | cut -f1)"

# ---- hookd ------------------------------------------------------------------------------
logf="$tmp/hookd.log"
"$HOOKD_BIN" serve --listen 127.0.0.1:0 --data "$data" --allow-http --allow-private-networks \
    --log-level warn --api-rate-limit 0 2>"$logf" &
hookd_pid=$!
pids+=("$hookd_pid")
port=
for _ in $(seq 300); do
    port=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$logf" 2>/dev/null |
        head -n1 | sed 's/.*://' || true)
    [ -n "$port" ] && break
    kill -0 "$hookd_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "scale.sh: hookd did not report 'listening on' within 30 s: $(tail -n 5 "$logf")" >&2
    exit 1
fi
base="http://127.0.0.1:$port"

deep=$(kv deep_cursor "$tmp/fill.txt")
mid=$(kv mid_time_ms "$tmp/fill.txt")
day_from=$(rfc3339 "$mid")
day_to=$(rfc3339 $((mid + 86400000)))
enc() { printf '%s' "$1" | sed 's/+/%2B/g; s/:/%3A/g'; }
requests=(
    "logs, first page=/v1/logs"
    "logs, deep cursor=/v1/logs?cursor=$deep"
    "logs, status=failed_permanent=/v1/logs?status=failed_permanent"
    "logs, status + one day mid-data=/v1/logs?status=failed_permanent&start_time=$(enc "$day_from")&end_time=$(enc "$day_to")"
    "logs, status=succeeded=/v1/logs?status=succeeded"
    "logs, status=succeeded, deep cursor=/v1/logs?status=succeeded&cursor=$deep"
    "logs, status=pending_retry=/v1/logs?status=pending_retry"
    "DLQ page=/v1/dlq/messages"
    "metrics, 24h=/v1/metrics?window=24h"
    "metrics, 30d=/v1/metrics?window=30d"
    "timeseries, 24h=/v1/metrics/timeseries?window=24h"
    "timeseries, 30d=/v1/metrics/timeseries?window=30d"
)
log "timing ${#requests[@]} requests x $CALLS calls against $base"
timeout 90 node "$here/scale_client.mjs" "$base" "$key" "$CALLS" "${requests[@]}" \
    >"$tmp/results.jsonl" 2>"$tmp/client.log" || problem "scale_client failed: $(head -c 400 "$tmp/client.log")"
curl -s --max-time 5 -H "Authorization: Bearer $key" "$base/v1/metrics?window=30d" \
    >"$tmp/metrics30d.json" || true

# Stop hookd: SIGTERM, then SIGKILL after 15 s.
kill -TERM "$hookd_pid"
for _ in $(seq 150); do
    kill -0 "$hookd_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$hookd_pid" 2>/dev/null; then
    problem "hookd did not exit within 15 s of SIGTERM; killed"
    kill -KILL "$hookd_pid" 2>/dev/null || true
fi
wait "$hookd_pid" && rc=0 || rc=$?
pids=()
[ "$rc" = 0 ] || problem "hookd ended with status $rc after SIGTERM"
if grep -q 'level=error' "$logf"; then
    problem "hookd logged errors: $(grep 'level=error' "$logf" | head -n 3 | tr '\n' ' ')"
fi

# ---- report -----------------------------------------------------------------------------
# One table row per result line; flags problems and 501s.
rows="$tmp/rows.md"
: >"$rows"
while IFS= read -r line; do
    row=$(node -e '
        const r = JSON.parse(process.argv[1]); const limit = Number(process.argv[2]);
        const st = Object.entries(r.statuses).map(([k, v]) => `${v}x ${k}`).join(", ");
        const only501 = Object.keys(r.statuses).join() === "501";
        const ok200 = Object.keys(r.statuses).join() === "200";
        const verdict = only501 ? "not implemented (501)" : !ok200 ? "FAIL (status)" :
            r.p99_ms < limit ? "ok" : "FAIL (p99)";
        const p = r.path.length > 70 ? r.path.slice(0, 67) + "..." : r.path;
        console.log(`${verdict}\t| ${r.name} | \`${p}\` | ${r.p50_ms.toFixed(2)} | ${r.p99_ms.toFixed(2)} | ${r.max_ms.toFixed(2)} | ${st} | ${verdict} |`);
    ' "$line" "$LIMIT_MS")
    verdict=${row%%$'\t'*}
    echo "${row#*$'\t'}" >>"$rows"
    name=$(node -e 'console.log(JSON.parse(process.argv[1]).name)' "$line")
    case "$verdict" in
    ok) ;;
    "not implemented (501)") note "$name: the route answers 501 (not implemented yet); not measured" ;;
    *) problem "$name: $verdict" ;;
    esac
done <"$tmp/results.jsonl"
[ "$(wc -l <"$tmp/results.jsonl")" = "${#requests[@]}" ] ||
    problem "only $(wc -l <"$tmp/results.jsonl") of ${#requests[@]} requests were measured"

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
f() { kv "$1" "$tmp/fill.txt"; }
report="$tmp/report.md"
{
    echo "### hookd scale benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $cpu, $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
    echo "- hookd: $(timeout 5 "$HOOKD_BIN" version 2>/dev/null | head -n1 || echo '?') ($HOOKD_SRC, git HEAD $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), SQLite $(pkg-config --modversion sqlite3), node $(node --version)"
    echo "- command: \`bench/scale.sh\` (SCALE_MESSAGES=$MESSAGES SCALE_ENDPOINTS=$ENDPOINTS SCALE_DAYS=$DAYS SCALE_CALLS=$CALLS)"
    echo "- hookd command: \`hookd serve --listen 127.0.0.1:0 --data TMP --allow-http --allow-private-networks --log-level warn --api-rate-limit 0\`"
    echo "- store: $(f messages) messages ($(f live) live, $(f test) test; $(f succeeded) succeeded, $(f failed_permanent) failed_permanent, $(f pending_retry) pending_retry), $(f attempts) attempt rows, $(f rollup_rows) per-minute rollup rows, $(f endpoints) endpoints, over $DAYS days; $(du -h "$data/hookd.db" | cut -f1) on disk; written by bench/scale_fill.c in $(f elapsed_s) s"
    echo "- client: bench/scale_client.mjs, node fetch over one keep-alive connection, one call at a time, 10 warm-up calls then $CALLS timed calls per request; time = request sent to body read"
    echo "- /v1/metrics?window=30d on this store: \`$(head -c 300 "$tmp/metrics30d.json" | sed 's/,"meta".*//')\`"
    echo
    echo "| request | path | p50 ms | p99 ms | max ms | statuses | p99 < $LIMIT_MS ms |"
    echo "|---|---|---:|---:|---:|---|---|"
    cat "$rows"
    report_notes_and_problems
} >"$report"

mkdir -p "$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$report" "$here/results/scale-$stamp.md"
cat "$report"
log "report saved to bench/results/scale-$stamp.md"
[ "${#problems[@]}" -eq 0 ]
