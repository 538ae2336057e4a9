"""MATURITY_PROBE_NOW makes a run reproducible: the same checkout gives the same bytes.

Measured durations differ on every run, so a reproducible run records them as 0.0 (a
baseline committed with --write-baseline must not change when nothing changed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MakeRepo
from maturity_probe.evidence import SourceState, SourceStatus
from maturity_probe.run import NOW_ENV, recorded
from support import TEST_AND_TRAIN_WORKFLOW

TRAIN = """\
import pandas as pd
from sklearn.linear_model import LogisticRegression

frame = pd.read_csv("data/churn.csv")
LogisticRegression(max_iter=200).fit(frame.drop(columns=["churned"]), frame["churned"])
"""
FIXED_NOW = "2026-03-02T09:00:00+00:00"


def cli(*args: str, now: str | None) -> bytes:
    env = {k: v for k, v in os.environ.items() if k != NOW_ENV}
    if now:
        env[NOW_ENV] = now
    done = subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          timeout=180, env=env)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture
def checkout(make_repo: MakeRepo) -> Path:
    return make_repo({".github/workflows/ci.yml": TEST_AND_TRAIN_WORKFLOW, "src/train.py": TRAIN,
                      "requirements.txt": "pandas\nscikit-learn\n"})


@pytest.mark.parametrize("output_format", ["json", "html"])
def test_two_reproducible_audits_give_the_same_bytes(checkout: Path, output_format: str) -> None:
    runs = [cli("audit", str(checkout), "-f", output_format, now=FIXED_NOW) for _ in range(2)]
    assert runs[0] == runs[1]
    if output_format == "json":
        [repo] = json.loads(runs[0])["sources"]
        assert repo["duration_seconds"] == 0.0


def test_a_baseline_written_twice_is_the_same_file(checkout: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for baseline in (first, second):
        cli("gate", str(checkout), "--write-baseline", str(baseline), now=FIXED_NOW)
    assert first.read_bytes() == second.read_bytes()


def test_an_ordinary_run_keeps_the_measured_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    def statuses() -> list[SourceStatus]:
        return [SourceStatus(name="repo", type="repo", status=SourceState.ok, duration_seconds=0.81)]

    monkeypatch.delenv(NOW_ENV, raising=False)
    assert [s.duration_seconds for s in recorded(statuses())] == [0.81]
    monkeypatch.setenv(NOW_ENV, FIXED_NOW)
    assert [s.duration_seconds for s in recorded(statuses())] == [0.0]
