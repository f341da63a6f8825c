#!/usr/bin/env bash
# pg_ceiling.sh URL [SECONDS] - what PostgreSQL itself does on this machine, for
# hookd-on-PostgreSQL figures to stand beside (BENCHMARKS.md "PostgreSQL"):
#   single   single-row INSERT transactions (~300-byte rows), 32 clients: commits/s
#   batch    100-row INSERT transactions, 8 clients: rows/s
#   claim    SKIP LOCKED claims of 10 due rows each (UPDATE ... WHERE id IN (SELECT
#            ... FOR UPDATE SKIP LOCKED)), 8 clients, over a 1,000,000-row queue: rows/s
# URL is a server (postgres://user@host:port); a database pgbench_ceiling is made and
# dropped. Prints "name value unit" lines. pgbench's own CPU is on the same 2 cores.
set -euo pipefail
url=$1 secs=${2:-8}
db=pgbench_ceiling
psql -X -q "$url/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; psql -X -q "$url/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -X -q "$url/$db" >/dev/null <<'SQL'
CREATE TABLE t (id BIGSERIAL PRIMARY KEY, endpoint_id TEXT NOT NULL, payload TEXT NOT NULL,
                status INT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
CREATE TABLE q (id BIGSERIAL PRIMARY KEY, due BIGINT NOT NULL, owner INT, lease BIGINT);
INSERT INTO q (due) SELECT g FROM generate_series(1, 1000000) g;
CREATE INDEX q_due ON q (due) WHERE owner IS NULL;
VACUUM ANALYZE q;
SQL
cat >"$tmp/single.sql" <<'SQL'
INSERT INTO t (endpoint_id, payload, created_at) VALUES ('ep_bench', repeat('x', 300), 1);
SQL
cat >"$tmp/batch.sql" <<'SQL'
INSERT INTO t (endpoint_id, payload, created_at) SELECT 'ep_bench', repeat('x', 300), g FROM generate_series(1, 100) g;
SQL
cat >"$tmp/claim.sql" <<'SQL'
UPDATE q SET owner = :client_id, lease = 1 WHERE id IN (SELECT id FROM q WHERE owner IS NULL ORDER BY due LIMIT 10 FOR UPDATE SKIP LOCKED);
SQL
tps() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -n1; }
s=$(pgbench -n -c 32 -j 2 -T "$secs" -f "$tmp/single.sql" "$url/$db" 2>/dev/null | tps)
b=$(pgbench -n -c 8 -j 2 -T "$secs" -f "$tmp/batch.sql" "$url/$db" 2>/dev/null | tps)
c=$(pgbench -n -c 8 -j 2 -T "$secs" -f "$tmp/claim.sql" "$url/$db" 2>/dev/null | tps)
echo "single $s commits/s"
awk -v b="$b" 'BEGIN { printf "batch %.0f rows/s\n", b * 100 }'
awk -v c="$c" 'BEGIN { printf "claim %.0f rows/s\n", c * 10 }'
