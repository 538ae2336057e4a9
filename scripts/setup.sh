#!/usr/bin/env bash
# Prepare a fresh Debian machine for maturity-probe: system packages, then a virtualenv
# in .venv with the project installed. Safe to run again; it only installs what is missing.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --demo   also what scripts/demo.sh runs (an MLflow server, Prometheus)
#   scripts/setup.sh --test   also everything the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_demo=0
[ "${1:-}" = "--test" ] && want_test=1 && want_demo=1
[ "${1:-}" = "--demo" ] && want_demo=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "$want_demo" = 1 ]; then
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
fi
if [ "$want_test" = 1 ]; then
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
elif [ "$want_demo" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[demo]'
else
  .venv/bin/python -m pip install -q -e '.[all]'
fi
