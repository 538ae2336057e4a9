"""Findings of the file detectors as Evidence, shared by the repo, GitHub and GitLab collectors.

Each collector says where a finding can be opened (`path:line` in a checkout, a blob URL
with `#L<line>` on a host); the host collectors may also raise a finding's strength with
what the host knows (a scheduled workflow that ran and succeeded is `verified`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from maturity_probe.detectors.context import Finding
from maturity_probe.evidence import Evidence, JsonValue, Strength

if TYPE_CHECKING:
    from maturity_probe.collectors import Collector


@dataclass(frozen=True)
class HostVerdict:
    """What a Git host adds to a finding: a strength, when it last ran, and why."""

    strength: Strength
    occurred_at: datetime | None
    note: str  # appended to the finding's summary
    attributes: dict[str, JsonValue] = field(default_factory=dict)


def checkout_locator(finding: Finding, root_label: str) -> str:
    """`path:line` for a finding in a checkout (the checkout itself when it has no path)."""
    if finding.path:
        return f"{finding.path}:{finding.line}" if finding.line else finding.path
    return root_label


def finding_evidence(
    collector: Collector,
    finding: Finding,
    subject: str,
    locator: str,
    verdict: HostVerdict | None = None,
) -> Evidence:
    """The Evidence of one finding; a host verdict may only raise its strength."""
    strength, occurred_at = finding.strength, finding.occurred_at
    summary, attributes = finding.summary, dict(finding.attributes)
    if verdict is not None:
        if verdict.strength.rank > strength.rank:
            strength = verdict.strength
            occurred_at = verdict.occurred_at or occurred_at
        summary = f"{summary}; {verdict.note}" if verdict.note else summary
        attributes.update(verdict.attributes)
    return collector.evidence(
        signal=finding.signal,
        subject=subject,
        locator=locator,
        path=finding.path or None,
        line=finding.line,
        strength=strength,
        summary=summary,
        occurred_at=occurred_at,
        attributes=attributes,
    )
