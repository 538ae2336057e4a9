"""Wiring of one assessment: sources -> collectors -> evidence -> inference -> Assessment."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from maturity_probe.assessment import Assessment
from maturity_probe.collectors import (
    CollectContext,
    Collector,
    Shard,
    SourceConfig,
    collector_types,
    run_collector,
    shard_of,
    source_key,
)
from maturity_probe.collectors.repo import RepoCollector, RepoSource
from maturity_probe.config import PlatformConfig, secret_from_env
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence, SourceStatus
from maturity_probe.inference.correlate import correlate
from maturity_probe.inference.engine import assess
from maturity_probe.inference.exemptions import load_exemptions, repo_exemptions
from maturity_probe.inference.rules import RuleSet
from maturity_probe.progress import ScanProgress
from maturity_probe.redact import basic_credentials
from maturity_probe.runner import Limits, run_sources

if TYPE_CHECKING:
    from maturity_probe.collectors.hostscan import HostSource

NOW_ENV = "MATURITY_PROBE_NOW"  # fixes the scan clock, for reproducible output
# `audit URL`: the API root used for github.com URLs (default https://api.github.com), and a
# GitLab instance whose project URLs are accepted besides hosts named like gitlab.
GITHUB_API_ENV = "MATURITY_PROBE_GITHUB_API_URL"
GITLAB_URL_ENV = "MATURITY_PROBE_GITLAB_URL"


def scan_clock() -> datetime:
    """The scan's `now`: MATURITY_PROBE_NOW (ISO 8601) when set, else the current time."""
    fixed = os.environ.get(NOW_ENV)
    if not fixed:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(fixed)
    except ValueError as exc:
        raise UserError(f"{NOW_ENV}={fixed!r}: not an ISO 8601 date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def recorded(statuses: list[SourceStatus]) -> list[SourceStatus]:
    """Source statuses as the assessment records them. A reproducible run (MATURITY_PROBE_NOW
    set) records every duration as 0.0: measured times differ on every run, and its output
    (a committed baseline, a golden file) must be the same bytes each time."""
    if os.environ.get(NOW_ENV):
        for status in statuses:
            status.duration_seconds = 0.0
    return statuses


def check_models(rules: RuleSet, wanted: list[str]) -> list[str] | None:
    """The chosen model ids (None = all); an unknown id is a one-line user error."""
    for model_id in wanted:
        if model_id not in rules.models:
            raise UserError(f"unknown model {model_id!r} (known: {', '.join(rules.models)})")
    return wanted or None


def collect(collectors: list[Collector]) -> tuple[list[Evidence], list[SourceStatus]]:
    evidence: list[Evidence] = []
    statuses: list[SourceStatus] = []
    for collector in collectors:
        items, status = run_collector(collector)
        evidence.extend(items)
        statuses.append(status)
    return evidence, statuses


def audit_checkout(
    path: Path,
    rules: RuleSet,
    *,
    models: list[str] | None = None,
    exemptions_file: Path | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Assess one local checkout, with exemptions from --exemptions or the repo's file."""
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise UserError(f"{path}: not a directory (audit expects a checkout)")
    now = now or scan_clock()
    warnings: list[str] = []
    if exemptions_file is not None:
        exemptions = load_exemptions(exemptions_file, rules)
    else:
        exemptions, warnings = repo_exemptions(path, rules)
    name = "repo"
    collector = RepoCollector(RepoSource(name=name, path=path), CollectContext(now=now))
    evidence, statuses = collect([collector])
    assessment = assess(rules, evidence, recorded(statuses), now=now, target=str(path),
                        model_ids=models, exemptions=exemptions)
    assessment.warnings.extend(warnings)
    return assessment


def remote_source(target: str) -> HostSource | None:
    """A one-repository `github` or `gitlab` source for a repository URL (None: not a URL).

    Tokens come from GITHUB_TOKEN / GITLAB_TOKEN; GITHUB_API_ENV and GITLAB_URL_ENV point
    the audit at another API root (GitHub Enterprise, a self-managed GitLab, tests).
    """
    if "://" not in target:
        return None
    from maturity_probe.collectors.github import DEFAULT_API, GitHubSource
    from maturity_probe.collectors.gitlab import GitLabSource

    parts = urlsplit(target)
    host = (parts.hostname or "").lower()
    gitlab_root = os.environ.get(GITLAB_URL_ENV, "").rstrip("/")
    if host == "github.com":
        segments = parts.path.strip("/").split("/")
        if len(segments) < 2 or not all(segments[:2]):
            raise UserError(f"{target}: not a repository URL (expected https://github.com/OWNER/REPO)")
        name = segments[1].removesuffix(".git")
        return GitHubSource(name="github", base_url=os.environ.get(GITHUB_API_ENV) or DEFAULT_API,
                            repos=[f"{segments[0]}/{name}"])
    root = gitlab_root if gitlab_root and target.startswith(f"{gitlab_root}/") else (
        f"{parts.scheme}://{parts.netloc}" if "gitlab" in host else "")
    if not root:
        raise UserError(f"{target}: not a GitHub or GitLab repository URL (for another GitLab "
                        f"host set {GITLAB_URL_ENV}; for GitHub Enterprise use scan --config)")
    project = target[len(root):].split("?")[0].split("#")[0].split("/-/")[0].strip("/")
    project = project.removesuffix(".git")
    if "/" not in project:
        raise UserError(f"{target}: not a project URL (expected {root}/GROUP/PROJECT)")
    return GitLabSource(name="gitlab", url=root, projects=[project])


def audit_target(
    target: str,
    rules: RuleSet,
    *,
    models: list[str] | None = None,
    exemptions_file: Path | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Assess a local checkout, or a GitHub / GitLab repository given by its URL."""
    if not target.strip():  # Path("") is the current directory: never audit it by accident
        raise UserError("PATH is empty: give a checkout's path (. for this directory) or a URL")
    source = remote_source(target)
    if source is None:
        return audit_checkout(Path(target), rules, models=models, exemptions_file=exemptions_file,
                              now=now)
    now = now or scan_clock()
    exemptions = load_exemptions(exemptions_file, rules) if exemptions_file else []
    from maturity_probe.collectors.github import GitHubCollector
    from maturity_probe.collectors.gitlab import GitLabCollector

    kind = GitHubCollector if source.type == "github" else GitLabCollector
    collector = kind(source, CollectContext(now=now, secrets=config_secrets([source])))
    evidence, statuses = collect([collector])
    return assess(rules, evidence, recorded(statuses), now=now, target=target, model_ids=models,
                  exemptions=exemptions)


def config_secrets(sources: list[SourceConfig]) -> list[str]:
    """Values of every credential the config points at, so they can be redacted anywhere,
    with the forms they travel in: a basic-auth pair (named by username_env/password_env or
    inside a URL) as the base64 of its `Authorization: Basic` header."""
    secrets = []
    for source in sources:
        for field, value in source:
            if field.endswith("_env") and isinstance(value, str):
                secret = secret_from_env(value)
                if secret:
                    secrets.append(secret)
            elif isinstance(value, str) and "://" in value and (pair := _url_user(value)):
                secrets += [pair[1], basic_credentials(*pair)]
        user = secret_from_env(getattr(source, "username_env", None))
        password = secret_from_env(getattr(source, "password_env", None))
        if user and password:
            secrets.append(basic_credentials(user, password))
    return secrets


def _url_user(url: str) -> tuple[str, str] | None:
    """The user and password written into a URL (None: none, or not a URL)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return None
    return (unquote(parts.username or ""), unquote(password)) if password else None


def select_sources(config: PlatformConfig, only: list[str], skip: list[str]) -> list[SourceConfig]:
    names = {s.name for s in config.sources}
    for name in [*only, *skip]:
        if name not in names:
            raise UserError(f"no source named {name!r} in {config.file} (sources: "
                            f"{', '.join(sorted(names))})")
    chosen = [s for s in config.sources if (not only or s.name in only) and s.name not in skip]
    if not chosen:  # an empty scan would be stored and compared as if the platform were empty
        raise UserError(f"--only/--skip leave no source of {config.file} to scan")
    return chosen


def scan_config(
    config: PlatformConfig,
    rules: RuleSet,
    *,
    models: list[str] | None = None,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    exemptions_file: Path | None = None,
    now: datetime | None = None,
    shard: Shard | None = None,
    progress: ScanProgress | None = None,
) -> Assessment:
    """Assess every configured source together (a platform scan), its subjects correlated
    into ML systems. Sources are read concurrently (config `concurrency:`).

    With `shard`, only the subjects that shard owns are read: shardable collectors
    partition their subjects, the others run whole in the shard that owns their name.
    """
    now = now or scan_clock()
    sources = select_sources(config, only or [], skip or [])
    context = CollectContext(now=now, secrets=config_secrets(config.sources), shard=shard)
    kinds = collector_types()
    collectors = []
    for source in sources:
        kind = kinds[source.type]
        if shard is not None and not kind.shardable and not context.owns(source_key(source.name)):
            if progress is not None:
                owner = shard_of(source_key(source.name), shard.count)
                progress.skipped(source.name, source.type, f"scanned by shard {owner}/{shard.count}")
            continue
        collectors.append(kind(source, context))
    exemptions_file = exemptions_file or config.exemptions
    exemptions = load_exemptions(exemptions_file, rules) if exemptions_file else []
    limits = Limits(config.concurrency.total, config.concurrency.per_type)
    evidence, statuses = run_sources(collectors, limits, progress)
    return assess(rules, evidence, recorded(statuses), now=now, target=str(config.file),
                  model_ids=models or config.models or None, exemptions=exemptions,
                  systems=correlate(evidence, config.systems))
