"""The normalized job model every CI parser produces.

Six CI systems describe jobs in six ways; the classifier and the detectors only ever see
`CiJob`: what a job runs (commands with their lines, actions / orbs / tasks / pipes it
uses), how it is triggered, where it deploys and whether a human must approve it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

TriggerKind = Literal[
    "push", "pull_request", "schedule", "manual", "event", "upstream", "path_filter"
]  # fmt: skip

SYSTEM_LABELS = {
    "github-actions": "GitHub Actions workflow",
    "gitlab-ci": "GitLab CI pipeline",
    "jenkins": "Jenkins pipeline",
    "azure-pipelines": "Azure Pipelines pipeline",
    "circleci": "CircleCI config",
    "bitbucket-pipelines": "Bitbucket Pipelines config",
}


@dataclass(frozen=True)
class Trigger:
    """One way a job starts.

    `source` is the system's own name for it (`schedule`, `repository_dispatch`,
    `merge_request_event`, `TimerTrigger` ...), so that job conditions on the event name
    can narrow the triggers. A `path_filter` trigger carries one glob in `detail` and the
    event it filters in `source`.
    """

    kind: TriggerKind
    source: str
    file: str
    line: int
    detail: str | None = None  # cron, event type, upstream pipeline, path glob

    def describe(self) -> str:
        if self.kind == "schedule":
            return f"schedule `{self.detail}`" if self.detail else "schedule"
        if self.kind == "path_filter":
            return f"{self.source} on paths `{self.detail}`"
        return f"{self.source} `{self.detail}`" if self.detail else f"`{self.source}`"


@dataclass(frozen=True)
class Command:
    """A shell command a job runs; `file` is where the line is (templates, includes)."""

    text: str
    file: str
    line: int
    workdir: str = ""  # repository-relative directory the command runs in


@dataclass(frozen=True)
class Use:
    """An action, orb, task or pipe a job uses (`docker/build-push-action@v6`)."""

    name: str
    file: str
    line: int


@dataclass(frozen=True)
class CiJob:
    system: str
    file: str
    line: int
    name: str
    stage: str | None = None
    commands: tuple[Command, ...] = ()
    uses: tuple[Use, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    environments: tuple[str, ...] = ()
    needs_approval: bool = False
    approval: str | None = None  # how it is gated: environment, manual job, input step ...
    disabled: bool = False
    pipeline_file: str = ""  # the root pipeline file, when the job is defined elsewhere

    def active_triggers(self) -> tuple[Trigger, ...]:
        return () if self.disabled else self.triggers

    def schedules(self) -> list[Trigger]:
        return [t for t in self.active_triggers() if t.kind == "schedule"]


@dataclass(frozen=True)
class CiFile:
    """One pipeline definition file and the jobs it runs."""

    system: str
    path: str
    line: int
    jobs: tuple[CiJob, ...] = field(default_factory=tuple)
    uses: tuple[Use, ...] = ()  # pipeline-wide: included templates, orbs

    @property
    def label(self) -> str:
        return SYSTEM_LABELS.get(self.system, self.system)


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Items without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))


def merge_duplicates(jobs: Iterable[CiJob]) -> list[CiJob]:
    """One job per definition: a job reused by several workflows gets all their triggers.

    CircleCI workflows, Bitbucket anchors and Azure templates reuse one job definition in
    several places; it is reported once, at its definition, started by every caller.
    """
    merged: dict[tuple[str, int, str], CiJob] = {}
    for job in jobs:
        key = (job.file, job.line, job.name)
        seen = merged.get(key)
        if seen is None:
            merged[key] = job
            continue
        active = [j for j in (seen, job) if not j.disabled] or [seen]
        merged[key] = replace(
            seen,
            triggers=tuple(dict.fromkeys(t for j in active for t in j.triggers)),
            environments=unique([*seen.environments, *job.environments]),
            needs_approval=any(j.needs_approval for j in active),
            approval=next((j.approval for j in active if j.approval), None),
            disabled=seen.disabled and job.disabled,
        )
    return list(merged.values())
