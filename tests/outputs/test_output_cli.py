"""The output commands and options end to end: report (with trends), formats, errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from outputs_support import NOW, full_assessment

from maturity_probe.assessment import Assessment
from maturity_probe.store import Store
from support import TEST_AND_TRAIN_WORKFLOW

TRAIN = """import pandas as pd
from sklearn.linear_model import LogisticRegression


def main() -> None:
    frame = pd.read_csv("data/churn.csv")
    model = LogisticRegression(max_iter=200)
    model.fit(frame.drop(columns=["churned"]), frame["churned"])


if __name__ == "__main__":
    main()
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          text=True, timeout=180, env={**inherited, **(env or {})})


class TrendPoints(HTMLParser):
    """Collects the data-level of each point of each trend chart, by model section."""

    def __init__(self) -> None:
        super().__init__()
        self.model = ""
        self.in_trend = False
        self.points: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and "model" in (found.get("class") or ""):
            self.model = found.get("data-model") or ""
        if tag == "svg":
            self.in_trend = found.get("data-chart") == "trend"
        if tag == "circle" and self.in_trend:
            self.points.setdefault(self.model, []).append(found.get("data-level") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_trend = False


def trend_points(text: str) -> dict[str, list[str]]:
    parser = TrendPoints()
    parser.feed(text)
    return parser.points


def scan_at(days_ago: int, alpha: int, target: str = "platform.yaml") -> Assessment:
    full = full_assessment()
    maturity = dict(full.maturity)
    maturity["alpha"] = maturity["alpha"].model_copy(update={"level": alpha})
    return full.model_copy(update={"generated_at": NOW - timedelta(days=days_ago),
                                   "maturity": maturity, "target": target})


@pytest.fixture
def store_with_history(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(url) as store:
        for days_ago, level in ((20, 0), (10, 1), (0, 2)):
            store.save(scan_at(days_ago, level), config_key="platform.yaml")
        store.save(scan_at(5, 3, "other.yaml"), config_key="other.yaml")  # another config
    return url


def test_report_renders_the_last_scan_with_its_trend(store_with_history: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = cli("report", "--store", store_with_history, "--scan", "last", "--output", str(out))
    assert done.returncode == 0, done.stderr
    points = trend_points(out.read_text())
    assert points["alpha"] == ["0", "1", "2"] and len(points["beta"]) == 3
    # the scan before it is of another config, whose history is that one scan: no trend
    done = cli("report", "--store", store_with_history, "--scan", "last~1", "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "<code>other.yaml</code>" in text and trend_points(text) == {}


def test_report_of_an_earlier_scan_shows_the_history_up_to_it(store_with_history: str,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = cli("report", "--store", store_with_history, "--scan", "last~2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert trend_points(out.read_text())["alpha"] == ["0", "1"]


def test_report_in_other_formats(store_with_history: str) -> None:
    done = cli("report", "--store", store_with_history, "--scan", "last~1", "--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["maturity"]["alpha"]["level"] == 3
    done = cli("report", "--store", store_with_history, "--format", "metrics")
    assert done.returncode == 0 and "maturity_probe_level{" in done.stdout


def test_report_errors_are_one_line(tmp_path: Path, store_with_history: str) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    done = cli("report", "--store", empty)
    assert done.returncode == 2 and done.stderr == (
        "error: no stored scan for 'last' (the store is empty)\n")
    done = cli("report", "--store", store_with_history, "--scan", "nope")
    assert done.returncode == 2 and done.stderr == "error: no stored scan 'nope'\n"
    done = cli("report", "--store", store_with_history, "-o", str(tmp_path / "no" / "r.html"))
    assert done.returncode == 2
    assert re.fullmatch(r"error: .*r\.html: cannot write: No such file or directory\n", done.stderr)


@pytest.fixture
def churn_repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({
        ".github/workflows/ci.yml": TEST_AND_TRAIN_WORKFLOW,
        "src/train.py": TRAIN,
        "tests/test_train.py": "def test_placeholder() -> None:\n    assert True\n",
        "requirements.txt": "pandas==2.2.2\nscikit-learn==1.5.0\n",
    })


@pytest.mark.parametrize("fmt", ["html", "junit", "sarif", "codequality", "metrics"])
def test_audit_writes_each_new_format(churn_repo: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    done = cli("audit", str(churn_repo), "--format", fmt, "--output", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    checks = {
        "html": lambda t: t.startswith("<!DOCTYPE html>") and "ci.yml" in t,
        "junit": lambda t: "<testsuites" in t and "<testcase" in t,
        "sarif": lambda t: json.loads(t)["version"] == "2.1.0",
        "codequality": lambda t: isinstance(json.loads(t), list),
        "metrics": lambda t: 'maturity_probe_level{model="microsoft",scope="platform"}' in t,
    }
    assert checks[fmt](text), text[:300]


# an SGR escape that sets a foreground or background colour (bold and dim are not colours)
COLOUR = re.compile(r"\x1b\[(?:[0-9]*;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9]*)*m")


def test_no_color_option_and_environment(churn_repo: Path) -> None:
    forced = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    coloured = cli("audit", str(churn_repo), "--model", "microsoft", env=forced)
    assert coloured.returncode == 0 and COLOUR.search(coloured.stdout)  # the check can fail
    for args, env in ((["--no-color"], {}), ([], {"NO_COLOR": "1"})):
        done = cli(*args, "audit", str(churn_repo), "--model", "microsoft", env={**forced, **env})
        assert done.returncode == 0, done.stderr
        assert not COLOUR.search(done.stdout) and "Microsoft" in done.stdout


def test_audit_to_an_unwritable_path_is_one_line(churn_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    done = cli("audit", str(churn_repo), "--format", "sarif", "--output",
               str(tmp_path / "file" / "out.sarif"))
    assert done.returncode == 2
    assert done.stderr == f"error: {tmp_path / 'file' / 'out.sarif'}: cannot write: Not a directory\n"


def test_schema_help_names_the_commands_whose_json_it_describes() -> None:
    """`schema` has no --format: its help says which commands write that JSON, and they do."""
    from typer.testing import CliRunner

    from cli_lines import parse_command_line
    from maturity_probe.cli import app

    help_text = " ".join(CliRunner().invoke(app, ["schema", "--help"]).stdout.split())
    named = re.findall(r"`(\w+)`", help_text.split("Options:")[0])
    assert named == ["audit", "scan", "report"] and "`--format json`" in help_text
    what = {"audit": ["."], "scan": ["--config", "platform.yaml"], "report": []}
    for command in named:
        parsed = parse_command_line([command, *what[command], "--format", "json"])
        assert parsed.params["output_format"].value == "json"
    refused = CliRunner().invoke(app, ["schema", "--format", "json"])
    assert refused.exit_code == 2 and "No such option" in refused.output
