"""The repo collector when git will not read the checkout: what git said, in one line."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import MakeRepo
from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.repo import HISTORY_SIGNALS, RepoCollector, RepoSource, git_refusal
from maturity_probe.evidence import Evidence, SourceState, SourceStatus
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules

NOW = datetime(2026, 2, 1, tzinfo=UTC)  # make_repo commits on 2026-01-05

CHURN = {
    "README.md": "# churn-model\n\nTrains and serves the customer churn classifier.\n",
    "requirements.txt": "scikit-learn==1.5.2\npandas==2.2.3\njoblib==1.4.2\n",
    "src/churn/train.py": (
        "import joblib\n"
        "import pandas as pd\n"
        "from sklearn.ensemble import GradientBoostingClassifier\n\n\n"
        "def main() -> None:\n"
        "    frame = pd.read_parquet('data/customers.parquet')\n"
        "    model = GradientBoostingClassifier(n_estimators=200)\n"
        "    model.fit(frame.drop(columns=['churned']), frame['churned'])\n"
        "    joblib.dump(model, 'model.joblib')\n\n\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    ),
    "tests/test_train.py": (
        "from churn.train import main\n\n\n"
        "def test_main_is_callable() -> None:\n"
        "    assert callable(main)\n"
    ),
    ".github/workflows/ci.yml": (
        "name: ci\n"
        "on: [push, pull_request]\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: pip install -r requirements.txt pytest\n"
        "      - run: pytest -q\n"
    ),
}

# git 2.39's own words, as `git -C PATH rev-parse` writes them to stderr
DUBIOUS_STDERR = (
    "fatal: detected dubious ownership in repository at '/srv/checkouts/churn-model'\n"
    "To add an exception for this directory, call:\n\n"
    "\tgit config --global --add safe.directory /srv/checkouts/churn-model\n"
)
CORRUPT_HEAD_STDERR = "fatal: not a git repository (or any of the parent directories): .git\n"


@pytest.fixture(autouse=True)
def git_without_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's git config (a `safe.directory = *`, say) must not change the outcome."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def scan(root: Path) -> tuple[list[Evidence], SourceStatus]:
    source = RepoSource(name="churn", path=root)
    return run_collector(RepoCollector(source, CollectContext(now=NOW)))


def test_a_checkout_owned_by_another_user_says_how_to_trust_it(
        make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(CHURN).resolve()
    # git's own switch for "owned by someone else" (a test cannot chown without root)
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    evidence, status = scan(root)
    assert status.status == SourceState.partial
    assert status.reason == (
        f"git refuses the repository at {root}: another user owns it (to trust it: git config "
        f"--global --add safe.directory {root}): history-based signals are unknown")
    assert set(HISTORY_SIGNALS) <= set(status.unavailable_signals)
    signals = {e.signal for e in evidence}
    assert {"ci.test_job", "quality.model_tests"} <= signals  # the files are still read
    assert not signals & set(HISTORY_SIGNALS)
    # an audit of a sub-folder names the repository git refuses
    _, status = scan(root / "src")
    assert status.reason.startswith(f"git refuses the repository at {root}: ")

    # trusted as the message says, git reads it again
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "safe.directory")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(root))
    evidence, status = scan(root)
    assert status.status == SourceState.ok, status.reason
    assert "vcs.repository" in {e.signal for e in evidence}


def test_a_corrupt_head_is_a_repository_git_cannot_read(make_repo: MakeRepo) -> None:
    root = make_repo(CHURN).resolve()
    (root / ".git" / "HEAD").write_text("c0ffee: not a ref\n")  # a disk error, a bad edit
    evidence, status = scan(root)
    assert status.status == SourceState.partial
    assert status.reason == (
        f"the git repository at {root} could not be read (git: not a git repository (or any of "
        "the parent directories): .git): history-based signals are unknown")
    assert "ci.test_job" in {e.signal for e in evidence}  # the files are still read
    # an audit of a sub-folder names the repository, not the folder
    _, in_folder = scan(root / "src")
    assert in_folder.reason == status.reason
    result = assess(load_rules(), evidence, [status], now=NOW, target="churn")
    [version_control] = [r for r in result.maturity["microsoft"].requirements
                         if r.id == "l1-version-control"]
    assert version_control.status.value == "unknown"  # not "unmet": git could not tell


def test_corrupt_objects_make_the_history_unknown(make_repo: MakeRepo) -> None:
    root = make_repo(CHURN, commits=[{"src/churn/train.py": CHURN["src/churn/train.py"] + "# v2\n"}])
    for loose in (root / ".git" / "objects").glob("??/*"):
        loose.chmod(0o644)
        loose.write_bytes(b"not a zlib stream")
    evidence, status = scan(root)
    assert status.status == SourceState.partial
    assert status.reason.startswith("git could not read the history (loose object ")
    assert status.reason.endswith(" is corrupt): history-based signals are unknown")
    assert "\n" not in status.reason
    assert set(HISTORY_SIGNALS) <= set(status.unavailable_signals)
    assert "ci.test_job" in {e.signal for e in evidence}


def test_plain_folders_and_fresh_repositories_are_not_refusals(make_repo: MakeRepo,
                                                               tmp_path: Path) -> None:
    plain = make_repo(CHURN, git_repo=False)
    _, status = scan(plain)
    assert (status.status, status.reason) == (
        SourceState.partial, "not a git repository: history-based signals are unknown")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "README.md").write_text("# fresh\n")
    subprocess.run(["git", "init", "-q", str(fresh)], check=True)
    _, status = scan(fresh)  # no commit yet: no history, and nothing wrong
    assert status.status == SourceState.ok, status.reason


def test_git_refusals_are_mapped_from_gits_own_words(tmp_path: Path) -> None:
    assert git_refusal(DUBIOUS_STDERR, tmp_path) == (
        "git refuses the repository at /srv/checkouts/churn-model: another user owns it (to trust "
        "it: git config --global --add safe.directory /srv/checkouts/churn-model)")
    assert git_refusal(CORRUPT_HEAD_STDERR, tmp_path) is None  # no .git here: a plain folder
    (tmp_path / ".git").mkdir()
    assert git_refusal(CORRUPT_HEAD_STDERR, tmp_path / "sub") == (
        f"the git repository at {tmp_path.resolve()} could not be read (git: not a git repository "
        "(or any of the parent directories): .git)")
