"""Words and symbols shared by the human-readable formats."""

from __future__ import annotations

from datetime import UTC, datetime

from maturity_probe.assessment import Assessment, ModelMaturity, Status
from maturity_probe.evidence import Evidence
from maturity_probe.words import plural

PROJECT_URL = "https://pypi.org/project/maturity-probe/"

STATUS_SYMBOL = {
    Status.met: "✔",
    Status.unmet: "✘",
    Status.unknown: "?",
    Status.not_assessable: "–",
    Status.not_applicable: "⊘",
}
STATUS_WORD = {
    Status.met: "met",
    Status.unmet: "unmet",
    Status.unknown: "unknown",
    Status.not_assessable: "not assessable",
    Status.not_applicable: "not applicable",
}


# One phrase per state, in every format (the status column says the word alone).
STATUS_MEANING = {
    Status.met: "evidence found",
    Status.unmet: "looked, none found",
    Status.unknown: "could not be checked",
    Status.not_assessable: "no tooling can show it",
    Status.not_applicable: "exempted with a reason",
}
UNKNOWN_NOTE = f"{STATUS_WORD[Status.unknown]} ({STATUS_MEANING[Status.unknown]})"


def level_text(model: ModelMaturity) -> str:
    prefix = "at least " if model.at_least else ""
    return f"{prefix}level {model.level} of {model.max_level} — {model.level_name}"


def unassigned(assessment: Assessment) -> str:
    """`2 evidence items belong to no ML system` (no full stop)."""
    count = len(assessment.unassigned_evidence)
    verb = "belongs" if count == 1 else "belong"
    return f"{plural(count, 'evidence item')} {verb} to no ML system"


def where(item: Evidence) -> str:
    """A short place for an evidence item: path:line for files, else its locator."""
    return item.locator


def utc_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z (a naive time is taken as UTC, as the store keeps it)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
