#!/bin/sh
# Install the Debian packages given as arguments when any is missing.
# Runs apt-get only when needed, so repeated `make run`/`make test` stay fast.
# Node.js may come from outside Debian (it bundles npm), so node/npm are
# checked as commands, not as packages.
set -e
missing=""
for p in "$@"; do
    case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
$SUDO apt-get install -y -q --no-install-recommends $missing
