#!/usr/bin/env bash
# Install Debian's chromium for the dashboard's browser tests (tests/test_dashboard_browser.py),
# which drive it with Playwright (Playwright's own browser download is not used).
#   usage: scripts/install-chromium.sh
# Quiet no-op when /usr/bin/chromium exists; needs root (or sudo) and apt-get otherwise.
# When it cannot install, it says so and the browser tests skip themselves.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: no apt-get here; install Chromium yourself for the browser tests" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "install-chromium: not root and no sudo; the browser tests will be skipped" >&2
        exit 0
    fi
fi
echo "Installing Debian's chromium for the browser tests (apt-get)…"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
