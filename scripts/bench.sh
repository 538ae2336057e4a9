#!/usr/bin/env bash
# Run every benchmark (or those named: scripts/bench.sh audit mlflow). Each prints its figures
# beside a baseline measured in the same run and a PASS/FAIL line against its target.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test >/dev/null
status=0
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(ls benchmarks/bench_*.py | sed 's#benchmarks/bench_##; s#\.py$##'))
for name in "${names[@]}"; do
  echo "== benchmark: $name"
  .venv/bin/python "benchmarks/bench_${name}.py" || status=1
done
exit $status
