"""The gaps that code-scanning formats (SARIF, GitLab code quality) report, and where.

A gap is a requirement of the platform-wide maturity that is not met and matters now:
every requirement of the next level that is unmet or unknown (inference already orders
them, blocking and unmet first), and any optional requirement at or below the reached
level that is unmet. A requirement lost since an earlier scan is one of these again, so
code scanning shows it as a new alert.

Code-scanning consumers want a file that exists and a line for every result (GitHub shows
a result without `region.startLine` poorly), but a gap is an absence. Where it points (also
said in each SARIF rule's help and each result's message):
- a scan of a platform config (`assessment.target` is a .yml/.yaml file): that config
  file, line 1 — the sources that could show the practice (a registry, a cluster) are
  declared there;
- an audit of a repository: a file the audit saw, so one that exists: the first evidence
  file of the assessment (CI definitions sort first), line 1 (a gap is unmet or unknown,
  so it has no evidence of its own to point at);
- else, when no file was seen at all, the repository root (`.`) without a line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath

from maturity_probe.assessment import Assessment, ModelMaturity, RequirementResult, Status
from maturity_probe.evidence import Evidence

REPOSITORY_SETTINGS = ".maturity-probe.yml"
CONFIG_SUFFIXES = (".yml", ".yaml")
PLATFORM_SCOPE = "platform"


@dataclass(frozen=True)
class Place:
    """A file (relative to the repository root, or absolute) and a 1-based line (None: the
    repository root, no line). `kind` says why it is there: config, file, root."""

    path: str
    line: int | None
    kind: str = "file"

    @property
    def is_absolute(self) -> bool:
        return PurePosixPath(self.path).is_absolute()


@dataclass(frozen=True)
class GapFinding:
    model: ModelMaturity
    requirement: RequirementResult
    next_level: bool  # a requirement of the next level (False: an optional one already due)
    place: Place
    fingerprint: str

    @property
    def rule_id(self) -> str:
        return f"{self.model.model}/{self.requirement.id}"

    @property
    def holds_level(self) -> bool:
        """Unmet, blocking and of the next level: what keeps the level where it is."""
        return (self.next_level and self.requirement.blocking
                and self.requirement.status == Status.unmet)


def fingerprint(model: str, requirement: str, subject: str = PLATFORM_SCOPE) -> str:
    """Stable across scans and machines: never the checkout path or the scan time."""
    return hashlib.sha256(f"maturity-probe\x1f{model}\x1f{requirement}\x1f{subject}".encode()
                          ).hexdigest()


def _file_evidence(assessment: Assessment) -> list[Evidence]:
    """Evidence in a file of the audited repository (not a URL, not an absolute path)."""
    return [e for e in assessment.evidence
            if e.path and "://" not in e.path and not PurePosixPath(e.path).is_absolute()]


def place_for(assessment: Assessment) -> Place:
    """Where the assessment's gaps point (see the module docstring)."""
    target = assessment.target
    if "://" not in target and target.lower().endswith(CONFIG_SUFFIXES):
        return Place(PurePath(target).as_posix(), 1, "config")
    files = _file_evidence(assessment)
    if files and files[0].path:
        return Place(files[0].path, 1, "file")
    return Place(".", None, "root")


def gap_findings(assessment: Assessment) -> list[GapFinding]:
    """The platform's gaps, model by model, in the order inference prioritised them."""
    place = place_for(assessment)
    findings: list[GapFinding] = []
    for model in assessment.maturity.values():
        by_id = {r.id: r for r in model.requirements}
        chosen: list[tuple[RequirementResult, bool]] = []
        if model.next_level is not None:
            chosen += [(by_id[g.requirement], True) for g in model.next_level.gaps
                       if g.requirement in by_id]
        chosen += [(r, False) for r in model.requirements
                   if r.level <= model.level and r.status == Status.unmet]
        for requirement, is_next in chosen:
            findings.append(GapFinding(model, requirement, is_next, place,
                                       fingerprint(model.model, requirement.id)))
    return findings


def describe(finding: GapFinding) -> str:
    """One sentence: which model and level, what is missing, what to do."""
    req, model = finding.requirement, finding.model
    if req.status == Status.unknown:
        state = f"could not be checked ({req.reason})" if req.reason else "could not be checked"
    elif finding.next_level and req.blocking:
        state = "is missing"
    else:
        state = "is missing (optional)"
    level_name = next((lv.name for lv in model.levels if lv.level == req.level), "")
    text = f'{model.name}, level {req.level} ({level_name}): "{req.title}" {state}.'
    if req.recommendation:
        text += f" {req.recommendation}"
    return text
