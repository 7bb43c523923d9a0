#!/usr/bin/env bash
# Debian packages the tests run for real: Chromium for the rendering and reader tests (and
# `newsarchive crawl --render`), redis-server for the shared frontier of `newsarchive worker`,
# systemd for `systemd-analyze verify` of the README's units (nothing is started by it).
# Playwright's own browser download is never used: it cannot work without internet, and the
# system package can.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/bin/systemd-analyze ] || missing+=(systemd)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
# The package starts a system-wide server on 6379; the tests start their own on free ports.
if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
    $SUDO systemctl stop redis-server || true
fi
/usr/bin/chromium --version
/usr/bin/redis-server --version
/usr/bin/systemd-analyze --version | sed -n 1p
