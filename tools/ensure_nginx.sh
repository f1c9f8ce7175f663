#!/usr/bin/env bash
# Make Debian's nginx available for the reverse-proxy test (tests/dashboard/test_team_server.py).
# Installs the distribution package only when it is missing and we are root; otherwise does
# nothing. Never fails the build: without nginx that test skips (fails under CI=true).
# The package's own service is not used: the test starts nginx with a configuration of its own.
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure_nginx: installing Debian's nginx-light package (for the reverse-proxy test)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx-light; } \
    >/dev/null 2>&1 || echo "ensure_nginx: could not install nginx; the proxy test will skip" >&2
else
  echo "ensure_nginx: nginx missing and not root; the reverse-proxy test will skip" >&2
fi
exit 0
