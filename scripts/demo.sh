#!/usr/bin/env bash
# Set up maturity-probe and audit a bundled example ML project, explaining every level.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
example="${1:-examples/churn-model}"
.venv/bin/maturity-probe audit "$example" --explain
