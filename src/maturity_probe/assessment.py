"""The contract between inference and every output: `Assessment`.

Its JSON form is a public, versioned contract (`schema_version`, schemas/): CI scripts
read `maturity.<model>.level`, `.at_least` and `.requirements[].status`. Add fields,
never rename or remove them without a new major schema version.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from maturity_probe.evidence import CompactModel, Evidence, SourceStatus

SCHEMA_VERSION = "1.0"


class Status(StrEnum):
    """A requirement's or capability's state; the four non-met states are never conflated."""

    met = "met"
    unmet = "unmet"  # looked, absent
    unknown = "unknown"  # could not look: a source that could show it failed or was not scanned
    not_assessable = "not_assessable"  # no tooling can show it
    not_applicable = "not_applicable"  # a user's exemption, with a reason


class _Model(CompactModel):
    model_config = ConfigDict(extra="forbid")


class _Shared(CompactModel):
    """A result the engine makes once and shares wherever it is the same (most ML systems
    share most of them), hence frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RequirementResult(_Shared):
    id: str
    title: str
    level: int
    dimension: str = ""
    criterion: str = Field(description="The maturity model's own words.")
    capability: str | None = None
    status: Status
    blocking: bool = Field(True, description="False for optional criteria that never hold a level.")
    evidence: list[str] = Field(default_factory=list, description="Ids of evidence behind it.")
    recommendation: str | None = Field(None, description="What to do, for unmet and unknown.")
    reason: str | None = Field(
        None, description="Why unknown / not assessable / not applicable (exemption reason)."
    )


class Gap(_Shared):
    requirement: str
    title: str
    status: Status
    recommendation: str


class NextLevel(_Shared):
    level: int
    name: str
    gaps: list[Gap]


class LevelSummary(_Shared):
    level: int
    name: str
    summary: str = ""
    reached: bool


class ModelMaturity(_Model):
    model: str
    name: str
    source: str = ""
    level: int
    level_name: str
    at_least: bool = Field(description="True when a failed or missing source could have raised it.")
    max_level: int
    levels: list[LevelSummary]
    requirements: list[RequirementResult]
    next_level: NextLevel | None = None


class CapabilityResult(_Model):
    id: str
    title: str
    status: Status
    evidence: list[str] = Field(default_factory=list)
    reason: str | None = None


class Kpi(_Model):
    id: str
    name: str
    subject: str
    value: float | None
    unit: str = ""
    description: str = ""
    source: str = ""


class Exemption(_Model):
    """A requirement (model/requirement) or capability a user declared not applicable."""

    target: str = Field(description="`model/requirement-id` or `capability:id`.")
    reason: str
    origin: str = Field(description="The file (and line) that declared it.")


class SystemMaturity(_Model):
    """One ML system (a repo, its registered model, endpoint, monitors...) assessed alone."""

    name: str
    subjects: list[str] = Field(description="Subject keys that make up the system.")
    declared: bool = Field(False, description="True when listed under `systems:` in the config.")
    maturity: dict[str, ModelMaturity]
    evidence: list[str] = Field(default_factory=list, description="Ids of the system's evidence.")


class ToolInfo(_Model):
    name: str = "maturity-probe"
    version: str


class Assessment(_Model):
    schema_version: str = SCHEMA_VERSION
    tool: ToolInfo
    generated_at: datetime
    target: str = Field(description="What was assessed: a path, URL or config file.")
    maturity: dict[str, ModelMaturity] = Field(
        description="Per maturity model, over all evidence (the platform as a whole)."
    )
    systems: dict[str, SystemMaturity] = Field(
        default_factory=dict, description="Per ML system, each over its own evidence only."
    )
    system_levels: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Per maturity model, how many systems are at each level (level -> count).",
    )
    unassigned_evidence: list[str] = Field(
        default_factory=list, description="Ids of evidence that belongs to no ML system."
    )
    capabilities: dict[str, CapabilityResult] = Field(default_factory=dict)
    evidence: list[Evidence]
    sources: list[SourceStatus]
    kpis: list[Kpi] = Field(default_factory=list)
    exemptions: list[Exemption] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def evidence_by_id(self) -> dict[str, Evidence]:
        return {item.id: item for item in self.evidence}

    def evidence_per_source(self) -> dict[str, int]:
        """How many evidence items each source gave (a source that gave none is absent)."""
        return dict(Counter(item.source for item in self.evidence))
