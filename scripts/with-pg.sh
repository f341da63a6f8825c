#!/bin/sh
# Run a command beside a throwaway PostgreSQL (scripts/pg-throwaway.sh): its URL is
# in HOOKD_TEST_PG while the command runs; the server and its directory are removed
# afterwards, whatever the command's outcome. Exit status: the command's.
#   scripts/with-pg.sh make unit-pg integration-pg
set -e
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/hookd-pg.XXXXXX)
chmod 755 "$dir"
trap '"$here/pg-throwaway.sh" stop "$dir/pg"' EXIT INT TERM
HOOKD_TEST_PG=$("$here/pg-throwaway.sh" start "$dir/pg" "${PG_FSYNC:-off}")
export HOOKD_TEST_PG
echo "PostgreSQL for the tests: $HOOKD_TEST_PG"
set +e
"$@"
rc=$?
exit $rc
