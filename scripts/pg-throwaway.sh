#!/bin/sh
# A throwaway PostgreSQL for tests, benchmarks and make run-pg: initdb into DIR
# (or reuse the cluster already there), listen on a free loopback port, trust
# authentication for the superuser "hookd".
#   scripts/pg-throwaway.sh start DIR [fsync on|off]  prints postgres://hookd@127.0.0.1:PORT
#   scripts/pg-throwaway.sh stop DIR
# Tests use fsync off (the server is never killed there, only hookd is);
# benchmarks keep it on. Runs the server as the "postgres" user when started
# as root (initdb refuses root). Installs Debian's postgresql when missing.
set -e
cmd=$1 dir=$2 fsync=${3:-off}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [fsync on|off]" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ]; then
    "$(dirname "$0")/install-deps.sh" postgresql >&2
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then # else: start the existing cluster again
        as_pg "$bin/initdb" -D "$dir/data" -U hookd --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if [ -f "$dir/port" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        echo "postgres://hookd@127.0.0.1:$(cat "$dir/port")"
        exit 0
    fi
    for try in 1 2 3 4 5 6 7 8; do
        port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
        if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o \
            "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir/data \
             -c fsync=$fsync -c synchronous_commit=$fsync -c full_page_writes=$fsync \
             -c max_connections=400 -c shared_buffers=128MB" >/dev/null 2>&1; then
            echo "$port" >"$dir/port"
            echo "postgres://hookd@127.0.0.1:$port"
            exit 0
        fi
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
stop)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*) echo "usage: $0 start|stop DIR [fsync on|off]" >&2; exit 2 ;;
esac
