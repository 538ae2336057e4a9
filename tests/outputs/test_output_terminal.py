"""The terminal view at the widths it really gets: 80 columns when piped or in CI, narrower in
a split terminal. Locators are folded, never cut: file:line is the point of --explain."""

from __future__ import annotations

import io
import re

import pytest
from outputs_support import full_assessment

from maturity_probe.assessment import Assessment
from maturity_probe.outputs import table


def terminal(assessment: Assessment, width: int, explain: bool) -> str:
    console = table.Console(file=io.StringIO(), width=width, no_color=True, record=True)
    table.print_to(console, assessment, explain)
    return console.export_text()


def reason_column(text: str) -> str:
    """The Evidence / reason column of every requirement table, lines joined as they were
    folded (no separator, so a folded locator reads whole again)."""
    rows = [line.split("│") for line in text.splitlines() if line.startswith("│ │")]
    return "".join(cells[5].strip() for cells in rows)


@pytest.mark.parametrize("width", [80, 64])
@pytest.mark.parametrize("explain", [True, False])
def test_locators_are_folded_never_ellipsized(width: int, explain: bool) -> None:
    assessment = full_assessment()
    text = terminal(assessment, width, explain)
    column = reason_column(text)
    evidence = assessment.evidence_by_id()
    cited = [evidence[i] for m in assessment.maturity.values() for r in m.requirements
             for i in r.evidence]
    shown = cited if explain else [e for e in cited if e.locator in column]
    assert len(shown) >= 6
    for item in shown:
        assert item.locator in column, item.locator
    assert "…" not in re.sub(r"… and \d+ more", "", column)
    if explain:
        assert all(e.locator in column for e in cited)
