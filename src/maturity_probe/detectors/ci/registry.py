"""The CI files of a repository, parsed once, and their jobs classified once.

Every CI detector reads `ci_files(ctx)` and `classified_jobs(ctx)`; both are computed
once per repository through `ctx.derived` and shared.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

from maturity_probe.detectors.ci import azure, bitbucket, circleci, github, gitlab, jenkins
from maturity_probe.detectors.ci.commands import (
    MAX_FOLLOW,
    Classifier,
    Hit,
    known_use,
    short,
    simple_commands,
)
from maturity_probe.detectors.ci.model import CiFile, CiJob, Command, Use
from maturity_probe.detectors.context import RepoContext

CI_GLOBS = (
    *github.WORKFLOW_GLOBS, gitlab.ROOT_FILE, *jenkins.JENKINSFILE_GLOBS, *azure.AZURE_GLOBS,
    *circleci.CIRCLECI_GLOBS, bitbucket.BITBUCKET_FILE, ".github/actions/**", ".gitlab/**",
)  # fmt: skip

_PARSERS: dict[str, Callable[[RepoContext, str], CiFile | None]] = {
    github.SYSTEM: github.parse_workflow,
    gitlab.SYSTEM: gitlab.parse_gitlab,
    jenkins.SYSTEM: jenkins.parse_jenkinsfile,
    azure.SYSTEM: azure.parse_azure,
    circleci.SYSTEM: circleci.parse_circleci,
    bitbucket.SYSTEM: bitbucket.parse_bitbucket,
}


@dataclass(frozen=True)
class Reason:
    """Why a job has a purpose: "runs `python train.py`, which calls clf.fit at train.py:9"."""

    purpose: str
    text: str
    file: str
    line: int
    tool: str | None = None


@dataclass(frozen=True)
class ClassifiedJob:
    job: CiJob
    reasons: dict[str, list[Reason]] = field(default_factory=dict)


def parsed_file(ctx: RepoContext, system: str, path: str) -> CiFile | None:
    """One CI file parsed by its system's parser (once per repository)."""
    return ctx.derived(f"ci.file:{system}:{path}", lambda: _PARSERS[system](ctx, path))


def ci_files(ctx: RepoContext) -> list[CiFile]:
    """Every pipeline definition of the repository, in a stable order."""
    return ctx.derived("ci.files", lambda: _find_files(ctx))


def _find_files(ctx: RepoContext) -> list[CiFile]:
    roots: list[tuple[str, str]] = [(github.SYSTEM, p) for p in ctx.matching(*github.WORKFLOW_GLOBS)]
    if ctx.exists(gitlab.ROOT_FILE):
        roots.append((gitlab.SYSTEM, gitlab.ROOT_FILE))
    roots += [(jenkins.SYSTEM, p) for p in ctx.matching(*jenkins.JENKINSFILE_GLOBS)]
    roots += [(azure.SYSTEM, p) for p in azure.pipeline_files(ctx)]
    roots += [(circleci.SYSTEM, p) for p in ctx.matching(*circleci.CIRCLECI_GLOBS)]
    if ctx.exists(bitbucket.BITBUCKET_FILE):
        roots.append((bitbucket.SYSTEM, bitbucket.BITBUCKET_FILE))
    files = []
    for system, path in roots:
        parsed = parsed_file(ctx, system, path)
        if parsed is not None:
            files.append(parsed)
    return files


def classified_jobs(ctx: RepoContext) -> list[ClassifiedJob]:
    """Every job of every CI file with the purposes it shows (disabled jobs left out)."""
    return ctx.derived("ci.classified", lambda: [
        ClassifiedJob(job, classify_job(ctx, job))
        for ci_file in ci_files(ctx)
        for job in ci_file.jobs
        if not job.disabled
    ])


@dataclass(frozen=True)
class Invocation:
    """One run of a program in a CI job (`az ml data create ...`), as tokens."""

    job: CiJob
    command: Command
    args: tuple[str, ...]  # the tokens after the program

    def verbs(self, count: int) -> tuple[str, ...]:
        """The first `count` words before any option: ("ml", "data", "create")."""
        leading = []
        for arg in self.args[:count]:
            if arg.startswith("-"):
                break
            leading.append(arg)
        return tuple(leading)

    def option(self, *names: str) -> str | None:
        """The value of the first of `names` given (`--name x` or `--name=x`)."""
        for index, arg in enumerate(self.args):
            flag, equals, value = arg.partition("=")
            if flag in names:
                if equals:
                    return value
                following = self.args[index + 1] if index + 1 < len(self.args) else ""
                return following if following and not following.startswith("-") else None
        return None


