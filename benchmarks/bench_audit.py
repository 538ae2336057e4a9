"""Benchmark: audit a generated 20,000-file repository.

Prints the audit's time beside a baseline measured in the same run — `git ls-files` plus
reading every file some detector reads — and the audit's peak memory at 5k, 10k and 20k
files. Targets: within 3x of the baseline; memory flat in the number of files.

    .venv/bin/python benchmarks/bench_audit.py [--files 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_TARGET = 3.0
MEMORY_GROWTH_TARGET = 1.3  # peak RSS at the largest size / at the smallest

TRAIN = '''"""Train the {name} model."""
import mlflow
import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def main(path: str) -> None:
    frame = pd.read_csv(path)
    mlflow.sklearn.autolog()
    model = RandomForestClassifier(n_estimators=200)
    model.fit(frame.drop(columns=["label"]), frame["label"])


if __name__ == "__main__":
    main("data/train.csv")
'''
MODULE = '''"""Helpers {i}."""
from __future__ import annotations

import json


def load_{i}(path: str) -> dict:
    with open(path) as handle:
        return json.load(handle)


def transform_{i}(rows: list[int]) -> list[int]:
    return [row * {i} for row in rows if row % 3]
'''
WORKFLOW = '''name: ci-{i}
on:
  push:
    branches: [main]
  schedule:
    - cron: "0 {h} * * 1"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: pytest -q
  train:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python src/train_{i}.py
'''


def generate(root: Path, files: int) -> None:
    """A deterministic repository of `files` files: mostly code, some data, a few ML files."""
    rng = random.Random(files)
    written = 0

    def put(rel: str, text: str) -> None:
        nonlocal written
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written += 1

    for i in range(5):
        put(f".github/workflows/ci_{i}.yml", WORKFLOW.format(i=i, h=i + 1))
        put(f"src/train_{i}.py", TRAIN.format(name=f"model{i}"))
    put("Dockerfile", "FROM python:3.11-slim\nCOPY . /app\nCMD [\"python\", \"src/train_0.py\"]\n")
    put("requirements.txt", "pandas==2.2.2\nscikit-learn==1.5.0\nmlflow==2.14.1\n")
    while written < files:
        kind = rng.random()
        i = written
        if kind < 0.6:
            put(f"pkg{i % 97}/sub{i % 13}/mod_{i}.py", MODULE.format(i=i))
        elif kind < 0.7:
            put(f"docs/section{i % 31}/page_{i}.md", f"# Page {i}\n\nSome text about part {i}.\n")
        elif kind < 0.8:
            put(f"data/raw/part_{i}.csv", "a,b,label\n" + f"{i},{i * 2},{i % 2}\n" * 20)
        elif kind < 0.9:
            put(f"configs/c{i % 17}/conf_{i}.json", json.dumps({"id": i, "items": list(range(10))}))
        elif kind < 0.97:
            put(f"settings/s{i % 11}/conf_{i}.yaml", f"name: conf{i}\nvalues: [1, 2, 3]\n")
        else:
            put(f"tests/t{i % 7}/test_mod_{i}.py", f"def test_{i}():\n    assert {i} == {i}\n")
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@x", "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env)


def baseline_seconds(root: Path) -> tuple[float, int]:
    """`git ls-files` plus reading the files detectors read; returns (seconds, files read)."""
    from maturity_probe.detectors import all_detectors
    from maturity_probe.detectors.context import glob_regex

    patterns = sorted({p for d in all_detectors() for p in d.wants} | {"**/*.py", "**/*.ipynb"})
    regexes = [glob_regex(p) for p in patterns]
    started = time.perf_counter()
    listing = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                             check=True).stdout.decode().split("\x00")
    read = 0
    for rel in listing:
        if rel and any(r.match(rel) for r in regexes):
            (root / rel).read_bytes()
            read += 1
    return time.perf_counter() - started, read


def audit_seconds(root: Path) -> float:
    from maturity_probe.inference.rules import load_rules
    from maturity_probe.run import audit_checkout

    rules = load_rules()
    started = time.perf_counter()
    audit_checkout(root, rules)
    return time.perf_counter() - started


# Runs the CLI and reports the process's own peak memory. ru_maxrss from wait4() would not
# do: Linux carries the parent's resident size at fork() over into the child's maximum, so
# it would measure this benchmark process (which grows with the audits it runs in-process).
_PEAK_PROBE = """
import atexit, runpy, sys

def report():
    with open("/proc/self/status") as status:
        sys.stderr.write(next(line for line in status if line.startswith("VmHWM:")))

atexit.register(report)
sys.argv = ["maturity-probe", *sys.argv[1:]]
runpy.run_module("maturity_probe", run_name="__main__")
"""


def audit_peak_rss_mb(root: Path) -> float:
    """Peak resident memory (VmHWM) of a separate `maturity-probe audit` process."""
    done = subprocess.run([sys.executable, "-c", _PEAK_PROBE, "audit", str(root), "--format",
                           "json", "--output", "/dev/null"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"audit of {root} failed with exit code {done.returncode}")
    peak = [line for line in done.stderr.splitlines() if line.startswith("VmHWM:")][-1]
    return int(peak.split()[1]) / 1024  # "VmHWM:    57344 kB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    args = parser.parse_args()
    sizes = sorted({args.files // 4, args.files // 2, args.files})
    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    rows = []
    try:
        for size in sizes:
            root = work / f"repo{size}"
            generate(root, size)
            audit_seconds(root)  # warm the page cache and imports for a fair comparison
            base, read = baseline_seconds(root)
            took = min(audit_seconds(root) for _ in range(3))
            base = min(base, *(baseline_seconds(root)[0] for _ in range(2)))
            rss = audit_peak_rss_mb(root)
            rows.append((size, read, base, took, rss))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'files':>7} {'read':>6} {'baseline s':>11} {'audit s':>9} {'ratio':>6} {'peak MB':>8}")
    for size, read, base, took, rss in rows:
        print(f"{size:>7} {read:>6} {base:>11.3f} {took:>9.3f} {took / base:>6.2f} {rss:>8.1f}")
    size, _, base, took, rss = rows[-1]
    ratio = took / base
    growth = rss / rows[0][4]
    time_ok = ratio <= TIME_TARGET
    memory_ok = growth <= MEMORY_GROWTH_TARGET
    print(f"time: {ratio:.2f}x baseline at {size} files (target <= {TIME_TARGET}x): "
          f"{'PASS' if time_ok else 'FAIL'}")
    print(f"memory: peak {rss:.0f} MB at {size} files vs {rows[0][4]:.0f} MB at {rows[0][0]} "
          f"({growth:.2f}x, target <= {MEMORY_GROWTH_TARGET}x): {'PASS' if memory_ok else 'FAIL'}")
    return 0 if time_ok and memory_ok else 1


if __name__ == "__main__":
    sys.exit(main())
