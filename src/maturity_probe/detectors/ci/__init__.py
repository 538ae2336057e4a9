"""CI definitions: jobs classified by what they run and how they are triggered.

`model` holds the normalized job model, one module per CI system turns its files into
jobs (`github`, `gitlab`, `jenkins`, `azure`, `circleci`, `bitbucket`), `commands` says
what a command does by following what it calls, and `registry` parses and classifies
once per repository. The detectors below are small functions, one per signal.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator

from maturity_probe.detectors import detector
from maturity_probe.detectors.ci.commands import known_use
from maturity_probe.detectors.ci.model import CiJob, Trigger
from maturity_probe.detectors.ci.nodes import item_lines, line
from maturity_probe.detectors.ci.registry import CI_GLOBS, ClassifiedJob, ci_files, classified_jobs
from maturity_probe.detectors.context import Finding, RepoContext
from maturity_probe.evidence import JsonValue
from maturity_probe.words import either, plural
from maturity_probe.yamlio import as_dict, as_str

DEPENDABOT_FILES = (".github/dependabot.yml", ".github/dependabot.yaml")
RENOVATE_FILES = (
    "renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json", ".github/renovate.json",
    ".github/renovate.json5", ".gitlab/renovate.json",
)  # fmt: skip
GITLAB_SECURITY_TEMPLATES = re.compile(
    r"(?:Security|Jobs)/(?:SAST|Dependency-Scanning|Secret-Detection|Container-Scanning|DAST|"
    r"SAST-IaC)", re.IGNORECASE)  # fmt: skip
GITLAB_CODE_QUALITY = re.compile(r"Jobs/Code-Quality|(?:^|/)Code-Quality\.gitlab-ci", re.IGNORECASE)
ALERT_WORDS = re.compile(r"drift|alert|degrad|retrain|monitor|anomal", re.IGNORECASE)
DATA_DIRS = {"data", "datasets", "dataset", "training-data", "training_data", "raw-data",
             "raw_data", "features"}  # fmt: skip
DATA_EXTENSIONS = (".dvc", ".csv", ".parquet", ".jsonl", ".tsv", ".feather", ".arrow", ".avro",
                   ".tfrecord")  # fmt: skip
ALL_GLOBS = (*CI_GLOBS, *DEPENDABOT_FILES, *RENOVATE_FILES)

PURPOSE_SIGNALS = {
    "test": ("ci.test_job", "runs tests"),
    "lint": ("ci.lint_job", "lints or type-checks the code"),
    "build": ("ci.build_job", "builds a release"),
    "data_validation": ("ci.data_validation_job", "validates data"),
    "train": ("ci.training_job", "trains a model"),
    "evaluate": ("ci.model_evaluation_job", "evaluates a model"),
    "register": ("ci.model_registration_job", "registers a model"),
    "deploy": ("ci.model_deployment_job", "deploys a model"),
    "deploy_pipeline": ("ci.pipeline_deployment_job", "deploys an ML pipeline"),
}


# -- shared helpers --------------------------------------------------------------------
def _job_attributes(job: CiJob) -> dict[str, JsonValue]:
    triggers = job.active_triggers()
    attributes: dict[str, JsonValue] = {
        "system": job.system,
        "job": job.name,
        "triggers": sorted({t.kind for t in triggers}),
    }
    if job.stage:
        attributes["stage"] = job.stage
    if job.pipeline_file and job.pipeline_file != job.file:
        attributes["pipeline"] = job.pipeline_file
    if job.environments:
        attributes["environments"] = list(job.environments)
    schedules = [t.detail for t in triggers if t.kind == "schedule"]
    if schedules:
        attributes["schedules"] = schedules
    return attributes


def _purpose_findings(ctx: RepoContext, purpose: str) -> Iterator[Finding]:
    """One finding per job with the purpose, at the job's line, saying why."""
    signal, verb = PURPOSE_SIGNALS[purpose]
    seen: set[tuple[str, int]] = set()
    for classified in classified_jobs(ctx):
        reasons = classified.reasons.get(purpose)
        job = classified.job
        if not reasons or (job.file, job.line) in seen:
            continue
        seen.add((job.file, job.line))
        attributes = _job_attributes(job)
        attributes["reasons"] = [r.text for r in reasons[:3]]
        yield Finding(
            signal=signal,
            path=job.file,
            line=job.line,
            summary=f"job `{job.name}` in {job.file} {verb} ({reasons[0].text})",
            attributes=attributes,
        )


