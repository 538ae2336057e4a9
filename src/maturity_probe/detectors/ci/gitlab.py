"""GitLab CI (`.gitlab-ci.yml`) as normalized jobs.

Resolves what GitLab resolves before running a pipeline: local `include:`s, hidden
`.template` jobs and `extends:`, `default:` / global `before_script`, YAML anchors and
`!reference` tags. Pipeline schedules live in GitLab's settings, not in the file, so a
job is schedule-triggered only when its rules or `only:` name the `schedule` source
(its cron is then unknown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from maturity_probe.detectors.ci.model import CiFile, CiJob, Command, Trigger, TriggerKind, Use
from maturity_probe.detectors.ci.nodes import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_NESTED_LISTS,
    SourceLines,
    item_lines,
    line,
    str_list,
)
from maturity_probe.detectors.context import RepoContext
from maturity_probe.yamlio import LineDict, as_dict, as_list, as_str

SYSTEM = "gitlab-ci"
ROOT_FILE = ".gitlab-ci.yml"
GLOBAL_KEYWORDS = {
    "stages", "variables", "include", "default", "workflow", "image", "services",
    "before_script", "after_script", "cache", "spec",
}  # fmt: skip
MAX_INCLUDES = 100
MAX_EXTENDS = 11  # GitLab's own nesting limit

SOURCE_KIND: dict[str, TriggerKind] = {
    "push": "push",
    "merge_request_event": "pull_request",
    "external_pull_request_event": "pull_request",
    "schedule": "schedule",
    "web": "manual",
    "chat": "manual",
    "webide": "manual",
    "api": "event",
    "trigger": "event",
    "pipeline": "upstream",
    "parent_pipeline": "upstream",
}
# `only:` / `except:` keywords -> pipeline source
_ONLY_SOURCES = {
    "schedules": "schedule", "triggers": "trigger", "api": "api", "web": "web",
    "pipelines": "pipeline", "merge_requests": "merge_request_event", "pushes": "push",
    "external_pull_requests": "external_pull_request_event", "chat": "chat",
}  # fmt: skip
_SOURCE_TEST = re.compile(r"\$CI_PIPELINE_SOURCE\s*(==|!=)\s*[\"']?([\w-]+)[\"']?")
_SOURCE_REGEX = re.compile(r"\$CI_PIPELINE_SOURCE\s*(=~|!~)\s*/(.+?)/")
_CHANGE_SOURCES = {"push", "merge_request_event", "external_pull_request_event"}
_MR_TEST = re.compile(r"\$CI_MERGE_REQUEST_\w+|\$CI_OPEN_MERGE_REQUESTS")


@dataclass
class _Rule:
    source: str
    when: str
    file: str
    line: int


class _Pipeline:
    """The merged configuration of a root file and its local includes."""

    def __init__(self, ctx: RepoContext, root: str) -> None:
        self.ctx = ctx
        self.root = root
        self.source = SourceLines(ctx)
        self.origin: dict[int, str] = {}  # id(node) -> file it was read from
        self.globals: dict[str, Any] = {}
        self.jobs: dict[str, tuple[Any, str]] = {}  # name -> (raw definition, file)
        self.job_lines: dict[str, int] = {}  # name -> line of its key
        self.template_includes: list[Use] = []
        self._included: set[str] = set()
        self._resolved: dict[str, dict[Any, Any]] = {}
        self._read(root, 0)

    # -- loading -----------------------------------------------------------------
    def _document(self, path: str) -> Any:
        docs = self.ctx.yaml_docs(path)
        if len(docs) > 1 and isinstance(docs[0], dict) and "spec" in docs[0]:
            return docs[1]  # a CI/CD component header, then the configuration
        return docs[0] if docs else None

    def _read(self, path: str, depth: int) -> None:
        if path in self._included or len(self._included) >= MAX_INCLUDES or depth > 10:
            return
        self._included.add(path)
        doc = self._document(path)
        if doc is None:
            return
        if not isinstance(doc, dict):
            self.ctx.warn(path, line(doc), "GitLab CI file is not a mapping, ignored")
            return
        self._remember_origin(doc, path, 0)
        for included in self._includes(doc.get("include"), path, line(doc, "include")):
            self._read(included, depth + 1)
        for key, value in doc.items():
            key = as_str(key)
            if key in GLOBAL_KEYWORDS:
                old = self.globals.get(key)
                self.globals[key] = deep_merge(old, value) if key == "default" else value
            elif isinstance(value, dict) or key.startswith("."):
                old_def = self.jobs.get(key)
                merged = deep_merge(old_def[0], value) if old_def else value
                self.jobs[key] = (merged, path)
                self.job_lines[key] = line(doc, key)

    def _remember_origin(self, node: Any, path: str, depth: int) -> None:
        if depth > MAX_DEPTH or id(node) in self.origin:
            return
        if isinstance(node, dict | list):
            self.origin[id(node)] = path
            for child in node.values() if isinstance(node, dict) else node:
                self._remember_origin(child, path, depth + 1)

    def _includes(self, node: Any, path: str, at: int) -> list[str]:
        entries = node if isinstance(node, list) else [node] if node is not None else []
        found: list[str] = []
        for entry in entries:
            if isinstance(entry, dict):
                local = as_str(entry.get("local"))
                template = as_str(entry.get("template"))
                if template:
                    self.template_includes.append(Use(template, path, line(entry, "template", at)))
                if not local:
                    continue
            else:
                local = as_str(entry)
                if not local or "://" in local:
                    continue
            pattern = local.lstrip("/")
            matches = self.ctx.matching(pattern) if "*" in pattern else (
                [pattern] if self.ctx.exists(pattern) else []
            )
            if not matches:
                self.ctx.warn(path, at, f"included file `{local}` not found in the repository")
            found += matches
        return found

    # -- resolving ---------------------------------------------------------------
    def reference(self, node: Any, depth: int = 0) -> Any:
        """The value a `!reference [.job, key, ...]` tag points to, or the node itself."""
        if not self._is_reference(node) or depth > MAX_EXTENDS:
            return node
        keys = [as_str(k) for k in node]
        target: Any = self.resolved(keys[0])
        for key in keys[1:]:
            target = as_dict(target).get(key)
        return self.reference(target, depth + 1)

    def _is_reference(self, node: Any) -> bool:
        if not isinstance(node, list) or not 2 <= len(node) <= 5:
            return False
        if not all(isinstance(item, str) for item in node) or node[0] not in self.jobs:
            return False
        file = self.origin.get(id(node), self.root)
        return "!reference" in self.source.text_at(file, line(node))

    def flat(self, node: Any, at: int = 0, depth: int = 0) -> list[tuple[Any, int, str]]:
        """Items of a list as (item, line, file), with `!reference` lists spliced in."""
        node = self.reference(node)
        file = self.origin.get(id(node), self.root)
        if not isinstance(node, list):
            return [(node, at, file)] if node is not None else []
        items: list[tuple[Any, int, str]] = []
        for index, item in enumerate(node):
            item_line = line(node, index, at)
            target = self.reference(item)
            if len(items) > MAX_ITEMS:
                break
            if isinstance(target, list) and depth < MAX_NESTED_LISTS:
                items += self.flat(target, item_line, depth + 1)
            elif target is item:
                items.append((item, item_line, file))
            elif target is not None:
                items.append((target, line(target, default=item_line),
                              self.origin.get(id(target), file)))
        return items

    def resolved(self, name: str, depth: int = 0) -> dict[Any, Any]:
        """A job definition with its `extends:` chain merged in (child keys win)."""
        if name not in self._resolved:
            self._resolved[name] = {}  # an `extends:` cycle resolves to nothing
            self._resolved[name] = self._resolve(name, depth)
        return self._resolved[name]

    def _resolve(self, name: str, depth: int) -> dict[Any, Any]:
        definition = as_dict(self.jobs.get(name, (None, ""))[0])
        parents = str_list(definition.get("extends"))
        if not parents or depth > MAX_EXTENDS:
            return definition
        merged: Any = None
        for parent in parents:
            if parent not in self.jobs:
                file = self.jobs[name][1]
                self.ctx.warn(file, line(definition, "extends"), f"extends unknown job `{parent}`")
                continue
            merged = deep_merge(merged, self.resolved(parent, depth + 1))
        return as_dict(deep_merge(merged, definition))


def deep_merge(base: Any, over: Any, depth: int = 0) -> Any:
    """GitLab's merge: mappings merge key by key, anything else is replaced by `over`."""
    if not isinstance(base, dict) or not isinstance(over, dict) or depth > MAX_DEPTH:
        return over
    merged = LineDict()
    merged.line = line(over) or line(base)
    merged.key_lines = {}
    for key, value in base.items():
        merged[key] = value
        merged.key_lines[key] = line(base, key)
    for key, value in over.items():
        merged[key] = deep_merge(merged.get(key), value, depth + 1) if key in merged else value
        merged.key_lines[key] = line(over, key)
    return merged


