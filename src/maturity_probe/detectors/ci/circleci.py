"""CircleCI configuration (`.circleci/config.yml`) as normalized jobs.

A job runs when a workflow lists it; its triggers are those of the workflows that do
(`triggers: - schedule: cron`, or a `when:` on `pipeline.trigger_source` for scheduled
pipelines). Reusable `commands:` are expanded, orb commands and orb jobs are recorded
as uses, and a job that requires an `type: approval` job waits for a human.
"""

from __future__ import annotations

import re
from typing import Any

from maturity_probe.detectors.ci.model import (
    CiFile,
    CiJob,
    Command,
    Trigger,
    Use,
    merge_duplicates,
)
from maturity_probe.detectors.ci.nodes import MAX_DEPTH, MAX_ITEMS, SourceLines, item_lines, line, str_list
from maturity_probe.detectors.context import RepoContext
from maturity_probe.yamlio import as_dict, as_str

SYSTEM = "circleci"
CIRCLECI_GLOBS = (".circleci/config.yml", ".circleci/config.yaml")
_PARAMETER = re.compile(r"pipeline\.parameters\.([\w-]+)")
_SCHEDULE_NAME = re.compile(r"pipeline\.schedule\.name")


def parse_circleci(ctx: RepoContext, path: str) -> CiFile | None:
    doc = ctx.yaml(path)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        ctx.warn(path, line(doc), "CircleCI config is not a mapping, ignored")
        return None
    orbs = {as_str(alias): as_str(ref) for alias, ref in as_dict(doc.get("orbs")).items()}
    reader = _Reader(ctx, path, as_dict(doc.get("jobs")), as_dict(doc.get("commands")), orbs)
    workflows = as_dict(doc.get("workflows"))
    jobs: list[CiJob] = []
    for name, workflow in workflows.items():
        if name == "version" or not isinstance(workflow, dict):
            continue
        jobs += reader.workflow_jobs(as_str(name), workflow, line(workflows, name))
    if not workflows and "build" in reader.jobs:  # CircleCI 2.0 without workflows
        jobs.append(reader.job("build", [Trigger("push", "webhook", path, line(reader.jobs,
                                                                              "build"))], None))
    uses = tuple(Use(ref or alias, path, line(doc.get("orbs"), alias)) for alias, ref in
                 orbs.items())
    return CiFile(SYSTEM, path, line(doc, default=1) or 1, tuple(merge_duplicates(jobs)), uses)