def _jobs_with(ctx: RepoContext, purpose: str) -> list[ClassifiedJob]:
    return [c for c in classified_jobs(ctx) if purpose in c.reasons]


def _grouped_by_trigger(
    jobs: Iterable[tuple[CiJob, Trigger]],
) -> dict[tuple[str, int, str | None], list[tuple[CiJob, Trigger]]]:
    """Jobs sharing one trigger (a workflow's cron) are one finding at that trigger."""
    groups: dict[tuple[str, int, str | None], list[tuple[CiJob, Trigger]]] = {}
    for job, trigger in jobs:
        groups.setdefault((trigger.file, trigger.line, trigger.detail), []).append((job, trigger))
    return groups


def _names(jobs: list[tuple[CiJob, Trigger]]) -> list[str]:
    return list(dict.fromkeys(job.name for job, _ in jobs))


def _training_reason(ctx: RepoContext, job: CiJob) -> str:
    for classified in _jobs_with(ctx, "train"):
        if classified.job is job:
            return classified.reasons["train"][0].text
    return ""


def is_data_path(glob: str) -> bool:
    """A path filter on data or DVC files: `data/**`, `*.dvc`, `dvc.lock`, `**/*.csv`."""
    lowered = glob.lower().strip().lstrip("!").removeprefix("./")
    name = posixpath.basename(lowered.rstrip("/*"))
    if name == "dvc.lock" or lowered.endswith(DATA_EXTENSIONS):
        return True
    return any(part in DATA_DIRS for part in lowered.split("/"))


def is_alert_trigger(job: CiJob, trigger: Trigger) -> bool:
    """An external event that can come from monitoring, not a push or a person."""
    if trigger.kind not in ("event", "upstream"):
        return False
    if trigger.source == "repository_dispatch":
        return True
    if job.system == "gitlab-ci" and trigger.source in ("trigger", "api", "pipeline"):
        return True
    if job.system == "azure-pipelines" and (trigger.detail or "").startswith("webhook"):
        return True
    return bool(ALERT_WORDS.search(trigger.detail or ""))


