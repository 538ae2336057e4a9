"""Bitbucket Pipelines (`bitbucket-pipelines.yml`) as normalized jobs.

`default`, `branches` and `tags` pipelines run on push, `pull-requests` on pull
requests, `custom` pipelines when started by hand or by a schedule set in Bitbucket's
settings (a custom pipeline named like a schedule, e.g. `nightly-retrain`, is taken
as scheduled with an unknown cron). A step shared through a YAML anchor is one job.
"""

from __future__ import annotations

import re
from typing import Any

from maturity_probe.detectors.ci.model import CiFile, CiJob, Trigger, Use, merge_duplicates
from maturity_probe.detectors.ci.nodes import MAX_DEPTH, MAX_ITEMS, SourceLines, item_lines, line
from maturity_probe.detectors.context import RepoContext
from maturity_probe.yamlio import as_dict, as_str

SYSTEM = "bitbucket-pipelines"
BITBUCKET_FILE = "bitbucket-pipelines.yml"
_SCHEDULE_WORDS = re.compile(r"nightly|daily|weekly|hourly|monthly|schedul|cron", re.IGNORECASE)


def parse_bitbucket(ctx: RepoContext, path: str = BITBUCKET_FILE) -> CiFile | None:
    doc = ctx.yaml(path)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        ctx.warn(path, line(doc), "Bitbucket Pipelines file is not a mapping, ignored")
        return None
    pipelines = as_dict(doc.get("pipelines"))
    source = SourceLines(ctx)
    jobs: list[CiJob] = []
    for group, node in pipelines.items():
        at = line(pipelines, group)
        if group == "default":
            jobs += _steps(source, path, node, [Trigger("push", "default", path, at)], 0)
            continue
        for name, steps in as_dict(node).items():
            name_line = line(node, name, at)
            triggers = [_group_trigger(as_str(group), as_str(name), path, name_line)]
            jobs += _steps(source, path, steps, triggers, 0)
    return CiFile(SYSTEM, path, line(doc, "pipelines", 1), tuple(merge_duplicates(jobs)))


def _group_trigger(group: str, name: str, path: str, at: int) -> Trigger:
    if group == "pull-requests":
        return Trigger("pull_request", group, path, at, name)
    if group == "custom":
        if _SCHEDULE_WORDS.search(name):
            return Trigger("schedule", "custom", path, at, None)
        return Trigger("manual", "custom", path, at, name)
    return Trigger("push", group, path, at, name)


def _steps(
    source: SourceLines, path: str, node: Any, triggers: list[Trigger], depth: int,
    manual: bool = False, deployment: str | None = None,
) -> list[CiJob]:
    """Jobs of a pipeline's item list: steps, `parallel:` groups and `stage:`s."""
    jobs: list[CiJob] = []
    if depth > MAX_DEPTH:
        return jobs
    for item, at in item_lines(node):
        if len(jobs) > MAX_ITEMS:
            break
        item = as_dict(item)
        if "step" in item:
            jobs.append(_step(source, path, as_dict(item["step"]), at, triggers, manual,
                              deployment))
        elif "parallel" in item:
            parallel = item["parallel"]
            steps = as_dict(parallel).get("steps") if isinstance(parallel, dict) else parallel
            jobs += _steps(source, path, steps, triggers, depth + 1, manual, deployment)
        elif "stage" in item:
            stage = as_dict(item["stage"])
            stage_manual = manual or as_str(stage.get("trigger")) == "manual"
            stage_triggers = triggers + _path_filters(stage, path, at, triggers)
            jobs += _steps(source, path, stage.get("steps"), stage_triggers, depth + 1,
                           stage_manual, as_str(stage.get("deployment")) or deployment)
    return jobs


def _path_filters(node: dict[Any, Any], path: str, at: int, triggers: list[Trigger]) -> list[
    Trigger
]:
    includes = as_dict(as_dict(node.get("condition")).get("changesets")).get("includePaths")
    sources = {t.source for t in triggers if t.kind in ("push", "pull_request")}
    return [
        Trigger("path_filter", event, path, glob_line or at, as_str(glob))
        for glob, glob_line in item_lines(includes)
        for event in sorted(sources)
    ]


def _step(
    source: SourceLines,
    path: str,
    step: dict[Any, Any],
    at: int,
    triggers: list[Trigger],
    manual: bool,
    deployment: str | None,
) -> CiJob:
    step_line = line(step, default=at)
    commands = []
    uses = []
    for key in ("script", "after-script"):
        for entry, entry_line in item_lines(step.get(key)):
            if isinstance(entry, dict) and "pipe" in entry:
                uses.append(Use(as_str(entry["pipe"]), path, line(entry, "pipe", entry_line)))
            else:
                commands += source.commands(entry, path, entry_line)
    manual = manual or as_str(step.get("trigger")) == "manual"
    environment = as_str(step.get("deployment")) or deployment
    step_triggers = triggers + _path_filters(step, path, step_line, triggers)
    if manual:
        step_triggers = [
            Trigger("manual", t.source, t.file, t.line, t.detail) if t.kind != "path_filter" else t
            for t in step_triggers
        ]
    return CiJob(
        system=SYSTEM,
        file=path,
        line=step_line,
        name=as_str(step.get("name")) or f"step at line {step_line}",
        commands=tuple(commands),
        uses=tuple(uses),
        triggers=tuple(step_triggers),
        environments=(environment,) if environment else (),
        needs_approval=manual,
        approval="manual step (`trigger: manual`)" if manual else None,
        pipeline_file=path,
    )