def parse_gitlab(ctx: RepoContext, path: str = ROOT_FILE) -> CiFile | None:
    if not ctx.yaml_docs(path):
        return None
    pipeline = _Pipeline(ctx, path)
    workflow_rules = _workflow_sources(pipeline)
    jobs = []
    for name, (_, file) in pipeline.jobs.items():
        if name.startswith(".") or name in GLOBAL_KEYWORDS:
            continue
        definition = pipeline.resolved(name)
        if not any(k in definition for k in ("script", "trigger", "run")):
            continue  # not a job GitLab would run
        jobs.append(_job(pipeline, name, definition, file, workflow_rules))
    root = pipeline._document(path)
    uses = tuple(pipeline.template_includes)
    return CiFile(SYSTEM, path, line(root, default=1) or 1, tuple(jobs), uses)


def _workflow_sources(pipeline: _Pipeline) -> list[_Rule] | None:
    rules = as_dict(pipeline.globals.get("workflow")).get("rules")
    if rules is None:
        return None
    return _evaluate_rules(pipeline, rules, pipeline.root, None)[0]


def _job(
    pipeline: _Pipeline, name: str, job: dict[Any, Any], file: str, workflow: list[_Rule] | None
) -> CiJob:
    job_line = pipeline.job_lines.get(name) or line(pipeline.jobs[name][0], default=1)
    rules, path_filters = _job_rules(pipeline, job, file, job_line, workflow)
    when = as_str(job.get("when"))
    if when == "manual":
        rules = [_Rule(r.source, "manual", r.file, r.line) for r in rules]
    disabled = when == "never" or not rules
    triggers = tuple(
        Trigger("manual" if r.when == "manual" else SOURCE_KIND.get(r.source, "event"),
                r.source, r.file, r.line)
        for r in rules
    ) + tuple(path_filters)
    manual = any(r.when == "manual" for r in rules)
    environments = _environment(job)
    return CiJob(
        system=SYSTEM,
        file=file,
        line=job_line,
        name=name,
        stage=as_str(job.get("stage")) or "test",
        commands=tuple(_commands(pipeline, job, file, job_line)),
        uses=tuple(_child_pipeline(job, file, job_line)),
        triggers=triggers,
        environments=environments,
        needs_approval=manual,
        approval="manual job (`when: manual`)" if manual else None,
        disabled=disabled,
        pipeline_file=pipeline.root,
    )


