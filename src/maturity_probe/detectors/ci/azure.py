"""Azure Pipelines YAML as normalized jobs.

Reads `trigger:` / `pr:` (with `paths:`), `schedules:`, `resources` (pipelines and
webhooks), stages / jobs / deployment jobs / steps, and local `template:` references
(stage, job and step templates, `extends:`). A template file is not a pipeline itself.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
from typing import Any

from maturity_probe.detectors.ci.model import (
    CiFile,
    CiJob,
    Command,
    Trigger,
    TriggerKind,
    Use,
    merge_duplicates,
)
from maturity_probe.detectors.ci.nodes import (
    MAX_DEPTH,
    MAX_ITEMS,
    SourceLines,
    is_false,
    item_lines,
    line,
    str_list,
)
from maturity_probe.detectors.context import RepoContext
from maturity_probe.yamlio import as_dict, as_list, as_str

SYSTEM = "azure-pipelines"
AZURE_GLOBS = (
    "**/azure-pipeline*.yml", "**/azure-pipeline*.yaml", ".azure-pipelines/**/*.yml",
    ".azure-pipelines/**/*.yaml", ".azuredevops/**/*.yml", ".azuredevops/**/*.yaml",
    ".ado/**/*.yml", ".ado/**/*.yaml",
)  # fmt: skip
PIPELINE_KEYS = ("trigger", "pr", "schedules", "resources", "pool", "name", "variables")
_REASON_KIND: dict[str, TriggerKind] = {
    "Schedule": "schedule", "Manual": "manual", "IndividualCI": "push", "BatchedCI": "push",
    "PullRequest": "pull_request", "ResourceTrigger": "upstream",
}  # fmt: skip
_REASON_TEST = re.compile(
    r"(eq|ne)\(\s*variables\[['\"]Build\.Reason['\"]\]\s*,\s*'(\w+)'\s*\)"
    r"|(eq|ne)\(\s*variables\.Build\.Reason\s*,\s*'(\w+)'\s*\)",
    re.IGNORECASE,
)
_REASON_LIST = re.compile(
    r"(in|notIn)\(\s*variables(?:\[['\"]Build\.Reason['\"]\]|\.Build\.Reason)\s*,([^)]*)\)",
    re.IGNORECASE,
)
_APPROVAL_TASKS = ("manualvalidation@", "manualintervention@")


def _resolve_template(current: str, reference: str) -> str | None:
    """Repository path of a local template reference, None for `x.yml@other-repo`."""
    if "@" in reference and not reference.endswith("@self"):
        return None
    reference = reference.removesuffix("@self")
    if reference.startswith("/"):
        return posixpath.normpath(reference.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(current), reference))


def template_references(ctx: RepoContext, path: str) -> set[str]:
    """Every local template a pipeline file names (those files are not pipelines)."""
    found: set[str] = set()
    stack: list[tuple[Any, int]] = [(doc, 0) for doc in ctx.yaml_docs(path)]
    visited: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH or id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, dict):
            reference = as_str(node.get("template"))
            if reference and (resolved := _resolve_template(path, reference)):
                found.add(resolved)
            stack += [(value, depth + 1) for value in node.values()]
        elif isinstance(node, list):
            stack += [(item, depth + 1) for item in node]
    return found


def pipeline_files(ctx: RepoContext) -> list[str]:
    candidates = ctx.matching(*AZURE_GLOBS)
    templates: set[str] = set()
    for path in candidates:
        templates |= template_references(ctx, path)
    roots = []
    for path in candidates:
        doc = as_dict(ctx.yaml(path))
        if path in templates or not doc:
            continue
        has_body = any(k in doc for k in ("stages", "jobs", "steps", "extends"))
        looks_like_template = "parameters" in doc and not any(k in doc for k in PIPELINE_KEYS)
        if has_body and not looks_like_template:
            roots.append(path)
    return roots


@dataclass(frozen=True)
class _Scope:
    """Where the walk is: triggers that apply, stage name, file being read."""

    file: str
    triggers: tuple[Trigger, ...]
    stage: str | None
    depth: int


class _Reader:
    def __init__(self, ctx: RepoContext, root: str) -> None:
        self.ctx = ctx
        self.root = root
        self.source = SourceLines(ctx)
        self.jobs: list[CiJob] = []

    def template(self, scope: _Scope, reference: str, at: int) -> tuple[str, dict[Any, Any]]:
        path = _resolve_template(scope.file, reference)
        if path is None or scope.depth > MAX_DEPTH:
            return "", {}
        if not self.ctx.exists(path):
            self.ctx.warn(scope.file, at, f"template `{reference}` not found in the repository")
            return "", {}
        return path, as_dict(self.ctx.yaml(path))

    def stages(self, node: Any, scope: _Scope) -> None:
        for stage, at in _expanded(node):
            stage = as_dict(stage)
            if "template" in stage:
                path, doc = self.template(scope, as_str(stage["template"]), at)
                if path:
                    self.stages(doc.get("stages"), replace(scope, file=path, depth=scope.depth + 1))
                continue
            if is_false(stage.get("condition")):
                continue
            triggers = narrow(scope.triggers, as_str(stage.get("condition")))
            name = as_str(stage.get("stage")) or None
            self.jobs_of(stage.get("jobs"), replace(scope, triggers=tuple(triggers), stage=name))

    def jobs_of(self, node: Any, scope: _Scope) -> None:
        approvers: set[str] = set()
        pending: list[tuple[CiJob, list[str]]] = []
        for job, at in _expanded(node):
            job = as_dict(job)
            if "template" in job:
                path, doc = self.template(scope, as_str(job["template"]), at)
                if path:
                    self.jobs_of(doc.get("jobs"), replace(scope, file=path, depth=scope.depth + 1))
                continue
            ci_job = self.job(job, at, scope)
            if any(u.name.lower().startswith(_APPROVAL_TASKS) for u in ci_job.uses):
                approvers.add(ci_job.name)
            pending.append((ci_job, str_list(job.get("dependsOn"))))
        for ci_job, depends_on in pending:
            gate = next((d for d in depends_on if d in approvers), None)
            if gate and not ci_job.needs_approval:
                ci_job = replace(ci_job, needs_approval=True,
                                 approval=f"manual validation in job `{gate}`")
            self.jobs.append(ci_job)

    def job(self, job: dict[Any, Any], at: int, scope: _Scope) -> CiJob:
        deployment = "deployment" in job
        name = as_str(job.get("deployment") if deployment else job.get("job")) or "job"
        condition = job.get("condition")
        triggers = narrow(scope.triggers, as_str(condition))
        workdir = as_str(job.get("workingDirectory"))
        commands: list[Command] = []
        uses: list[Use] = []
        steps = job.get("steps")
        if deployment:
            steps = [s for node in _steps_lists(job.get("strategy"), 0) for s in node]
            steps = steps or job.get("steps")
        self.steps(steps, scope, commands, uses, workdir)
        environments = _environments(job.get("environment"))
        approval = None
        if deployment and environments:
            approval = f"environment `{environments[0]}` (approvals and checks are set on it)"
        if any(u.name.lower().startswith(_APPROVAL_TASKS) for u in uses):
            approval = "manual validation task"
        return CiJob(
            system=SYSTEM,
            file=scope.file,
            line=line(job, "deployment" if deployment else "job", at),
            name=name,
            stage=scope.stage,
            commands=tuple(commands),
            uses=tuple(uses),
            triggers=tuple(triggers),
            environments=environments,
            needs_approval=approval is not None,
            approval=approval,
            disabled=condition is not None and is_false(condition),
            pipeline_file=self.root,
        )

    def steps(
        self, node: Any, scope: _Scope, commands: list[Command], uses: list[Use], workdir: str
    ) -> None:
        for step, at in _expanded(node):
            step = as_dict(step)
            if step.get("enabled") is False or is_false(step.get("condition")):
                continue
            step_dir = as_str(step.get("workingDirectory")) or workdir
            if "template" in step:
                path, doc = self.template(scope, as_str(step["template"]), at)
                if path:
                    inner = replace(scope, file=path, depth=scope.depth + 1)
                    self.steps(doc.get("steps"), inner, commands, uses, workdir)
                continue
            for key in ("script", "bash", "pwsh", "powershell"):
                if key in step:
                    commands += self.source.commands(step[key], scope.file, line(step, key, at),
                                                     step_dir)
            task = as_str(step.get("task"))
            if task:
                uses.append(Use(task, scope.file, line(step, "task", at)))
                commands += self.task_commands(task, as_dict(step.get("inputs")), scope.file, at)

    def task_commands(
        self, task: str, inputs: dict[Any, Any], path: str, at: int
    ) -> list[Command]:
        """Shell commands a task stands for (PythonScript@0, AzureCLI@2, Docker@2, ...)."""
        name = task.split("@")[0].lower()
        value = {as_str(k).lower(): v for k, v in inputs.items()}
        line_of = {as_str(k).lower(): line(inputs, k, at) for k in inputs}
        if name in ("pythonscript", "bash", "shellscript", "cmdline", "azurecli", "powershell"):
            for key in ("inlinescript", "script"):
                if key in value:
                    return self.source.commands(value[key], path, line_of[key])
            for key in ("scriptpath", "filepath"):
                if key in value:
                    runner = "python" if name == "pythonscript" else "bash"
                    arguments = as_str(value.get("arguments"))
                    text = f"{runner} {as_str(value[key])} {arguments}".strip()
                    return [Command(text, path, line_of[key])]
        command = as_str(value.get("command"))
        if name == "dotnetcorecli" and command in ("test", "build", "publish", "pack"):
            return [Command(f"dotnet {command}", path, line_of["command"])]
        if name == "maven":  # goals default to `package`, Gradle's tasks to `build`
            return [Command(f"mvn {as_str(value.get('goals')) or 'package'}", path, at)]
        if name == "gradle":
            return [Command(f"gradle {as_str(value.get('tasks')) or 'build'}", path, at)]
        if name == "npm" and command == "custom":
            return [Command(f"npm {as_str(value.get('customcommand'))}", path, at)]
        if name == "docker" and as_str(value.get("command") or "buildAndPush") in (
            "build", "buildAndPush"
        ):
            return [Command("docker build .", path, at)]
        if name == "kubernetesmanifest" and as_str(value.get("action") or "deploy") == "deploy":
            manifests = [m.strip() for m in as_str(value.get("manifests")).splitlines()]
            return [Command(f"kubectl apply -f {m}", path, line_of["manifests"]) for m in manifests
                    if m]
        if name == "kubernetes" and as_str(value.get("command")) == "apply":
            config = as_str(value.get("configuration"))
            args = f"-f {config}" if config else as_str(value.get("arguments"))
            return [Command(f"kubectl apply {args}", path, at)]
        if name == "helmdeploy" and as_str(value.get("command")) in ("upgrade", "install"):
            chart = as_str(value.get("chartpath") or value.get("chartname"))
            release = as_str(value.get("releasename")) or "release"
            return [Command(f"helm upgrade --install {release} {chart}", path, at)]
        return []


def _expanded(node: Any, depth: int = 0) -> list[tuple[Any, int]]:
    """Items of a list, with `${{ if ... }}:` / `${{ each ... }}:` blocks opened up."""
    items: list[tuple[Any, int]] = []
    for item, at in item_lines(node):
        if len(items) > MAX_ITEMS:
            break
        keys = list(item) if isinstance(item, dict) else []
        if len(keys) == 1 and as_str(keys[0]).startswith("${{") and depth < MAX_DEPTH:
            items += _expanded(item[keys[0]], depth + 1)
        else:
            items.append((item, at))
    return items


def _steps_lists(node: Any, depth: int) -> list[list[Any]]:
    """All `steps:` lists under a deployment strategy (deploy, routeTraffic, on.success ...)."""
    if depth > 4 or not isinstance(node, dict):
        return []
    found: list[list[Any]] = []
    for key, value in node.items():
        if key == "steps" and isinstance(value, list):
            found.append(value)
        else:
            found += _steps_lists(value, depth + 1)
    return found


def _environments(node: Any) -> tuple[str, ...]:
    name = as_str(as_dict(node).get("name")) if isinstance(node, dict) else as_str(node)
    name = name.split(".")[0]
    return (name,) if name and "$" not in name else ()


def narrow(triggers: tuple[Trigger, ...], condition: str) -> list[Trigger]:
    """Keep the triggers a `condition:` on `Build.Reason` lets through."""
    allowed: set[str] = set()
    denied: set[str] = set()
    for match in _REASON_TEST.finditer(condition):
        operator = (match.group(1) or match.group(3)).lower()
        reason = match.group(2) or match.group(4)
        (allowed if operator == "eq" else denied).add(reason.lower())
    for operator, values in _REASON_LIST.findall(condition):
        reasons = {v.strip(" '\"").lower() for v in values.split(",")}
        (allowed if operator.lower() == "in" else denied).update(reasons)
    return [
        t for t in triggers
        if (not allowed or t.source.lower() in allowed) and t.source.lower() not in denied
    ]  # fmt: skip


def root_triggers(doc: dict[Any, Any], path: str) -> list[Trigger]:
    triggers: list[Trigger] = []
    for key, source, kind in (("trigger", "IndividualCI", "push"),
                              ("pr", "PullRequest", "pull_request")):
        node = doc.get(key)
        at = line(doc, key, line(doc, default=1))
        if node is None:
            if key == "trigger":  # no `trigger:` means every push runs the pipeline
                triggers.append(Trigger("push", source, path, at))
            continue
        if as_str(node).lower() == "none" or node is False:
            continue
        triggers.append(Trigger(kind, source, path, at))  # type: ignore[arg-type]
        paths = as_dict(as_dict(node).get("paths")).get("include")
        for glob, glob_line in item_lines(paths):
            triggers.append(Trigger("path_filter", source, path, glob_line or at, as_str(glob)))
    for entry, at in item_lines(doc.get("schedules")):
        cron = as_str(as_dict(entry).get("cron")).strip()
        if cron:
            triggers.append(Trigger("schedule", "Schedule", path, line(entry, "cron", at), cron))
    resources = as_dict(doc.get("resources"))
    for entry, at in item_lines(resources.get("pipelines")):
        entry = as_dict(entry)
        trigger = entry.get("trigger")
        if trigger is not None and trigger is not False and as_str(trigger).lower() != "none":
            upstream = as_str(entry.get("source")) or as_str(entry.get("pipeline"))
            triggers.append(Trigger("upstream", "ResourceTrigger", path, at, upstream))
    for entry, at in item_lines(resources.get("webhooks")):
        name = as_str(as_dict(entry).get("webhook"))
        if name:
            triggers.append(Trigger("event", "ResourceTrigger", path, at, f"webhook {name}"))
    return triggers


def parse_azure(ctx: RepoContext, path: str) -> CiFile | None:
    doc = ctx.yaml(path)
    if not isinstance(doc, dict):
        return None
    triggers = tuple(root_triggers(doc, path))
    reader = _Reader(ctx, path)
    scope = _Scope(path, triggers, None, 0)
    body: dict[Any, Any] = doc
    extends = as_dict(doc.get("extends"))
    if "template" in extends:
        template_path, body = reader.template(scope, as_str(extends["template"]),
                                              line(extends, "template"))
        if template_path:
            scope = replace(scope, file=template_path, depth=1)
        _inline_parameters(reader, extends.get("parameters"), replace(scope, file=path))
    if "stages" in body:
        reader.stages(body["stages"], scope)
    elif "jobs" in body:
        reader.jobs_of(body["jobs"], scope)
    elif "steps" in body:
        implicit = as_dict({"job": "job", "steps": body["steps"]})
        reader.jobs.append(replace(reader.job(implicit, line(body, "steps"), scope),
                                   line=line(body, "steps", 1)))
    return CiFile(SYSTEM, path, line(doc, default=1) or 1, tuple(merge_duplicates(reader.jobs)))


def _inline_parameters(reader: _Reader, parameters: Any, scope: _Scope) -> None:
    """Stages or jobs passed to an `extends:` template as parameters."""
    for value in as_dict(parameters).values():
        items = as_list(value)
        if any("stage" in as_dict(i) for i in items):
            reader.stages(items, scope)
        elif any("job" in as_dict(i) or "deployment" in as_dict(i) for i in items):
            reader.jobs_of(items, scope)
