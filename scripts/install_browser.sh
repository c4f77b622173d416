#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (tests/browser) when it is missing.
# The tests drive /usr/bin/chromium through Playwright's executable_path: no browser
# download from Playwright (`playwright install` is never run).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "install_browser: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium present')"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q chromium
echo "install_browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
