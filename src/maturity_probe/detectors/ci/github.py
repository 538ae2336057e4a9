"""GitHub Actions workflows (`.github/workflows/*.yml`) as normalized jobs."""

from __future__ import annotations

import re
from typing import Any

from maturity_probe.detectors.ci.model import CiFile, CiJob, Command, Trigger, TriggerKind, Use
from maturity_probe.detectors.ci.nodes import SourceLines, is_false, item_lines, line, str_list
from maturity_probe.detectors.context import RepoContext
from maturity_probe.yamlio import as_dict, as_str

SYSTEM = "github-actions"
WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
ACTION_FILES = ("action.yml", "action.yaml")

_EVENT_KIND: dict[str, TriggerKind] = {
    "push": "push",
    "pull_request": "pull_request",
    "pull_request_target": "pull_request",
    "merge_group": "pull_request",
    "schedule": "schedule",
    "workflow_dispatch": "manual",
    "workflow_run": "upstream",
    "workflow_call": "upstream",
}
_EVENT_TEST = re.compile(
    r"github\.event_name\s*(==|!=)\s*['\"]([\w-]+)['\"]|['\"]([\w-]+)['\"]\s*(==|!=)\s*github\.event_name"
)
_SCHEDULE_TEST = re.compile(r"github\.event\.schedule\s*==\s*'([^']+)'")
_MATRIX_REF = re.compile(r"^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$")
# Actions whose inputs hold shell commands or manifests, as (input, command prefix).
_SCRIPT_INPUTS = {
    "azure/cli": ("inlinescript", ""),
    "azure/powershell": ("inlinescript", ""),
    "azure/k8s-deploy": ("manifests", "kubectl apply -f "),
}
_APPROVAL_ACTIONS = ("trstringer/manual-approval", "ekeel/approval-action")


def parse_workflow(ctx: RepoContext, path: str) -> CiFile | None:
    doc = ctx.yaml(path)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        ctx.warn(path, line(doc), "workflow is not a mapping, ignored")
        return None
    on_key = "on" if "on" in doc else True  # PyYAML reads the key `on:` as True
    if on_key not in doc:
        ctx.warn(path, line(doc), "workflow without `on:` triggers, ignored")
        return None
    triggers = workflow_triggers(doc[on_key], path, line(doc, on_key, 1))
    jobs_node = doc.get("jobs")
    if not isinstance(jobs_node, dict):
        ctx.warn(path, line(doc, "jobs", line(doc)), "workflow without a `jobs:` mapping, ignored")
        return None
    source = SourceLines(ctx)
    default_dir = as_str(as_dict(as_dict(doc.get("defaults")).get("run")).get("working-directory"))
    jobs = [
        _job(source, path, str(name), job, line(jobs_node, name), triggers, default_dir)
        for name, job in jobs_node.items()
        if isinstance(job, dict)
    ]
    return CiFile(SYSTEM, path, line(doc, on_key, 1), tuple(jobs))


def workflow_triggers(on: Any, path: str, on_line: int) -> list[Trigger]:
    """The triggers of `on:` (a string, a list of events, or a mapping of event -> config)."""
    if isinstance(on, str):
        return [_trigger(on, path, on_line)]
    if isinstance(on, list):
        return [_trigger(as_str(event), path, at or on_line) for event, at in item_lines(on)]
    triggers: list[Trigger] = []
    for event, config in as_dict(on).items():
        event = as_str(event)
        at = line(on, event, on_line)
        if event == "schedule":
            for entry, entry_line in item_lines(config):
                cron = as_str(as_dict(entry).get("cron")).strip()
                if cron:
                    cron_line = line(entry, "cron", entry_line or at)
                    triggers.append(Trigger("schedule", "schedule", path, cron_line, cron))
            continue
        config = as_dict(config)
        detail = None
        if event == "repository_dispatch":
            detail = ",".join(str_list(config.get("types"))) or None
        elif event == "workflow_run":
            detail = ",".join(str_list(config.get("workflows"))) or None
        triggers.append(_trigger(event, path, at, detail))
        if event in ("push", "pull_request", "pull_request_target"):
            for glob, glob_line in item_lines(config.get("paths")):
                if as_str(glob) and not as_str(glob).startswith("!"):
                    triggers.append(
                        Trigger("path_filter", event, path, glob_line or at, as_str(glob))
                    )
    return triggers


def _trigger(event: str, path: str, at: int, detail: str | None = None) -> Trigger:
    return Trigger(_EVENT_KIND.get(event, "event"), event, path, at, detail)


