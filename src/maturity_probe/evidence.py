"""The contract between collectors and inference: `Evidence` and `SourceStatus`.

Collectors only ever produce these two things; inference only ever reads them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

JsonValue = Any  # small JSON values: str, int, float, bool, None, lists and dicts of them


class Strength(StrEnum):
    """How strongly a piece of evidence shows that a practice is real.

    declared: configuration exists (a workflow file schedules training);
    active: the thing is live or ran recently (a rule is loaded and evaluating);
    verified: it ran and succeeded recently (last night's scheduled training succeeded).
    """

    declared = "declared"
    active = "active"
    verified = "verified"

    @property
    def rank(self) -> int:
        return _STRENGTH_RANK[self]

    def at_least(self, other: Strength) -> bool:
        return self.rank >= other.rank


_STRENGTH_RANK = {Strength.declared: 0, Strength.active: 1, Strength.verified: 2}

_SHARED_FIELD_SETS: dict[frozenset[str], set[str]] = {}


class CompactModel(BaseModel):
    """A model whose instances share one `__pydantic_fields_set__` per distinct set of given
    fields. Pydantic gives every instance its own set (~700 bytes once it holds five names):
    half the memory of a 2,000-system assessment. The set only matters to
    `model_dump(exclude_unset=True)`, which this project does not use."""

    def model_post_init(self, context: Any, /) -> None:
        given = frozenset(self.__pydantic_fields_set__)
        object.__setattr__(self, "__pydantic_fields_set__",
                           _SHARED_FIELD_SETS.setdefault(given, set(given)))


class Evidence(CompactModel):
    """One observation a collector made, tied to a signal of the catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Stable id: a hash of source, signal, subject and locator.")
    signal: str = Field(description="Signal id from configs/signals.yaml, e.g. ci.training_job.")
    subject: str = Field(description="What it is about, e.g. github:acme/churn or mlflow:prod/churn.")
    source: str = Field(description="Name of the configured source that saw it.")
    locator: str = Field(description="Where a human can look: path:line, URL, ARN or resource.")
    path: str | None = Field(default=None, description="Repository-relative file path, if any.")
    line: int | None = Field(default=None, description="1-based line in `path`, if known.")
    strength: Strength
    summary: str = Field(default="", description="One human sentence saying what was seen.")
    observed_at: datetime = Field(description="When the probe observed it (the scan clock).")
    occurred_at: datetime | None = Field(
        default=None,
        description="When the evidenced activity last happened (last run, last commit), if known.",
    )
    attributes: dict[str, JsonValue] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list, description="Other subjects this ties to.")


def evidence_id(source: str, signal: str, subject: str, locator: str) -> str:
    """A short id that stays the same across scans for the same observation."""
    digest = hashlib.sha256(f"{source}\x1f{signal}\x1f{subject}\x1f{locator}".encode())
    return "ev-" + digest.hexdigest()[:12]


class SourceState(StrEnum):
    ok = "ok"
    partial = "partial"
    failed = "failed"


class SourceStatus(BaseModel):
    """How reading one configured source went. `reason` never contains secrets."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    status: SourceState
    reason: str = ""
    duration_seconds: float = 0.0
    requests: int = 0
    unavailable_signals: list[str] = Field(
        default_factory=list,
        description="Signals this source could not look for in this scan (their rules are unknown).",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="One line each: input the source could not read (file:line: message).",
    )