def _commands(pipeline: _Pipeline, job: dict[Any, Any], file: str, job_line: int) -> list[Command]:
    default = as_dict(pipeline.globals.get("default"))
    inherit_default = as_dict(job.get("inherit")).get("default", True) is not False
    commands: list[Command] = []
    budget = [MAX_ITEMS]  # shared by the job's scripts: aliases can repeat lists many times
    for key in ("before_script", "script", "after_script"):
        at = line(job, key, job_line)
        if key in job:
            node = job[key]
        elif key != "script" and inherit_default:
            holder = default if key in default else pipeline.globals
            node = holder.get(key)
            at = line(holder, key, job_line)
        else:
            continue
        for item, item_line, item_file in pipeline.flat(node, at):
            commands += pipeline.source.commands(item, item_file or file, item_line or job_line,
                                                 budget=budget)
            if budget[0] < 0:
                return commands
    return commands


def _job_rules(
    pipeline: _Pipeline,
    job: dict[Any, Any],
    file: str,
    job_line: int,
    workflow: list[_Rule] | None,
) -> tuple[list[_Rule], list[Trigger]]:
    """The sources a job runs on, and the path filters it has (`changes:`)."""
    default_sources = [r.source for r in workflow] if workflow is not None else ["push"]
    if "rules" in job:
        rules, filters = _evaluate_rules(pipeline, job["rules"], file, default_sources)
    elif "only" in job or "except" in job:
        rules, filters = _only_except(job, file, job_line)
    else:
        rules = [_Rule(source, "on_success", file, job_line) for source in default_sources]
        filters = []
    if workflow is not None:
        allowed = {r.source for r in workflow}
        rules = [r for r in rules if r.source in allowed]
    return rules, filters


