#!/usr/bin/env bash
# System packages the test suite needs beyond npm, from Debian: chromium for the dashboard's browser test (driven by
# playwright-core with executablePath /usr/bin/chromium; no browser download) and redis-server for the scale-out
# tests (started and stopped by the tests themselves on loopback), tmux for the launcher's interactive Gemini CLI
# test (a real terminal emulator, driven with send-keys and read with capture-pane). Installs only what is missing, so a machine that
# has them already does nothing. Run by `npm test` (pretest) and so by .ci/run; needs root (or sudo) to install.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: chromium, redis-server and tmux present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} and apt-get is not available; install them (chromium at /usr/bin/chromium)" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-test-deps: need root (or sudo) to apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-test-deps: installing ${missing[*]} from Debian"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package may start a system redis on 6379; the tests use their own instances on free ports.
if [ -x /usr/bin/chromium ]; then /usr/bin/chromium --version; fi
redis-server --version
