#!/usr/bin/env bash
# Set up maturity-probe, then scan a small ML platform started on this machine: five example
# repositories, a real MLflow server and a real Prometheus (127.0.0.1 only), seeded like a
# company's platform; writes an HTML report and stops every service it started.
#   scripts/demo.sh [--out DIR]     (default DIR: a new temporary directory)
# What it builds: examples/demo_platform/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --demo
# exec: Ctrl-C and SIGTERM reach the demo itself, which stops its services on the way out
exec .venv/bin/python examples/demo_platform/demo.py "$@"
