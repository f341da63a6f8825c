#!/usr/bin/env bash
# cluster.sh - hookd on PostgreSQL beside hookd on SQLite and beside PostgreSQL's own
# ceilings, on this machine, in one sitting (BENCHMARKS.md "PostgreSQL").
#
# Starts a throwaway PostgreSQL (scripts/pg-throwaway.sh, fsync ON: every figure is
# durable) and nginx answering 204, then for each run (BENCH_RUNS, interleaved):
#   sqlite   one hookd on SQLite
#   pg1      one hookd on PostgreSQL
#   pg2      two hookd nodes on one PostgreSQL database
#   pg3      three nodes
# Each configuration gets a fresh store and one endpoint → nginx; wrk POSTs
# /v1/webhooks/send (bench/send.lua) for BENCH_DURATION seconds with 64 connections
# split evenly over the nodes (one wrk per node, run together), while the nodes
# deliver. Figures:
#   sends/s         acknowledged (202, durable) sends per second, all nodes together
#   deliveries/s    messages / (wrk start → every accepted send delivered)
#   hookd CPU µs/msg   utime+stime of every hookd process over that time / messages
#   PG CPU µs/msg      the same for every PostgreSQL server process (user postgres)
# Then pgbench ceilings (bench/pg_ceiling.sh): single-row commits/s at 32 clients,
# rows/s in 100-row transactions, rows/s claimed with SKIP LOCKED.
# Usage: bench/cluster.sh   (BENCH_RUNS=3, BENCH_DURATION=8; HOOKD_BIN=./hookd)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
HOOKD_BIN=${HOOKD_BIN:-$root/hookd}
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-8}
CLK_TCK=$(getconf CLK_TCK)
tmp=$(mktemp -d /tmp/hookd-cluster.XXXXXX)
chmod 755 "$tmp"
LIB_TAG=cluster
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
mkdir -p "$tmp/res" "$tmp/nginx/logs"
pg_dir=$tmp/pg
trap '"$root/scripts/pg-throwaway.sh" stop "$pg_dir" >/dev/null 2>&1 || true; cleanup' EXIT

PG=$("$root/scripts/pg-throwaway.sh" start "$pg_dir" on)
log "PostgreSQL $PG (fsync on)"
start_nginx
log "nginx on $NGINX_PORT"
KEY=$(new_key)
EKEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

