#!/usr/bin/env bash
# Make Debian's Chromium available for the real-browser test (tests/dashboard/test_browser.py).
# Installs the distribution package only when it is missing and we are root; otherwise does
# nothing. Never fails the build: without Chromium the browser test skips (fails under CI=true).
# Playwright drives this binary; no browser is ever downloaded by Playwright itself.
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure_browser: installing Debian's chromium package (for the browser test)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
    >/dev/null 2>&1 || echo "ensure_browser: could not install chromium; the browser test will skip" >&2
else
  echo "ensure_browser: $CHROMIUM missing and not root; the browser test will skip" >&2
fi
exit 0
