"""Shared fixtures: real git repositories built on disk by the tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from maturity_probe.collectors.repo import LocalGitHistory, is_git_work_tree
from maturity_probe.detectors import Finding, RepoContext, run_detectors
from maturity_probe.filetree import LocalTree

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}

# Tests never ask the EC2 instance metadata service for credentials (botocore's last resort
# when no others are set; from a test machine it only stalls, or finds the machine's role).
# Users keep it: on EC2 the instance role is a legitimate credential.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def git(root: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(
        ["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


MakeRepo = Callable[..., Path]


@pytest.fixture(autouse=True)
def isolated_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test gets its own SQLite history store: `scan` records scans by default."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
    monkeypatch.setenv("MATURITY_PROBE_STORE", url)
    return url


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """Build a real git repository: `make_repo({"path": "content"}, commits=[...])`.

    `files` form the first commit; each entry of `commits` is a further dict of files
    committed on top (optionally with a "__date__" key giving the commit date).
    `git=False` writes the files without `git init`.
    """
    counter = iter(range(1000))

    def make(
        files: dict[str, str | bytes],
        *,
        commits: list[dict[str, str | bytes]] | None = None,
        git_repo: bool = True,
        name: str | None = None,
        date: str = "2026-01-05T10:00:00+00:00",
    ) -> Path:
        root = tmp_path / (name or f"repo{next(counter)}")
        root.mkdir(parents=True)
        write_files(root, files)
        if not git_repo:
            return root
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial", "--allow-empty", date=date)
        for commit in commits or []:
            commit = dict(commit)
            when = str(commit.pop("__date__", date))
            write_files(root, commit)
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", "change", "--allow-empty", date=when)
        return root

    return make


def detect(root: Path) -> list[Finding]:
    """Run every detector over a checkout, as the repo collector does."""
    history = LocalGitHistory(root) if is_git_work_tree(root) else None
    return run_detectors(RepoContext(LocalTree(root), history))


def detect_with_context(root: Path) -> tuple[list[Finding], RepoContext]:
    history = LocalGitHistory(root) if is_git_work_tree(root) else None
    ctx = RepoContext(LocalTree(root), history)
    return run_detectors(ctx), ctx


def signals(findings: list[Finding]) -> set[str]:
    return {f.signal for f in findings}


def by_signal(findings: list[Finding], signal: str) -> list[Finding]:
    return [f for f in findings if f.signal == signal]
