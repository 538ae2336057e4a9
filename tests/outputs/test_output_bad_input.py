"""Bad input is an error message and exit 2, never a traceback: every command that writes
a file says in one line when it cannot (a directory that does not exist, a directory it may
not write to, and nothing is left behind); an unknown option or a bad value is a usage error.

(An empty store is covered beside each command: report in test_output_cli.py, metrics in
test_output_metrics_text.py, serve - which answers 503 until a scan lands - in
test_output_prometheus_scrape.py.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from outputs_support import full_assessment

from maturity_probe.store import Store

MISSING_DIR = Path("/nonexistent-maturity-probe-dir/reports")
# A directory no one may create files in, root included (a read-only directory would not stop
# root, who runs these tests in CI): sysfs refuses new files.
UNWRITABLE_DIR = Path("/sys")
TRAIN = """import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def main() -> None:
    frame = pd.read_csv("data/churn.csv")
    model = RandomForestClassifier(n_estimators=200)
    model.fit(frame.drop(columns=["churned"]), frame["churned"])


if __name__ == "__main__":
    main()
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small ML project (no git: read as plain files)."""
    repo = tmp_path / "project"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "train.py").write_text(TRAIN)
    (repo / "requirements.txt").write_text("pandas==2.2.2\nscikit-learn==1.5.0\n")
    return repo


@pytest.fixture
def commands(tmp_path: Path, project: Path) -> dict[str, list[str]]:
    """Each writing command, with {out} standing for the output file."""
    config = tmp_path / "platform.yaml"
    config.write_text(f"sources:\n  - type: repo\n    name: project\n    path: {project}\n")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(store) as opened:
        opened.save(full_assessment(), config_key="platform.yaml")
    assessment = tmp_path / "assessment.json"
    assessment.write_text(full_assessment().model_dump_json())
    return {
        "audit": ["audit", str(project), "--format", "html", "--output", "{out}"],
        "scan": ["scan", "--config", str(config), "--no-store", "--format", "sarif", "--output", "{out}"],
        "gate": ["gate", str(project), "--write-baseline", "{out}"],
        "report": ["report", "--store", store, "--output", "{out}"],
        "metrics": ["metrics", "--input", str(assessment), "--output", "{out}"],
    }


@pytest.mark.parametrize("command", ["audit", "scan", "gate", "report", "metrics"])
def test_an_output_in_a_missing_directory_is_one_line(commands: dict[str, list[str]], command: str) -> None:
    target = MISSING_DIR / "out.html"
    done = cli(*(arg.replace("{out}", str(target)) for arg in commands[command]))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == f"error: {target}: cannot write: No such file or directory"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["audit", "report"])  # the same writer as the others
def test_an_output_in_a_directory_nobody_may_write_is_one_line(commands: dict[str, list[str]],
                                                               command: str) -> None:
    target = UNWRITABLE_DIR / "maturity-probe-out.html"
    done = cli(*(arg.replace("{out}", str(target)) for arg in commands[command]))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == f"error: {target}: cannot write: Permission denied"
    assert "Traceback" not in done.stderr
    assert not target.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["scan", "--config", "platform.yaml", "--shards", "0/4"], "No such option: --shards"),
    (["report", "--format", "pdf"], "'pdf' is not one of"),
    (["--colour", "audit", "."], "No such option: --colour"),
])
def test_a_usage_error_is_a_message_not_a_traceback(args: list[str], message: str) -> None:
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("Error: ")