# -- detectors -----------------------------------------------------------------------------
@detector(signals=["ci.pipeline"], wants=CI_GLOBS)
def pipelines(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.pipeline: one per CI definition file (GitHub Actions, GitLab CI, Jenkins, Azure
    Pipelines, CircleCI, Bitbucket), with its system and jobs."""
    for ci_file in ci_files(ctx):
        jobs = [job for job in ci_file.jobs if not job.disabled]
        if not jobs and not ci_file.jobs:
            continue
        names = list(dict.fromkeys(job.name for job in jobs))
        triggers = sorted({t.kind for job in jobs for t in job.active_triggers()})
        listed = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        yield Finding(
            signal="ci.pipeline",
            path=ci_file.path,
            line=ci_file.line,
            summary=f"{ci_file.label} {ci_file.path} with {plural(jobs, 'job')} ({listed})"
            + (f", triggered by {_trigger_words(triggers)}" if triggers else ""),
            attributes={
                "system": ci_file.system,
                "jobs": len(jobs),
                "job_names": names[:30],
                "disabled_jobs": len(ci_file.jobs) - len(jobs),
                "triggers": triggers,
            },
        )


TRIGGER_WORDS = {  # in this order in summaries; the attributes keep the kinds
    "push": "pushes", "pull_request": "pull requests", "path_filter": "changes to filtered paths",
    "schedule": "a schedule", "manual": "manual runs", "event": "events",
    "upstream": "upstream pipelines",
}


def _trigger_words(kinds: Iterable[str]) -> str:
    """`pushes or a schedule` for the trigger kinds `push` and `schedule`."""
    ordered = sorted(kinds, key=lambda k: list(TRIGGER_WORDS).index(k) if k in TRIGGER_WORDS
                     else len(TRIGGER_WORDS))
    return either(TRIGGER_WORDS.get(kind, kind) for kind in ordered)


@detector(signals=["ci.test_job"], wants=CI_GLOBS)
def test_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.test_job: CI jobs that run tests (pytest, unittest, tox / nox test sessions,
    make test, npm test, go test, mvn test ...). Linters alone are not tests."""
    yield from _purpose_findings(ctx, "test")


@detector(signals=["ci.lint_job"], wants=CI_GLOBS)
def lint_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.lint_job: CI jobs that lint, type-check or check formatting (ruff, flake8,
    mypy, pre-commit, black --check, eslint, go vet, make lint ...); GitLab's Code Quality
    template."""
    yield from _purpose_findings(ctx, "lint")
    for ci_file in ci_files(ctx):
        for use in ci_file.uses:
            if GITLAB_CODE_QUALITY.search(use.name):
                yield Finding(
                    signal="ci.lint_job",
                    path=use.file,
                    line=use.line,
                    summary=f"{ci_file.path} includes GitLab's Code Quality job ({use.name})",
                    attributes={"system": ci_file.system, "job": "code_quality",
                                "reasons": [f"includes {use.name}"]},
                )


@detector(signals=["ci.build_job"], wants=CI_GLOBS)
def build_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.build_job: CI jobs that build or package a release (images, wheels)."""
    yield from _purpose_findings(ctx, "build")


@detector(signals=["ci.data_validation_job"], wants=CI_GLOBS)
def data_validation_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.data_validation_job: CI jobs that validate data (Great Expectations, scripts
    using a data validation library)."""
    yield from _purpose_findings(ctx, "data_validation")


@detector(signals=["ci.training_job"], wants=CI_GLOBS)
def training_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.training_job: CI jobs that train a model, judged by the code they run (training
    scripts, dvc repro, mlflow run, cloud training jobs), never by the job's name."""
    yield from _purpose_findings(ctx, "train")


@detector(signals=["ci.model_evaluation_job"], wants=CI_GLOBS)
def evaluation_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.model_evaluation_job: CI jobs that evaluate a model (evaluation scripts,
    mlflow.evaluate)."""
    yield from _purpose_findings(ctx, "evaluate")


@detector(signals=["ci.model_registration_job"], wants=CI_GLOBS)
def registration_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.model_registration_job: CI jobs that register a model in a registry."""
    yield from _purpose_findings(ctx, "register")


@detector(signals=["ci.model_deployment_job"], wants=CI_GLOBS)
def deployment_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.model_deployment_job: CI jobs that deploy a model or its serving (serving
    manifests, endpoints, model deployment CLIs and scripts)."""
    yield from _purpose_findings(ctx, "deploy")


@detector(signals=["ci.pipeline_deployment_job"], wants=CI_GLOBS)
def pipeline_deployment_jobs(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.pipeline_deployment_job: CI jobs that publish or schedule an ML pipeline."""
    yield from _purpose_findings(ctx, "deploy_pipeline")


@detector(signals=["ci.gated_release"], wants=CI_GLOBS)
def gated_releases(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.gated_release: model deployment jobs that wait for a human (protected
    environment, manual job, approval job or step, or a manual-only trigger)."""
    for classified in _jobs_with(ctx, "deploy"):
        job = classified.job
        triggers = [t for t in job.active_triggers() if t.kind != "path_filter"]
        manual_only = bool(triggers) and all(t.kind == "manual" for t in triggers)
        if not job.needs_approval and not manual_only:
            continue
        gate = job.approval or "started manually only"
        yield Finding(
            signal="ci.gated_release",
            path=job.file,
            line=job.line,
            summary=f"model deployment job `{job.name}` in {job.file} waits for approval: {gate}",
            attributes={**_job_attributes(job), "approval": gate},
        )


@detector(signals=["ci.deployment_environments"], wants=CI_GLOBS)
def deployment_environments(ctx: RepoContext) -> Iterator[Finding]:
    """Emits ci.deployment_environments: once per repository, the distinct environments that
    model or pipeline deployment jobs target."""
    jobs = [c.job for c in classified_jobs(ctx)
            if ("deploy" in c.reasons or "deploy_pipeline" in c.reasons) and c.job.environments]
    environments = sorted({env for job in jobs for env in job.environments})
    if not environments:
        return
    first = min(jobs, key=lambda job: (job.file, job.line))
    yield Finding(
        signal="ci.deployment_environments",
        path=first.file,
        line=first.line,
        summary=f"deployment jobs target {plural(environments, 'environment')}: "
        + ", ".join(environments),
        attributes={"environments": environments, "count": len(environments),
                    "jobs": [f"{f}:{n}" for f, n in sorted({(j.file, j.line) for j in jobs})]},
    )


@detector(signals=["retrain.scheduled"], wants=CI_GLOBS)
def scheduled_retraining(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.scheduled: training jobs (or jobs starting a training pipeline) with a
    schedule trigger, at the schedule's line, with its cron (null when set outside the file)."""
    pairs = ((c.job, t) for c in _jobs_with(ctx, "train") for t in c.job.schedules())
    for (path, at, cron), group in _grouped_by_trigger(pairs).items():
        job = group[0][0]
        when = f"on cron `{cron}`" if cron else "on a schedule set outside the file"
        yield Finding(
            signal="retrain.scheduled",
            path=path,
            line=at,
            summary=f"job `{job.name}` in {job.file} trains a model {when} "
            f"({_training_reason(ctx, job)})",
            attributes={"cron": cron, "system": job.system, "jobs": _names(group),
                        "file": job.file},
        )


@detector(signals=["retrain.on_data_change"], wants=CI_GLOBS)
def data_change_retraining(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.on_data_change: training jobs triggered by path filters on data or DVC
    files (`data/**`, `*.dvc`, `dvc.lock`)."""
    for classified in _jobs_with(ctx, "train"):
        job = classified.job
        filters = [t for t in job.active_triggers()
                   if t.kind == "path_filter" and is_data_path(t.detail or "")]
        if not filters:
            continue
        paths = list(dict.fromkeys(t.detail or "" for t in filters))
        yield Finding(
            signal="retrain.on_data_change",
            path=filters[0].file,
            line=filters[0].line,
            summary=f"job `{job.name}` in {job.file} retrains when data changes "
            f"(paths {', '.join(paths)}; {classified.reasons['train'][0].text})",
            attributes={"paths": paths, "system": job.system, "job": job.name, "file": job.file},
        )


@detector(signals=["retrain.on_alert"], wants=CI_GLOBS)
def alert_retraining(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.on_alert: training jobs started by an external event that monitoring can
    send (repository_dispatch, GitLab trigger/API/pipeline sources, Azure webhooks, or
    event triggers named for drift, alerts or retraining)."""
    pairs = ((c.job, t) for c in _jobs_with(ctx, "train") for t in c.job.active_triggers()
             if is_alert_trigger(c.job, t))
    for (path, at, _), group in _grouped_by_trigger(pairs).items():
        job, trigger = group[0]
        event = trigger.describe()
        yield Finding(
            signal="retrain.on_alert",
            path=path,
            line=at,
            summary=f"job `{job.name}` in {job.file} retrains on the external event {event} "
            f"({_training_reason(ctx, job)})",
            attributes={"event": trigger.source, "detail": trigger.detail, "system": job.system,
                        "jobs": _names(group), "file": job.file},
        )


@detector(signals=["security.scanning"], wants=ALL_GLOBS)
def security_scanning(ctx: RepoContext) -> Iterator[Finding]:
    """Emits security.scanning: CI steps running CodeQL, Trivy, Grype, Snyk, Bandit, gitleaks,
    pip-audit or safety; GitLab security templates; Dependabot and Renovate configurations."""
    for classified in _jobs_with(ctx, "security"):
        job = classified.job
        tools = sorted({r.tool or "scanner" for r in classified.reasons["security"]})
        yield Finding(
            signal="security.scanning",
            path=job.file,
            line=job.line,
            summary=f"job `{job.name}` in {job.file} scans for vulnerabilities with "
            f"{', '.join(tools)}",
            attributes={"tools": tools, "system": job.system, "job": job.name},
        )
    for ci_file in ci_files(ctx):
        for use in ci_file.uses:
            hit = known_use(use.name)
            if GITLAB_SECURITY_TEMPLATES.search(use.name) or (hit and hit.purpose == "security"):
                tool = hit.tool if hit and hit.tool else use.name
                yield Finding(
                    signal="security.scanning",
                    path=use.file,
                    line=use.line,
                    summary=f"{ci_file.path} includes the security scanner {use.name}",
                    attributes={"tools": [tool], "system": ci_file.system},
                )
    yield from _dependency_updates(ctx)


def _dependency_updates(ctx: RepoContext) -> Iterator[Finding]:
    for path in [p for p in DEPENDABOT_FILES if ctx.exists(p)]:
        config = as_dict(ctx.yaml(path))
        updates = [as_dict(u) for u, _ in item_lines(config.get("updates"))]
        ecosystems = sorted({as_str(u.get("package-ecosystem")) for u in updates} - {""})
        if not ecosystems:
            continue
        yield Finding(
            signal="security.scanning",
            path=path,
            line=line(config, "updates", 1),
            summary=f"Dependabot watches {', '.join(ecosystems)} dependencies",
            attributes={"tools": ["Dependabot"], "ecosystems": ecosystems},
        )
    for path in [p for p in RENOVATE_FILES if ctx.exists(p)]:
        if ctx.text(path) is None:
            continue
        yield Finding(
            signal="security.scanning",
            path=path,
            line=1,
            summary=f"Renovate keeps dependencies updated ({path})",
            attributes={"tools": ["Renovate"]},
        )
