"""Small builders for evidence and source statuses used by the engine tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength, evidence_id

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def ev(
    signal: str,
    *,
    locator: str = "file.yml:1",
    strength: Strength = Strength.declared,
    source: str = "repo",
    subject: str = "repo:demo",
    occurred_at: datetime | None = None,
    **attributes: Any,
) -> Evidence:
    path = locator.split(":")[0]
    return Evidence(
        id=evidence_id(source, signal, subject, locator),
        signal=signal,
        subject=subject,
        source=source,
        locator=locator,
        path=path,
        line=1,
        strength=strength,
        summary=f"{signal} at {locator}",
        observed_at=NOW,
        occurred_at=occurred_at,
        attributes=attributes,
    )


def source(name: str = "repo", type_: str = "repo", state: SourceState = SourceState.ok,
           reason: str = "", unavailable: list[str] | None = None) -> SourceStatus:
    return SourceStatus(name=name, type=type_, status=state, reason=reason,
                        unavailable_signals=unavailable or [])