def narrow_by_condition(triggers: list[Trigger], condition: str) -> list[Trigger]:
    """Keep the triggers a job `if:` on `github.event_name` lets through."""
    allowed: set[str] = set()
    denied: set[str] = set()
    for match in _EVENT_TEST.finditer(condition):
        operator = match.group(1) or match.group(4)
        event = match.group(2) or match.group(3)
        (allowed if operator == "==" else denied).add(event)
    crons = {m.group(1).strip() for m in _SCHEDULE_TEST.finditer(condition)}
    kept = []
    for trigger in triggers:
        if allowed and trigger.source not in allowed:
            continue
        if trigger.source in denied:
            continue
        if crons and trigger.kind == "schedule" and (trigger.detail or "") not in crons:
            continue
        kept.append(trigger)
    return kept


def _job(
    source: SourceLines,
    path: str,
    name: str,
    job: dict[Any, Any],
    job_line: int,
    triggers: list[Trigger],
    default_dir: str,
) -> CiJob:
    condition = job.get("if")
    disabled = condition is not None and is_false(condition)
    if condition is not None and not disabled:
        triggers = narrow_by_condition(triggers, as_str(condition))
    job_dir = as_str(as_dict(as_dict(job.get("defaults")).get("run")).get("working-directory"))
    workdir = job_dir or default_dir
    commands: list[Command] = []
    uses: list[Use] = []
    approval = None
    if as_str(job.get("uses")):  # a reusable workflow
        uses.append(Use(as_str(job["uses"]), path, line(job, "uses", job_line)))
    for step, step_line in item_lines(job.get("steps")):
        step = as_dict(step)
        if "if" in step and is_false(step["if"]):
            continue
        step_dir = as_str(step.get("working-directory")) or workdir
        if "run" in step:
            commands += source.commands(step["run"], path, line(step, "run", step_line), step_dir)
        action = as_str(step.get("uses"))
        if action:
            uses.append(Use(action, path, line(step, "uses", step_line)))
            commands += _action_commands(source, path, action, step, step_line)
            if action.lower().startswith(_APPROVAL_ACTIONS):
                approval = f"approval step `{action.split('@')[0]}`"
    environments = _environments(job)
    if environments and approval is None:
        approval = f"environment `{environments[0]}` (reviewers are set on the environment)"
    return CiJob(
        system=SYSTEM,
        file=path,
        line=job_line,
        name=as_str(job.get("name")) or name,
        commands=tuple(commands),
        uses=tuple(uses),
        triggers=tuple(triggers),
        environments=environments,
        needs_approval=approval is not None,
        approval=approval,
        disabled=disabled,
        pipeline_file=path,
    )


def _action_commands(
    source: SourceLines, path: str, action: str, step: dict[Any, Any], step_line: int
) -> list[Command]:
    """Shell commands or manifests an action receives as inputs (azure/cli inlineScript ...)."""
    name = action.split("@")[0].lower()
    if name not in _SCRIPT_INPUTS:
        return []
    key, prefix = _SCRIPT_INPUTS[name]
    inputs = as_dict(step.get("with"))
    for input_name, value in inputs.items():
        if as_str(input_name).lower() != key:
            continue
        at = line(inputs, input_name, step_line)
        if prefix:
            return [
                Command(prefix + item.strip(), path, at)
                for item in re.split(r"[\n,]", as_str(value))
                if item.strip()
            ]
        return source.commands(value, path, at)
    return []


def _environments(job: dict[Any, Any]) -> tuple[str, ...]:
    env = job.get("environment")
    name = as_str(as_dict(env).get("name")) if isinstance(env, dict) else as_str(env)
    if not name:
        return ()
    matrix_ref = _MATRIX_REF.match(name.strip())
    if matrix_ref:  # environment: ${{ matrix.env }} deploys to every value of the matrix
        matrix = as_dict(as_dict(job.get("strategy")).get("matrix"))
        values = str_list(matrix.get(matrix_ref.group(1)))
        return tuple(values)
    return () if "${{" in name else (name,)


def composite_action(ctx: RepoContext, reference: str) -> tuple[str, list[Command], list[Use]]:
    """Steps of a local composite action (`uses: ./.github/actions/setup`)."""
    folder = reference.split("@")[0].removeprefix("./").rstrip("/")
    for file_name in ACTION_FILES:
        action_path = f"{folder}/{file_name}"
        if not ctx.exists(action_path):
            continue
        runs = as_dict(as_dict(ctx.yaml(action_path)).get("runs"))
        source = SourceLines(ctx)
        commands: list[Command] = []
        uses: list[Use] = []
        for step, step_line in item_lines(runs.get("steps")):
            step = as_dict(step)
            if "run" in step:
                commands += source.commands(step["run"], action_path, line(step, "run", step_line))
            if as_str(step.get("uses")):
                uses.append(Use(as_str(step["uses"]), action_path, line(step, "uses", step_line)))
        return action_path, commands, uses
    return "", [], []
