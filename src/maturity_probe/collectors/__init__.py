"""Collectors: one per kind of source, each turning what it sees into Evidence.

A collector never decides levels. It receives its typed config section and a context,
yields Evidence, and keeps a SourceStatus. Third-party collectors register through the
`maturity_probe.collectors` entry point group.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from maturity_probe import requestlog
from maturity_probe.errors import first_line
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength, evidence_id
from maturity_probe.redact import mentions_credentials, redact


def resolve_path(value: Path, base: Path | None) -> Path:
    """A path from a config file: `~` expanded, relative to the config file's directory."""
    value = value.expanduser()
    return value if value.is_absolute() or base is None else base / value


# Ten years: older activity says nothing about how a platform works now, and dates stay
# well inside what datetime and the sources' APIs take (a million days overflowed).
MAX_LOOKBACK_DAYS = 3650


class SourceConfig(BaseModel):
    """Fields every source entry has; each collector extends it with its own.

    Validation is strict for every collector's fields: `true` is not the number 1 and "30"
    is not 30. YAML has no path type, so text is taken for Path fields (_paths_from_text).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    type: str
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    lookback_days: int = Field(
        default=90, ge=1, le=MAX_LOOKBACK_DAYS,
        description=f"Days of history to read (runs, deployments, alerts), at most {MAX_LOOKBACK_DAYS}.",
    )
    scan_timeout_seconds: float = Field(
        default=600, gt=0, le=86400,
        description="Longest time the whole source may take; then it is reported failed "
        "(timed out) and the scan goes on without it.",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _paths_from_text(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if annotation is Path or Path in get_args(annotation):
                return Path(value)
        return value

    @staticmethod
    def base_dir(info: ValidationInfo) -> Path | None:
        """The directory of the config file being validated, for relative paths."""
        context = info.context or {}
        base = context.get("base_dir")
        return base if isinstance(base, Path) else None


class SourceError(Exception):
    """The source cannot be read at all; the message is the one-line reason."""


def shard_of(key: str, count: int) -> int:
    """The shard (of `count`) that scans the subject `key`: a stable hash, the same in every
    process and on every machine (unlike Python's hash())."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based, like a Kubernetes indexed Job's completion index)."""

    index: int
    count: int

    def owns(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def source_key(name: str) -> str:
    """The shard key of a whole source: its aggregate evidence, or all of it when it
    cannot be partitioned."""
    return f"source:{name}"


@dataclass
class CollectContext:
    """What every collector gets besides its config: the scan clock, secrets to hide, and
    the shard of a sharded scan (None: everything)."""

    now: datetime
    secrets: list[str] = field(default_factory=list)
    shard: Shard | None = None

    def owns(self, key: str) -> bool:
        """Whether this scan covers the subject `key` (a repository, model, namespace or
        region key); collectors consult it while enumerating."""
        return self.shard is None or self.shard.owns(key)

    def add_secrets(self, values: list[str]) -> None:
        """Secrets a collector learns while it runs (a kubeconfig's token, say): hidden from
        then on in every reason, warning, evidence and --verbose line of the scan."""
        new = [value for value in values if value and value not in self.secrets]
        self.secrets.extend(new)  # in place: sources of one scan share the list
        requestlog.add_secrets(new)


class Collector:
    """Base class: subclasses set `type`, `config_model` and implement `collect`."""

    type: ClassVar[str]
    config_model: ClassVar[builtins.type[SourceConfig]]
    # True when collect() partitions its subjects with ctx.owns(); a collector that cannot
    # is run whole by the shard that owns its source name (source_key).
    shardable: ClassVar[bool] = False

    def __init__(self, config: Any, ctx: CollectContext) -> None:
        self.config = config
        self.ctx = ctx
        self.status = SourceStatus(name=config.name, type=self.type, status=SourceState.ok)

    @classmethod
    def signals(cls) -> frozenset[str]:
        """Every signal id this collector can emit (checked against the catalog by tests)."""
        raise NotImplementedError

    def collect(self) -> Iterator[Evidence]:
        raise NotImplementedError

    # helpers for subclasses -----------------------------------------------------
    def owns_source(self) -> bool:
        """Whether this shard emits the source's aggregate (not per-subject) evidence."""
        return self.ctx.owns(source_key(self.config.name))

    def evidence(
        self,
        *,
        signal: str,
        subject: str,
        locator: str,
        strength: Strength,
        summary: str = "",
        path: str | None = None,
        line: int | None = None,
        occurred_at: datetime | None = None,
        attributes: dict[str, Any] | None = None,
        links: list[str] | None = None,
    ) -> Evidence:
        return Evidence(
            id=evidence_id(self.config.name, signal, subject, locator),
            signal=signal,
            subject=subject,
            source=self.config.name,
            locator=locator,
            path=path,
            line=line,
            strength=strength,
            summary=summary,
            observed_at=self.ctx.now,
            occurred_at=occurred_at,
            attributes=attributes or {},
            links=sorted(set(links or [])),
        )

    def partial(self, reason: str, signals: list[str] | None = None) -> None:
        """Mark the source partial: something could not be read; those signals are unknown."""
        status = self.status
        if status.status == SourceState.ok:
            status.status = SourceState.partial
        status.reason = "; ".join(r for r in (status.reason, reason) if r)
        status.unavailable_signals = sorted(set(status.unavailable_signals) | set(signals or []))


_CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]*@")


