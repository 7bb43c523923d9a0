#!/usr/bin/env bash
# Debian's Chromium for the rendering tests (and `newsarchive crawl --render`). Playwright's own
# browser download is never used: it cannot work without internet, and the system package can.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
