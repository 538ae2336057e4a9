"""Helpers of the store tests: the CLI in-process and as a process, a platform to scan.

The platform is a real git repository made from the bundled example `churn-model`
(DVC, MLflow, weekly retraining, a deploy workflow with staging and production), scanned
through a platform config like a nightly job would.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

from conftest import git, write_files
from maturity_probe.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn-model"
DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"
TRAIN_WORKFLOW = ".github/workflows/train.yml"
NIGHTS = ["2026-01-12T03:00:00+00:00", "2026-01-13T03:00:00+00:00", "2026-01-14T03:00:00+00:00"]


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, now: str | None = None) -> CliResult:
    """`maturity-probe ARGS` in this process (fast); `now` fixes the scan clock."""
    out, err = io.StringIO(), io.StringIO()
    env = {"MATURITY_PROBE_NOW": now} if now else {}
    code: int | str | None = 0
    with (redirect_stdout(out), redirect_stderr(err), patch.dict(os.environ, env),
          patch.object(sys, "argv", ["maturity-probe", *args])):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    return CliResult(code if isinstance(code, int) else 1, out.getvalue(), err.getvalue())


def cli_process(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`maturity-probe ARGS` as its own process, started now."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.Popen([sys.executable, "-m", "maturity_probe", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**inherited, **(env or {})})


def example_files() -> dict[str, str | bytes]:
    return {str(path.relative_to(EXAMPLE)): path.read_bytes()
            for path in sorted(EXAMPLE.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


def churn_platform(root: Path, *, name: str = "acme-ml", extra_sources: str = "") -> Path:
    """A git copy of the churn-model example in ROOT/churn, and a platform config scanning it."""
    repo = root / "churn"
    repo.mkdir(parents=True)
    write_files(repo, example_files())
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "churn model", date="2026-01-05T10:00:00+00:00")
    config = root / "platform.yaml"
    config.write_text(f"name: {name}\nsources:\n  - type: repo\n    name: churn-repo\n"
                      f"    path: churn\n{extra_sources}", encoding="utf-8")
    return config


def remove_deploy_workflow(repo: Path) -> None:
    """The team drops continuous deployment: its workflow goes."""
    git(repo, "rm", "-q", DEPLOY_WORKFLOW)
    git(repo, "commit", "-q", "-m", "stop deploying from CI", date="2026-01-12T12:00:00+00:00")


def shift_train_workflow(repo: Path) -> None:
    """A comment at the top of the training workflow moves every line of it down."""
    path = repo / TRAIN_WORKFLOW
    path.write_text("# retrains the churn model every Monday\n" + path.read_text(encoding="utf-8"),
                    encoding="utf-8")
    git(repo, "commit", "-q", "-am", "document the schedule", date="2026-01-12T12:30:00+00:00")