def scrubbed(item: Evidence, secrets: list[str]) -> Evidence:
    """The evidence with secrets and URL credentials removed from its texts (a source URL
    with a password in it ends up in locators); the same object when there are none."""
    # one text searched once (a newline ends any URL match): this runs for every item
    text = "\n".join([item.locator, item.summary, item.path or "", *item.links])
    if item.attributes:
        text += "\n" + repr(item.attributes)
    if (not _CREDENTIALS_IN_URL.search(text) and not any(s and s in text for s in secrets)
            and not mentions_credentials(text)):
        return item
    return Evidence.model_validate({
        **item.model_dump(),
        "locator": redact(item.locator, secrets),
        "summary": redact(item.summary, secrets),
        "path": redact(item.path, secrets) if item.path else item.path,
        "links": [redact(link, secrets) for link in item.links],
        "attributes": _redacted_json(item.attributes, secrets),
    })


def _redacted_json(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [_redacted_json(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _redacted_json(v, secrets) for k, v in value.items()}
    return value


def run_collector(collector: Collector) -> tuple[list[Evidence], SourceStatus]:
    """Run one collector to completion; any failure becomes a one-line status reason."""
    requestlog.watch(collector.config, collector.ctx.secrets)  # --verbose: name and redact its requests
    started = time.monotonic()
    evidence: dict[str, Evidence] = {}
    status = collector.status
    try:
        for item in collector.collect():
            evidence.setdefault(item.id, scrubbed(item, collector.ctx.secrets))
    except SourceError as exc:
        status.status = SourceState.failed
        status.reason = first_line(exc, limit=1000)
    except Exception as exc:  # an unexpected bug must not sink the whole scan
        status.status = SourceState.failed
        status.reason = f"internal error: {type(exc).__name__}: {first_line(exc)}"
    status.reason = redact(status.reason, collector.ctx.secrets)
    status.warnings = [redact(w, collector.ctx.secrets) for w in status.warnings]
    status.duration_seconds = round(time.monotonic() - started, 3)
    return list(evidence.values()), status


# Built-in collectors: source type -> "module:Class". Their modules import their client
# libraries lazily, so a missing optional dependency only fails the source that needs it.
BUILTIN_COLLECTORS = {
    "repo": "maturity_probe.collectors.repo:RepoCollector",
    "github": "maturity_probe.collectors.github:GitHubCollector",
    "gitlab": "maturity_probe.collectors.gitlab:GitLabCollector",
    "mlflow": "maturity_probe.collectors.mlflow_registry:MlflowCollector",
    "prometheus": "maturity_probe.collectors.prometheus:PrometheusCollector",
    "kubernetes": "maturity_probe.collectors.kubernetes:KubernetesCollector",
    "sagemaker": "maturity_probe.collectors.sagemaker:SageMakerCollector",
}


def _load(target: str) -> builtins.type[Collector]:
    module_name, _, class_name = target.partition(":")
    cls: builtins.type[Collector] = getattr(importlib.import_module(module_name), class_name)
    return cls


def collector_types() -> dict[str, builtins.type[Collector]]:
    """Built-in collectors plus third-party ones registered under the
    `maturity_probe.collectors` entry point group."""
    found = {kind: _load(target) for kind, target in BUILTIN_COLLECTORS.items()}
    for entry in entry_points(group="maturity_probe.collectors"):
        cls = entry.load()
        found.setdefault(cls.type, cls)
    return found
