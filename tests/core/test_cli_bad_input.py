"""`maturity-probe audit` on bad input: one `error:` line and exit code 2 for a user error,
never a traceback; input it can work around (no git, a broken workflow) still audits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import MakeRepo
from maturity_probe.cli import main
from support import TEST_WORKFLOW, TRAIN_SCRIPT

# A flow sequence left open: PyYAML notices at the end of the file.
BROKEN_TRAINING_WORKFLOW = '''\
name: weekly-training
on:
  schedule:
    - cron: "0 3 * * 1"
jobs:
  train:
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
        env: [BROKEN
'''

FILES: dict[str, str | bytes] = {
    "src/train.py": TRAIN_SCRIPT,
    ".github/workflows/ci.yml": TEST_WORKFLOW,
    "requirements.txt": "pandas==2.2.2\nscikit-learn==1.5.0\njoblib==1.4.2\n",
    "tests/test_train.py": "from src.train import main\n\n\ndef test_main_is_callable():\n"
                           "    assert callable(main)\n",
}  # fmt: skip

CAPABILITY_WITH_TYPO = '''\
capabilities:
  house_tests:
    title: Tests in CI, our way
    recommendation: Run the unit tests on every push.
    any_of:
      - signal: ci.tset_job
'''


def audit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          *args: str) -> tuple[int, str, str]:
    """Run the CLI entry point in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["maturity-probe", "audit", *args])
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    code = done.value.code
    return code if isinstance(code, int) else 1, out, err


def assert_one_error(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_a_path_that_does_not_exist_is_one_line_from_the_real_command(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-checkout"
    done = subprocess.run([sys.executable, "-m", "maturity_probe", "audit", str(missing)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: {missing}: no such file or directory\n"


def test_a_file_instead_of_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "churn.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00" + bytes(64))
    assert_one_error(audit(monkeypatch, capsys, str(archive)),
                     f"{archive}: not a directory (audit expects a checkout)")


def test_a_directory_that_is_not_a_git_repository_still_audits(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = make_repo(FILES, git_repo=False)
    code, out, err = audit(monkeypatch, capsys, str(plain), "--format", "json")
    assert (code, err) == (0, "")
    result: dict[str, Any] = json.loads(out)
    [source] = result["sources"]
    assert source["status"] == "partial"
    assert source["reason"] == "not a git repository: history-based signals are unknown"
    assert "vcs.repository" in source["unavailable_signals"]
    # file evidence is still found; history-based requirements are unknown, not unmet
    signals = {e["signal"] for e in result["evidence"]}
    assert {"ci.test_job", "quality.model_tests"} <= signals
    assert not any(s.startswith("vcs.") for s in signals)
    microsoft = result["maturity"]["microsoft"]
    [version_control] = [r for r in microsoft["requirements"] if r["id"] == "l1-version-control"]
    assert version_control["status"] == "unknown"
    assert "not a git repository" in version_control["reason"]

    # the same files under git: version control is met and the level is not held back by it
    tracked = make_repo(FILES)
    code, out, _ = audit(monkeypatch, capsys, str(tracked), "--format", "json")
    again = json.loads(out)
    assert code == 0 and again["sources"][0]["status"] == "ok"
    assert {r["id"]: r["status"] for r in again["maturity"]["microsoft"]["requirements"]}[
        "l1-version-control"] == "met"


def test_an_unknown_model(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(FILES)
    assert_one_error(audit(monkeypatch, capsys, str(root), "--model", "msft"),
                     "unknown model 'msft' (known: microsoft, google, five_stage, seven_stage)")


def test_a_rules_directory_with_a_typo_in_a_signal_id(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    rules = tmp_path / "house-rules"
    rules.mkdir()
    (rules / "capabilities.yaml").write_text(CAPABILITY_WITH_TYPO)
    assert_one_error(audit(monkeypatch, capsys, str(root), "--rules", str(rules)),
                     f"{rules / 'capabilities.yaml'}:6: unknown signal `ci.tset_job` "
                     "(did you mean `ci.test_job`?)")
    missing = tmp_path / "no-rules"
    assert_one_error(audit(monkeypatch, capsys, str(root), "--rules", str(missing)),
                     f"{missing}: not a directory of rules")


@pytest.mark.parametrize(("content", "message"), [
    ("exemptions:\n  - requirement: microsoft/l3-ab-testing\n    reason: [batch only\n",
     ":4: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ("exemptions:\n  - requirement: microsoft/l3-ab-test\n    reason: batch only\n",
     ":2: unknown requirement `microsoft/l3-ab-test` (did you mean `microsoft/l3-ab-testing`?)"),
    ("exemptions:\n  - requirement: microsoft/l3-ab-testing\n", ":2: exemption needs a `reason`"),
    ("- requirement: microsoft/l3-ab-testing\n",
     ":1: `exemptions` must be a list of {requirement|capability, reason}"),
])  # fmt: skip
def test_a_malformed_exemptions_file(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    content: str, message: str,
) -> None:
    root = make_repo({**FILES, ".maturity-probe.yml": content})
    assert_one_error(audit(monkeypatch, capsys, str(root)),
                     f"{root / '.maturity-probe.yml'}{message}")


def test_an_exemptions_option_naming_a_missing_file(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    missing = tmp_path / "exemptions.yml"
    assert_one_error(audit(monkeypatch, capsys, str(root), "--exemptions", str(missing)),
                     f"{missing}: no such file")


def test_a_malformed_workflow_is_a_warning_and_the_audit_goes_on(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo({**FILES, ".github/workflows/train.yml": BROKEN_TRAINING_WORKFLOW})
    code, out, err = audit(monkeypatch, capsys, str(root), "--format", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    [source] = result["sources"]
    assert source["status"] == "ok"
    assert source["warnings"] == [".github/workflows/train.yml:11: invalid YAML, ignored: "
                                  "expected ',' or ']', but got '<stream end>'"]
    signals = {e["signal"] for e in result["evidence"]}
    assert "ci.test_job" in signals  # the good workflow is still read
    assert "ci.training_job" not in signals and "retrain.scheduled" not in signals

    code, out, err = audit(monkeypatch, capsys, str(root), "--model", "microsoft")
    assert (code, err) == (0, "")
    assert "1 warning:" in out and ".github/workflows/train.yml:11: invalid YAML" in out
    assert "Traceback" not in out