class _Reader:
    def __init__(
        self,
        ctx: RepoContext,
        path: str,
        jobs: dict[Any, Any],
        commands: dict[Any, Any],
        orbs: dict[str, str],
    ) -> None:
        self.path = path
        self.jobs = jobs
        self.commands = commands
        self.orbs = orbs
        self.source = SourceLines(ctx)

    def orb(self, reference: str) -> str:
        """`aws-ecr/build-and-push-image` with the orb alias resolved to its registry name."""
        alias, _, rest = reference.partition("/")
        orb = self.orbs.get(alias, alias).split("@")[0]
        return f"{orb}/{rest}" if rest else orb

    def workflow_jobs(self, name: str, workflow: dict[Any, Any], at: int) -> list[CiJob]:
        triggers = self.workflow_triggers(name, workflow, at)
        if triggers is None:
            return []
        entries: dict[str, tuple[str, dict[Any, Any], int]] = {}
        for entry, entry_line in item_lines(workflow.get("jobs")):
            if isinstance(entry, dict) and entry:
                job_name = as_str(next(iter(entry)))
                config = as_dict(entry[job_name])
            else:
                job_name, config = as_str(entry), {}
            alias = as_str(config.get("name")) or job_name
            entries[alias] = (job_name, config, entry_line)
        approvals = {a for a, (_, c, _) in entries.items() if as_str(c.get("type")) == "approval"}
        gated = _requiring(entries, approvals)
        jobs = []
        for alias, (job_name, _, entry_line) in entries.items():
            if alias in approvals:
                continue
            gate = gated.get(alias)
            jobs.append(self.job(job_name, triggers, gate, entry_line))
        return jobs

    def workflow_triggers(self, name: str, workflow: dict[Any, Any], at: int) -> list[Trigger] | None:
        """Triggers of a workflow; None when `when:` can never hold."""
        schedules = []
        for trigger, trigger_line in item_lines(workflow.get("triggers")):
            schedule = as_dict(as_dict(trigger).get("schedule"))
            cron = as_str(schedule.get("cron")).strip()
            if cron:
                cron_line = line(schedule, "cron", trigger_line)
                schedules.append(Trigger("schedule", "schedule", self.path, cron_line, cron))
        if schedules:  # a workflow with schedule triggers runs only on them
            return schedules
        when = workflow.get("when")
        if when is False:
            return None
        when_text = _flatten(when)
        when_line = line(workflow, "when", at)
        if "scheduled_pipeline" in when_text or _SCHEDULE_NAME.search(when_text):
            return [Trigger("schedule", "scheduled_pipeline", self.path, when_line)]
        if "api" in when_text.split() and "pipeline.trigger_source" in when_text:
            return [Trigger("event", "api", self.path, when_line)]
        if parameter := _PARAMETER.search(when_text):
            return [Trigger("event", "api", self.path, when_line,
                            f"pipeline parameter {parameter.group(1)}")]
        return [Trigger("push", "webhook", self.path, at)]

    def job(self, name: str, triggers: list[Trigger], gate: str | None, at: int = 0) -> CiJob:
        definition = self.jobs.get(name)
        uses: list[Use] = []
        commands: list[Command] = []
        if isinstance(definition, dict):
            job_line = line(self.jobs, name, at)
            workdir = as_str(definition.get("working_directory")).removeprefix("~/project")
            self.steps(definition.get("steps"), commands, uses, workdir.strip("/"), 0)
        else:  # an orb job such as `python/test`
            job_line = at
            uses.append(Use(self.orb(name), self.path, at))
        return CiJob(
            system=SYSTEM,
            file=self.path,
            line=job_line,
            name=name,
            commands=tuple(commands),
            uses=tuple(uses),
            triggers=tuple(triggers),
            needs_approval=gate is not None,
            approval=f"approval job `{gate}`" if gate else None,
            pipeline_file=self.path,
        )

    def steps(
        self, node: Any, commands: list[Command], uses: list[Use], workdir: str, depth: int
    ) -> None:
        if depth > MAX_DEPTH:
            return
        for step, at in item_lines(node):
            if len(commands) + len(uses) > MAX_ITEMS:
                return
            if isinstance(step, str):
                name, config = step, None
            elif isinstance(step, dict) and step:
                name = as_str(next(iter(step)))
                config = step[name]
            else:
                continue
            if name == "run":
                run_line = line(step, "run", at)
                if isinstance(config, dict):
                    step_dir = as_str(config.get("working_directory")) or workdir
                    commands += self.source.commands(
                        config.get("command"), self.path, line(config, "command", run_line),
                        step_dir,
                    )
                else:
                    commands += self.source.commands(config, self.path, run_line, workdir)
            elif name in ("when", "unless"):
                self.steps(as_dict(config).get("steps"), commands, uses, workdir, depth + 1)
            elif name in self.commands:
                command = as_dict(self.commands[name])
                self.steps(command.get("steps"), commands, uses, workdir, depth + 1)
            elif "/" in name:
                uses.append(Use(self.orb(name), self.path, at))


def _requiring(entries: dict[str, tuple[str, dict[Any, Any], int]], gates: set[str]) -> dict[str, str]:
    """Jobs that (transitively) require an approval job, mapped to that approval."""
    gated: dict[str, str] = {}
    for _ in range(len(entries)):
        changed = False
        for alias, (_, config, _) in entries.items():
            if alias in gated:
                continue
            for required in str_list(config.get("requires")):
                gate = required if required in gates else gated.get(required)
                if gate:
                    gated[alias] = gate
                    changed = True
                    break
        if not changed:
            break
    return gated


def _flatten(node: Any, depth: int = 0) -> str:
    """A `when:` logic statement as one string of its scalars."""
    if depth > 6:
        return ""
    if isinstance(node, dict):
        return " ".join(f"{k} {_flatten(v, depth + 1)}" for k, v in node.items())
    if isinstance(node, list):
        return " ".join(_flatten(v, depth + 1) for v in node)
    return as_str(node)
