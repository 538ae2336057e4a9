"""The demo's repositories: each example project copied into its own git repository with a
few months of history and the `origin` its MLflow runs record."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Demo Team",
    "GIT_AUTHOR_EMAIL": "ml-team@example.invalid",
    "GIT_COMMITTER_NAME": "Demo Team",
    "GIT_COMMITTER_EMAIL": "ml-team@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,  # the user's git config (signing, hooks) stays out of it
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass(frozen=True)
class Commit:
    sha: str
    date: datetime


def git(repo: Path, *args: str, date: datetime | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date.isoformat()
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def _commit(repo: Path, message: str, date: datetime) -> Commit:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, date=date)
    return Commit(git(repo, "rev-parse", "HEAD"), date)


def build_repo(example: str, remote: str, root: Path, *, first: datetime, now: datetime) -> list[Commit]:
    """Copy examples/<example> to root/<example> as a git repository: imported at `first`,
    its model code revised twice since. Returns the commits, oldest first."""
    repo = root / example
    shutil.copytree(EXAMPLES / example, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", remote)
    commits = [_commit(repo, f"Import {example}", first)]
    code = sorted(p for p in repo.rglob("*.py") if "tests" not in p.relative_to(repo).parts)
    revisions = [("Tune the training parameters", first + (now - first) / 2),
                 ("Review model code before release", now - timedelta(days=9))]
    for message, date in revisions:
        for path in code:
            text = path.read_text(encoding="utf-8").rstrip("\n")
            path.write_text(f"{text}\n\n# {message.lower()} ({date:%Y-%m-%d})\n", encoding="utf-8")
        commits.append(_commit(repo, message, date))
    return commits


def commit_at(commits: list[Commit], moment: datetime) -> Commit:
    """The commit that was checked out at `moment` (the newest one not after it)."""
    earlier = [c for c in commits if c.date <= moment]
    return earlier[-1] if earlier else commits[0]