pg_ticks() { # CPU ticks of every process of the user postgres
    local uid t=0 p
    uid=$(id -u postgres)
    for p in /proc/[0-9]*; do
        [ "$(stat -c %u "$p" 2>/dev/null)" = "$uid" ] || continue
        t=$((t + $(awk '{ print $14 + $15 }' "$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
ticks_of() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; }
metric() { curl -s "http://127.0.0.1:$1/metrics" -H "Authorization: Bearer $KEY" | awk -v m="$2" '$1 == m { print $2 }'; }

# measure CONFIG NODES: one run of one configuration; records its figures.
measure() {
    local cfg=$1 nodes=$2 db="" i ports=() npids=()
    if [ "$cfg" != sqlite ]; then
        local name="c_${cfg}_$RANDOM$RANDOM"
        psql -X -q "$PG/postgres" -c "CREATE DATABASE $name" >/dev/null
        db="$PG/$name"
    fi
    for i in $(seq "$nodes"); do
        local dir="$tmp/$cfg-$i-$RANDOM"
        mkdir -p "$dir"
        HOOKD_BOOTSTRAP_KEY=$KEY HOOKD_ENCRYPTION_KEY=$EKEY "$HOOKD_BIN" serve --listen 127.0.0.1:0 \
            --data "$dir" ${db:+--db "$db"} --allow-http --allow-private-networks --log-level warn \
            --api-rate-limit 0 2>"$dir.log" &
        npids+=($!)
        pids+=($!)
        local port=""
        for _ in $(seq 100); do
            port=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$dir.log" | head -n1 | sed 's/.*://' || true)
            [ -n "$port" ] && break
            sleep 0.1
        done
        [ -n "$port" ] || { problem "$cfg: node $i did not start: $(tail -3 "$dir.log")"; return; }
        ports+=("$port")
    done
    local ep
    ep=$(curl -s "http://127.0.0.1:${ports[0]}/v1/endpoints" -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' -d "{\"url\":\"http://127.0.0.1:$NGINX_PORT/hook\"}" |
        sed -n 's/.*"id":"\(ep_[0-9a-f]*\)".*/\1/p')
    local h0 p0 t0 c=$((64 / nodes))
    h0=$(ticks_of "${npids[@]}")
    p0=$(pg_ticks)
    t0=$(date +%s.%N)
    local w=()
    for i in $(seq 0 $((nodes - 1))); do
        env BENCH_EXPECT=202 BENCH_ENDPOINT_ID="$ep" BENCH_API_KEY="$KEY" timeout $((DURATION + 30)) \
            wrk -t1 -c"$c" -d"${DURATION}s" --timeout 10s -s "$here/send.lua" \
            "http://127.0.0.1:${ports[$i]}" >"$tmp/wrk-$cfg-$i" 2>&1 &
        w+=($!)
    done
    wait "${w[@]}"
    local t1 acc del
    t1=$(date +%s.%N)
    for _ in $(seq 600); do # until every accepted send is delivered (at most 60 s)
        acc=0 del=0
        for i in $(seq 0 $((nodes - 1))); do
            acc=$((acc + $(metric "${ports[$i]}" hookd_sends_accepted_total)))
            del=$((del + $(metric "${ports[$i]}" hookd_deliveries_succeeded_total)))
        done
        [ "$del" -ge "$acc" ] && break
        sleep 0.1
    done
    local t2 h1 p1
    t2=$(date +%s.%N)
    h1=$(ticks_of "${npids[@]}")
    p1=$(pg_ticks)
    [ "$del" -ge "$acc" ] || problem "$cfg: $((acc - del)) of $acc sends not delivered after 60 s"
    grep -h '^BENCH_RESULT' "$tmp"/wrk-"$cfg"-* | grep -v 'unexpected=0' >/dev/null &&
        problem "$cfg: unexpected statuses: $(grep -h '^BENCH_RESULT' "$tmp"/wrk-"$cfg"-* | tr '\n' ' ')"
    record "${cfg}_sends" "$(awk -v n="$acc" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"
    record "${cfg}_deliveries" "$(awk -v n="$del" -v a="$t0" -v b="$t2" 'BEGIN { printf "%.0f", n / (b - a) }')"
    record "${cfg}_hookd_cpu" "$(cpu_us_per "$h0" "$h1" "$acc")"
    [ "$cfg" != sqlite ] && record "${cfg}_pg_cpu" "$(cpu_us_per "$p0" "$p1" "$acc")"
    log "$cfg: $acc sends in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, delivered by $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s"
    for p in "${npids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${npids[@]}"; do wait "$p" 2>/dev/null || true; done
}
cpu_us_per() {
    [ -n "$1" ] && [ -n "$2" ] && [ "${3:-0}" -gt 0 ] || return 0
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f\n", (b - a) * 1e6 / hz / n }'
}

note_if_busy "cluster"
for run in $(seq "$RUNS"); do
    for cfg in sqlite:1 pg1:1 pg2:2 pg3:3; do
        log "run $run: ${cfg%%:*}"
        measure "${cfg%%:*}" "${cfg##*:}"
    done
    "$here/pg_ceiling.sh" "$PG" "$DURATION" >"$tmp/ceiling-$run" 2>/dev/null || problem "pg_ceiling failed"
    record single "$(awk '$1 == "single" { printf "%.0f", $2 }' "$tmp/ceiling-$run")"
    record batch "$(awk '$1 == "batch" { print $2 }' "$tmp/ceiling-$run")"
    record claim "$(awk '$1 == "claim" { print $2 }' "$tmp/ceiling-$run")"
done

echo "## PostgreSQL and several nodes ($(date -u '+%Y-%m-%d %H:%M') UTC, $(git -C "$root" rev-parse --short HEAD))"
echo
echo "- command: \`bench/cluster.sh\` (BENCH_RUNS=$RUNS BENCH_DURATION=$DURATION); PostgreSQL $(psql -X -At "$PG/postgres" -c 'SHOW server_version'), fsync on, synchronous_commit on, shared_buffers 128MB"
echo
echo "| configuration | sends/s | deliveries/s | hookd CPU µs/msg | PostgreSQL CPU µs/msg |"
echo "|---|---:|---:|---:|---:|"
for cfg in sqlite pg1 pg2 pg3; do
    echo "| $cfg | $(median "${cfg}_sends") ($(runs_of "${cfg}_sends")) | $(median "${cfg}_deliveries") ($(runs_of "${cfg}_deliveries")) | $(median "${cfg}_hookd_cpu") | $(median "${cfg}_pg_cpu") |"
done
echo
echo "| pgbench ceiling | median | runs |"
echo "|---|---:|---|"
echo "| single-row INSERT transactions, 32 clients (commits/s) | $(median single) | $(runs_of single) |"
echo "| 100-row INSERT transactions, 8 clients (rows/s) | $(median batch) | $(runs_of batch) |"
echo "| SKIP LOCKED claims of 10 rows, 8 clients (rows/s) | $(median claim) | $(runs_of claim) |"
report_notes_and_problems
