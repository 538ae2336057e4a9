#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run lint, types and
# the whole test suite (real services are started by the tests themselves, on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
echo "== ruff"; .venv/bin/ruff check src tests benchmarks examples/demo_platform
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; .venv/bin/pytest -n auto --dist loadfile "$@"