def _sources_in(condition: str) -> tuple[set[str], set[str]]:
    """Pipeline sources a rule `if:` requires (==, =~) and excludes (!=, !~)."""
    required: set[str] = set()
    excluded: set[str] = set()
    for operator, source in _SOURCE_TEST.findall(condition):
        (required if operator == "==" else excluded).add(source)
    for operator, pattern in _SOURCE_REGEX.findall(condition):
        try:
            regex = re.compile(pattern)
        except re.error:
            continue
        matched = {s for s in SOURCE_KIND if regex.search(s)}
        (required if operator == "=~" else excluded).update(matched)
    if not required and _MR_TEST.search(condition):
        required.add("merge_request_event")
    return required, excluded


def _evaluate_rules(
    pipeline: _Pipeline, node: Any, file: str, default_sources: list[str] | None
) -> tuple[list[_Rule], list[Trigger]]:
    """Rules in order: `when: never` rules exclude their sources from the later ones."""
    defaults = default_sources or ["push"]
    rules_file = pipeline.origin.get(id(node), file)
    excluded: set[str] = set()
    found: list[_Rule] = []
    filters: list[Trigger] = []
    for rule, rule_line, rule_file in pipeline.flat(node, line(node)):
        rule = as_dict(rule)
        at = line(rule, "if", rule_line)
        rule_file = rule_file or rules_file
        condition = as_str(rule.get("if"))
        when = as_str(rule.get("when")) or "on_success"
        required, denied = _sources_in(condition)
        if when == "never":
            if not condition:
                break  # a final `- when: never` stops everything after it
            excluded |= required if not denied else set()
            continue
        sources = required or {s for s in defaults if s not in denied}
        changes = rule.get("changes")
        if changes is not None and not required:  # path filters are meant for pushes and MRs
            sources = (sources & _CHANGE_SOURCES) or {"push"}
        for source in sorted(sources - excluded):
            found.append(_Rule(source, when, rule_file, at))
        globs = as_dict(changes).get("paths") if isinstance(changes, dict) else changes
        for glob, glob_line in item_lines(globs):
            for source in sorted(sources - excluded):
                filters.append(Trigger("path_filter", source, rule_file, glob_line or at,
                                       as_str(glob)))
    return found, filters


def _only_except(job: dict[Any, Any], file: str, job_line: int) -> tuple[list[_Rule], list[Trigger]]:
    only, except_ = job.get("only"), job.get("except")
    only_refs = str_list(as_dict(only).get("refs")) if isinstance(only, dict) else str_list(only)
    except_refs = (
        str_list(as_dict(except_).get("refs")) if isinstance(except_, dict) else str_list(except_)
    )
    at = line(job, "only", job_line) if only is not None else job_line
    sources = {_ONLY_SOURCES.get(ref, "push") for ref in only_refs} or {"push"}
    sources -= {_ONLY_SOURCES[ref] for ref in except_refs if ref in _ONLY_SOURCES}
    rules = [_Rule(source, "on_success", file, at) for source in sorted(sources)]
    filters = []
    changes = as_dict(only).get("changes")
    for glob, glob_line in item_lines(as_dict(changes).get("paths") or changes):
        filters.append(Trigger("path_filter", "push", file, glob_line or at, as_str(glob)))
    return rules, filters


def _environment(job: dict[Any, Any]) -> tuple[str, ...]:
    env = job.get("environment")
    name = as_str(as_dict(env).get("name")) if isinstance(env, dict) else as_str(env)
    return (name,) if name else ()


def _child_pipeline(job: dict[Any, Any], file: str, job_line: int) -> list[Use]:
    """A trigger job starting a child pipeline from a local file."""
    trigger = job.get("trigger")
    if not isinstance(trigger, dict):
        project = as_str(trigger)
        return [Use(f"gitlab-project:{project}", file, line(job, "trigger", job_line))] if (
            project
        ) else []
    include = trigger.get("include")
    uses = []
    for entry in as_list(include) or [include]:
        local = as_str(as_dict(entry).get("local")) if isinstance(entry, dict) else as_str(entry)
        if local:
            uses.append(Use(f"gitlab-child:{local.lstrip('/')}", file, line(job, "trigger", job_line)))
    return uses