def invocations(ctx: RepoContext, program: str) -> list[Invocation]:
    """Every run of `program` in the commands of enabled CI jobs (not in scripts they call)."""
    return ctx.derived(f"ci.invocations:{program}", lambda: [
        Invocation(job, command, tuple(tokens[1:]))
        for ci_file in ci_files(ctx)
        for job in ci_file.jobs
        if not job.disabled
        for command in job.commands
        for tokens in simple_commands(command.text)
        if posixpath.basename(tokens[0]) == program
    ])  # fmt: skip


def _classifier(ctx: RepoContext) -> Classifier:
    return ctx.derived("ci.classifier", lambda: Classifier(ctx))


def classify_job(ctx: RepoContext, job: CiJob, depth: int = 0) -> dict[str, list[Reason]]:
    """Purposes of a job from its commands and the actions / orbs / tasks it uses."""
    reasons: dict[str, list[Reason]] = {}

    def add(hit: Hit, lead: str, file: str, line: int) -> None:
        text = f"{lead}, {hit.because}" if hit.because else lead
        found = reasons.setdefault(hit.purpose, [])
        if len(found) < 5:
            found.append(Reason(hit.purpose, text, file, line, hit.tool))

    for command, file, line, hit in command_hits(ctx, list(job.commands), depth):
        add(hit, f"runs `{short(command)}`", file, line)
    for use in job.uses:
        for hit in use_hits(ctx, use, depth):
            add(hit, f"uses `{use.name}`", use.file, use.line)
    return reasons


def command_hits(
    ctx: RepoContext, commands: list[Command], depth: int
) -> list[tuple[str, str, int, Hit]]:
    """Hits of a job's commands; consecutive lines of one file share the shell's `cd`."""
    classifier = _classifier(ctx)
    found: list[tuple[str, str, int, Hit]] = []
    group: list[Command] = []
    for command in [*commands, None]:
        if group and (command is None or (command.file, command.workdir) != (
            group[0].file, group[0].workdir
        )):
            lines = [(c.text, c.line) for c in group]
            for text, line, hit in classifier.lines(lines, group[0].workdir, depth):
                found.append((text, group[0].file, line, hit))
            group = []
        if command is not None:
            group.append(command)
    return found


def use_hits(ctx: RepoContext, use: Use, depth: int) -> list[Hit]:
    """What an action / orb / task does: well-known ones, local actions and workflows."""
    known = known_use(use.name)
    if known is not None:
        return [known]
    if depth >= MAX_FOLLOW:
        return []
    name = use.name.split("@")[0]
    if name.startswith("./"):
        path = posixpath.normpath(name)
        if path.endswith((".yml", ".yaml")):
            return [hit.nested(f"which calls workflow {path}")
                    for hit in classify_file_jobs(ctx, github.SYSTEM, path, depth + 1)]
        return _composite_hits(ctx, name, depth)
    if name.startswith("gitlab-child:"):
        path = name.removeprefix("gitlab-child:")
        return [hit.nested(f"which starts child pipeline {path}")
                for hit in classify_file_jobs(ctx, gitlab.SYSTEM, path, depth + 1)]
    return []


def _composite_hits(ctx: RepoContext, reference: str, depth: int) -> list[Hit]:
    action_path, commands, uses = github.composite_action(ctx, reference)
    hits: dict[str, Hit] = {}
    for text, file, line, hit in command_hits(ctx, commands, depth + 1):
        hits.setdefault(hit.purpose, hit.nested(f"whose step runs `{short(text)}` at {file}:{line}"))
    for use in uses:
        for hit in use_hits(ctx, use, depth + 1):
            hits.setdefault(hit.purpose, hit.nested(f"whose step uses `{use.name}` ({action_path})"))
    return list(hits.values())


def classify_file_jobs(ctx: RepoContext, system: str, path: str, depth: int) -> list[Hit]:
    """Purposes of the enabled jobs of another pipeline file (reusable workflow, child)."""
    if depth > MAX_FOLLOW or not ctx.exists(path):
        return []
    ci_file = parsed_file(ctx, system, path)
    hits: dict[str, Hit] = {}
    for job in ci_file.jobs if ci_file else ():
        if job.disabled:
            continue
        for purpose, reasons in classify_job(ctx, job, depth).items():
            first = reasons[0]
            hits.setdefault(purpose, Hit(purpose, f"whose job `{job.name}` {first.text}",
                                         first.tool))
    return list(hits.values())
