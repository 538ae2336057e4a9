"""The `repo` collector: a local checkout, read through the file detectors and git.

Without git's history the file detectors still run; the history-based signals are then
unknown, and the status says why in git's own terms: a plain folder ("not a git
repository"), a repository git refuses because another user owns it (with the
`safe.directory` command that trusts it), or one git cannot read (a corrupt HEAD, corrupt
objects).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import ValidationInfo, field_validator

from maturity_probe.collectors import (
    CollectContext,
    Collector,
    SourceConfig,
    SourceError,
    resolve_path,
)
from maturity_probe.collectors.repo_findings import checkout_locator, finding_evidence
from maturity_probe.detectors import RepoContext, all_detectors, run_detectors
from maturity_probe.detectors.context import FileHistory, Finding
from maturity_probe.evidence import Evidence
from maturity_probe.filetree import LocalTree

# Signals that need the commit history; without git they are unknown, not absent.
HISTORY_SIGNALS = [
    "vcs.repository",
    "vcs.training_code_versioned",
    "vcs.scoring_script_versioned",
]


class RepoSource(SourceConfig):
    """A local checkout: `path` (relative paths are relative to the config file)."""

    type: Literal["repo"] = "repo"
    path: Path

    @field_validator("path")
    @classmethod
    def _relative_to_config(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_path(value, cls.base_dir(info))


# What git says of a repository without commits yet: no history, not a failure.
_NO_COMMITS = re.compile(r"does not have any commits yet|unknown revision|bad default revision")
_DUBIOUS_OWNER = re.compile(r"detected dubious ownership in repository at '([^']*)'")


class LocalGitHistory:
    """Commit history of a local work tree, read with the git command line."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.failure: str | None = None  # git's first complaint reading the history

    def _git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.root), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode == 0:
            return done.stdout
        if self.failure is None and not _NO_COMMITS.search(done.stderr):
            self.failure = git_complaint(done.stderr)
        return ""

    def repository_history(self) -> FileHistory | None:
        count = self._git("rev-list", "--count", "HEAD").strip()
        last = self._git("log", "-1", "--format=%ct").strip()
        if not count or not last:
            return None
        return FileHistory(int(count), datetime.fromtimestamp(int(last), UTC))

    def file_history(self, paths: list[str]) -> dict[str, FileHistory]:
        """One `git log` over the asked paths: commit count and last change of each."""
        if not paths:
            return {}
        wanted = set(paths)
        # --relative: paths relative to the audited folder, also when it is a sub-folder
        out = self._git("log", "--format=@%ct", "--name-only", "--no-renames", "--relative", "--",
                        *sorted(wanted))
        counts: dict[str, int] = {}
        last: dict[str, int] = {}
        stamp = 0
        for line in out.splitlines():
            if line.startswith("@"):
                stamp = int(line[1:])
            elif line in wanted:
                counts[line] = counts.get(line, 0) + 1
                last.setdefault(line, stamp)  # log is newest first
        return {
            path: FileHistory(counts[path], datetime.fromtimestamp(last[path], UTC))
            for path in counts
        }


@dataclass(frozen=True)
class GitCheck:
    """Whether git reads a folder as a work tree, and if not, why (None: no repository)."""

    work_tree: bool
    refusal: str | None = None


def check_work_tree(root: Path) -> GitCheck:
    """Ask git whether `root` is in a work tree it reads."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        repository = repository_above(root)
        return GitCheck(False, None if repository is None else
                        f"git could not be run on the repository at {repository} ({exc})")
    if done.returncode == 0:
        return GitCheck(done.stdout.strip() == "true")
    return GitCheck(False, git_refusal(done.stderr, root))


def is_git_work_tree(root: Path) -> bool:
    return check_work_tree(root).work_tree


def git_refusal(stderr: str, root: Path) -> str | None:
    """Why git refuses the repository `root` is in, one line from git's stderr; None when
    there is no repository there at all."""
    owned = _DUBIOUS_OWNER.search(stderr)
    if owned:
        path = owned.group(1)
        return (f"git refuses the repository at {path}: another user owns it (to trust it: "
                f"git config --global --add safe.directory {path})")
    repository = repository_above(root)
    if repository is None:
        return None
    return f"the git repository at {repository} could not be read (git: {git_complaint(stderr)})"


def repository_above(root: Path) -> Path | None:
    """The nearest folder at or above `root` holding a `.git` entry, as git looks for one."""
    folder = root.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def git_complaint(stderr: str) -> str:
    """git's fatal message (else its first line), without the `fatal: ` prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = next((line for line in lines if line.startswith("fatal:")), lines[0] if lines else "")
    return fatal.removeprefix("fatal:").strip() or "no message"


_REMOTE = re.compile(r"^(?:[a-z+]+://)?(?:[^@/]+@)?(?P<host>[^:/]+)(?::\d+)?[:/](?P<path>.+?)(?:\.git)?/?$")


def subject_for_checkout(root: Path) -> str:
    """A stable subject key: the host path of `origin` when there is one, else the folder."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        url = done.stdout.strip() if done.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        url = ""
    return subject_for_remote(url) or f"repo:{root.resolve().name}"


def subject_for_remote(url: str) -> str | None:
    """`github:owner/name`, `gitlab:host/group/project` or `git:host/path` for a clone URL."""
    match = _REMOTE.match(url.strip())
    if not match:
        return None
    host, path = match.group("host").lower(), match.group("path").strip("/")
    if host == "github.com":
        return f"github:{path}"
    if "gitlab" in host:
        return f"gitlab:{host}/{path}"
    return f"git:{host}/{path}"


class RepoCollector(Collector):
    """Reads a local checkout: every file detector, plus git history when it is a work tree."""

    type = "repo"
    config_model = RepoSource

    def __init__(self, config: RepoSource, ctx: CollectContext) -> None:
        super().__init__(config, ctx)
        self.root = config.path.expanduser()

    @classmethod
    def signals(cls) -> frozenset[str]:
        return frozenset().union(*(d.signals for d in all_detectors()))

    def collect(self) -> Iterator[Evidence]:
        if not self.root.exists():
            raise SourceError(f"{self.root}: no such directory")
        if not self.root.is_dir():
            raise SourceError(f"{self.root}: not a directory")
        git = check_work_tree(self.root)
        if not git.work_tree:
            reason = git.refusal or "not a git repository"
            self.partial(f"{reason}: history-based signals are unknown", HISTORY_SIGNALS)
        tree = LocalTree(self.root)
        history = LocalGitHistory(self.root) if git.work_tree else None
        ctx = RepoContext(tree, history)
        subject = subject_for_checkout(self.root)
        findings = run_detectors(ctx)
        if history is not None and history.failure:
            self.partial(f"git could not read the history ({history.failure}): history-based "
                         "signals are unknown", HISTORY_SIGNALS)
        self.status.warnings.extend(ctx.warnings)
        for finding in findings:
            # the checkout itself is `.`: relative like every other path, never where it lies
            yield self.from_finding(finding, subject, ".")

    def from_finding(self, finding: Finding, subject: str, root_label: str) -> Evidence:
        return finding_evidence(self, finding, subject, checkout_locator(finding, root_label))


