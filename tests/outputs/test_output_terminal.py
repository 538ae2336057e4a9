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


def panels(text: str) -> list[list[str]]:
    """Each model panel's lines, top border first."""
    found: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("╭"):
            found.append([])
        if found and (not found[-1] or not found[-1][-1].startswith("╰")):
            found[-1].append(line)
    return found


@pytest.mark.parametrize("width", [80, 60])
def test_panel_headings_are_whole_and_clear_of_the_border(width: int) -> None:
    assessment = full_assessment()
    shown = panels(terminal(assessment, width, False))
    assert len(shown) == len(assessment.maturity)
    for lines, model in zip(shown, assessment.maturity.values(), strict=True):
        assert re.fullmatch(rf"╭─ {re.escape(model.name)} ─+╮", lines[0]), lines[0]
        assert lines[1].startswith(f"│ {table.level_text(model)} ")


def test_a_model_name_too_long_for_the_border_goes_inside_whole() -> None:
    assessment = full_assessment()
    beta = assessment.maturity["beta"]
    long_name = "Beta maturity, the long name a team gave its own rules in a rules directory"
    renamed = assessment.model_copy(update={"maturity": {
        **assessment.maturity, "beta": beta.model_copy(update={"name": long_name})}})
    [_, lines] = panels(terminal(renamed, 60, False))
    assert re.fullmatch(r"╭─+╮", lines[0])
    inside = " ".join(line.strip("│ ") for line in lines[1:4])
    assert f"{long_name}: {table.level_text(beta)}" in inside


@pytest.mark.parametrize("width", [80, 60])
def test_wrapped_next_steps_keep_their_indent(width: int) -> None:
    text = terminal(full_assessment(), width, False)
    steps = []
    for lines in panels(text):
        start = next(i for i, line in enumerate(lines) if line.startswith("│ Next: level"))
        steps += [line for line in lines[start + 1:-1] if line.strip("│ ")]
    assert len(steps) >= 4  # several gaps, some wrapped
    assert any(re.match(r"│     \S", line) for line in steps)  # a wrapped continuation
    for line in steps:
        assert re.match(r"│   [•?] \S|│     \S", line), line
