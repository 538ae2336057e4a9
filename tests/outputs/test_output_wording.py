"""Every human format says the same thing the same way: an unmet requirement's reason in
words (the signals' phrases, never their ids), in the terminal table too."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from outputs_support import full_assessment

from maturity_probe.outputs import html, markdown, table

STORE_REASON = "nothing found that defines a feature store"
DEPLOY_REASON = "nothing found that deploys a model"


class RowText(HTMLParser):
    """The text of each matrix row of the HTML report, by requirement id."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.current = dict(attrs).get("data-requirement")
            if self.current:
                self.rows.setdefault(self.current, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current:
            self.rows[self.current] += data


def html_rows() -> dict[str, str]:
    parser = RowText()
    parser.feed(html.render(full_assessment()))
    return {key: " ".join(text.split()) for key, text in parser.rows.items()}


def terminal_row(text: str, title: str) -> tuple[str, str]:
    """(status, evidence / reason) of the requirement row titled `title` in the terminal
    table, each cell's wrapped lines joined."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if f"│ {title}" in line)
    status, reason = [], []
    for index, line in enumerate(lines[start:]):
        cells = line.split("│")  # panel border, table border, L, requirement, status, reason
        if len(cells) < 6 or (index and cells[2].strip()):
            break
        status.append(cells[4].strip())
        reason.append(cells[5].strip())
    return " ".join(filter(None, status)), " ".join(filter(None, reason))


def test_unmet_reason_is_the_signals_phrase_in_the_assessment() -> None:
    alpha = {r.id: r for r in full_assessment().maturity["alpha"].requirements}
    assert alpha["store"].reason == STORE_REASON
    assert alpha["deploy"].reason == DEPLOY_REASON
    assert full_assessment().capabilities["out_store"].reason == STORE_REASON


def test_every_format_gives_the_unmet_reason_in_words() -> None:
    terminal = table.render(full_assessment())
    assert terminal_row(terminal, "Feature store") == ("✘ unmet", STORE_REASON)
    assert terminal_row(terminal, "Automated deployment") == ("✘ unmet", DEPLOY_REASON)
    document = markdown.render(full_assessment())
    assert re.search(rf"\| Feature store _\(optional\)_ \| ✘ unmet \| {STORE_REASON} \|", document)
    assert re.search(rf"\| Automated deployment \| ✘ unmet \| {DEPLOY_REASON} \|", document)
    rows = html_rows()
    assert STORE_REASON in rows["store"] and DEPLOY_REASON in rows["deploy"]
    for text in (terminal, document, html.render(full_assessment())):
        assert "feature_store.definition" not in text  # no signal id outside --explain


# -- one phrase per state ----------------------------------------------------------------------


def test_an_unknown_gap_reads_the_same_in_every_format() -> None:
    """beta's next level needs the registry alias, which only the failed MLflow could show."""
    note = "unknown (could not be checked)"
    terminal = " ".join(table.render(full_assessment()).split())
    assert f"? Production alias in the registry — {note}: Mark the production version" in terminal
    document = markdown.render(full_assessment())
    assert f"- **Production alias in the registry** — {note}: Mark the production" in document
    page = html.render(full_assessment())
    assert f'<span class="tag unknown badge">{note}</span>' in page
    assert "unknown (could not be checked)" in page.split("<footer>")[1]
    for text in (terminal, document, page):
        assert "check the source" not in text and "_(could not be checked)_" not in text


def test_sources_show_their_evidence_count_in_every_format() -> None:
    assessment = full_assessment()
    repo_items = sum(1 for e in assessment.evidence if e.source == "repo")
    assert repo_items == 10
    assert assessment.evidence_per_source() == {"repo": repo_items}
    document = markdown.render(assessment)
    assert "| Source | Type | Status | Evidence | Duration | Requests | Reason |" in document
    assert f"| repo | repo | ok | {repo_items} | 0.42 s | 0 |  |" in document
    assert "| prod-mlflow | mlflow | failed | 0 | 5.00 s | 3 |" in document
    terminal = table.render(assessment)
    assert re.search(rf"│ repo\s+│ repo\s+│ ok\s+│ {repo_items}\s+│ 0\.42s", terminal)
    page = html.render(assessment)
    assert re.search(rf'<tr data-source="repo".*?</span></td>\s*<td class="num">{repo_items}</td>',
                     page, re.S)


def test_the_matrix_says_platform_only_beside_ml_systems() -> None:
    with_systems = html.render(full_assessment())
    assert '<th scope="col" data-scope="platform">Platform' in with_systems
    alone = html.render(full_assessment().model_copy(update={"systems": {}, "system_levels": {}}))
    assert '<th scope="col" data-scope="platform">Status' in alone
    assert ">Platform<" not in alone


def test_the_gate_says_at_least_as_the_audit_does() -> None:
    from maturity_probe.cli import GateFormat, _gate_report
    from maturity_probe.gate import GateResult

    for fmt in GateFormat:
        report = _gate_report(full_assessment(), None, GateResult(), fmt)
        assert "beta: at least level 1 — Tested" in report
        assert "alpha: level 2 — Built" in report
        assert "≥" not in report
