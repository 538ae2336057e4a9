"""Markdown outputs show the audited repository's text as text: no HTML, link, image,
emphasis, heading or broken table row comes from a job name, a path, an exemption reason or a
summary. Checked by parsing the output with a real CommonMark/GFM parser (markdown-it-py,
with GitHub's autolinks of bare URLs, www. and e-mail addresses turned on)."""

from __future__ import annotations

import functools
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from outputs_support import full_assessment
from outputs_support import test_rules as output_rules
from typer.testing import CliRunner

from conftest import MakeRepo
from maturity_probe.assessment import Assessment
from maturity_probe.cli import app
from maturity_probe.history import diff_scans
from maturity_probe.inference.correlate import System
from maturity_probe.inference.engine import assess
from maturity_probe.outputs import markdown, md, sarif
from maturity_probe.outputs.history_views import diff_markdown
from maturity_probe.store import ScanRecord, scope_levels
from support import NOW, ev, source

HOSTILE = ("Batch <b>only</b> | no traffic </td><script>alert(1)</script> "
           "[link](javascript:alert(4)) ![pixel](https://evil.example/p.png) "
           "<https://evil.example/auto> https://evil.example/bare www.evil.example "
           "me@evil.example &lt;i&gt; *em* _under_ ~~gone~~ $x^2$ back\\slash \\| "
           "train_<x>.py <!-- hidden --> &#60;img&#62;")
LINE_BREAKS = "first line\n# heading\n| a | b |\n- item\r\n> quote\n\n1. one"
BLOCK_STARTS = ["# heading", "> quote", "- item", "+ item", "1. one", "2) two", "=====",
                "    indented code", "<div>block</div>", "---"]
# Every string field of an assessment that a Markdown output shows.
TEXT_FIELDS = {"target", "name", "level_name", "title", "reason", "recommendation", "locator",
               "summary", "subject", "origin", "type", "signal"}

PARSER = MarkdownIt("gfm-like").enable("linkify")
OWN_HTML = re.compile(r"<br>|</?details>|<details><summary>[^<>]*</summary>\n?|</details>\n?")


@functools.cache
def shown_texts(document: str) -> tuple[str, ...]:
    """The text of each paragraph, cell, heading and list item as a reader sees it (code
    spans with and without their backticks)."""
    shown = []
    for token in PARSER.parse(document):
        if token.type != "inline":
            continue
        plain, marked = [], []
        for child in token.children or []:
            if child.type == "code_inline":
                plain.append(child.content)
                marked.append(f"`{child.content}`")
            elif child.type in ("text", "softbreak"):
                piece = " " if child.type == "softbreak" else child.content
                plain.append(piece)
                marked.append(piece)
        shown += [" ".join("".join(plain).split()), " ".join("".join(marked).split())]
    return tuple(shown)


def all_tokens(document: str) -> list[Token]:
    tokens = []
    for token in PARSER.parse(document):
        tokens.append(token)
        tokens += token.children or []
    return tokens


def assert_safe(document: str) -> None:
    """No link, image, autolink or HTML but the renderer's own; every table row has as
    many cells in the source as its header."""
    for token in all_tokens(document):
        assert token.type not in ("link_open", "image", "s_open"), token
        if token.type in ("html_inline", "html_block"):
            assert OWN_HTML.fullmatch(token.content), token.content
    rendered = PARSER.render(document)
    for tag in ("<script", "<b>", "<a ", "<img", "<h1", "<ol", "<del", "<s>"):  # none of ours
        assert tag not in rendered, tag
    lines = document.splitlines()
    for index, line in enumerate(lines):
        if re.fullmatch(r"\|( *:?-{3,}:? *\|)+", line):  # a table's delimiter row
            width = cells(line)
            for row in lines[index - 1:]:
                if not row.startswith("|"):
                    break
                assert cells(row) == width, row


def cells(row: str) -> int:
    """Cells of a GFM table row: pipes not escaped by a backslash (GFM's own rule, code spans
    included)."""
    return len(re.findall(r"(?<!\\)\|", row)) - 1


def assert_shown(document: str, value: str) -> None:
    expected = " ".join(value.split())
    assert any(expected in t for t in shown_texts(document)), (value, document)


def hostile_copy(assessment: Assessment, payload: str = HOSTILE) -> Assessment:
    """Every text field that reaches Markdown carries `payload`, after the field's name."""
    def poison(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: (f"{key}={payload}" if key in TEXT_FIELDS and isinstance(value, str)
                          else poison(value)) for key, value in node.items()}
        if isinstance(node, list):
            return [poison(v) for v in node]
        return node

    data = poison(assessment.model_dump(mode="json"))
    data["warnings"] = [f"warning={payload}"]
    data["tool"]["name"] = "maturity-probe"
    return Assessment.model_validate(data)


# -- the helper ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [HOSTILE, LINE_BREAKS, *BLOCK_STARTS])
def test_text_shows_itself_and_makes_nothing(value: str) -> None:
    for document in (f"- {md.text(value)}\n", f"{md.text(value)}\n", f"Prefix {md.text(value)}\n"):
        assert_safe(document)
        assert_shown(document, value)
    table = f"| a | b |\n|---|---|\n| {md.text(value, table=True)} | end |\n"
    assert_safe(table)
    assert_shown(table, value)
    assert_shown(table, "end")


@pytest.mark.parametrize("value", [HOSTILE, "`", "a ``double`` b", "``", "` x `", " lead",
                                   "src/<img src=x onerror=alert(1)>/serve.py", "a|b\\|c"])
def test_code_spans_show_the_value_verbatim_whatever_backticks_it_holds(value: str) -> None:
    document = f"- {md.code(value)}\n"
    assert_safe(document)
    [span] = [t for t in all_tokens(document) if t.type == "code_inline"]
    assert span.content.strip() == value.strip()
    table = f"| path | n |\n|---|---:|\n| {md.code(value, table=True)} | 3 |\n"
    assert_safe(table)
    [cell] = [t for t in all_tokens(table) if t.type == "code_inline"]
    assert cell.content.strip() == value.strip()


def test_backtick_spans_in_prose_become_code_and_an_odd_one_stays_literal() -> None:
    """Detectors write "job `train` in ci.yml": the job name is a code span."""
    tokens = all_tokens(md.text("job `train <b>` in ci.yml runs `pytest` and one ` more"))
    assert [t.content for t in tokens if t.type == "code_inline"] == ["train <b>", "pytest"]
    assert_shown(md.text("a ` b"), "a ` b")


def test_plain_words_stay_readable() -> None:
    assert md.text("src/train.py:12 trains a model (sklearn fit)") == \
        "src/train.py:12 trains a model (sklearn fit)"
    assert md.text("repo:churn") == "repo:churn"
    assert md.code("src/x.py") == "`src/x.py`"
    assert md.code("") == ""


# -- the report, the gate, the diff, SARIF -------------------------------------------------


def test_every_field_of_the_report_is_shown_as_text() -> None:
    hostile = hostile_copy(full_assessment())
    for explain in (False, True):
        document = markdown.render(hostile, explain)
        assert_safe(document)
        for field in ("target", "name", "level_name", "title", "reason", "recommendation",
                      "locator", "origin", "type", "subject", "warning"):
            assert_shown(document, f"{field}={HOSTILE}")
    explained = markdown.render(hostile, True)
    for field in ("summary", "signal"):
        assert_shown(explained, f"{field}={HOSTILE}")


def test_line_breaks_in_a_field_keep_tables_and_lists_whole() -> None:
    document = markdown.render(hostile_copy(full_assessment(), LINE_BREAKS), True)
    assert_safe(document)
    for field in ("title", "reason", "locator", "summary", "warning"):
        assert_shown(document, f"{field}={LINE_BREAKS}")


def test_exemption_reason_from_the_issue_cannot_break_out() -> None:
    reason = ("Batch <b>only</b> | no traffic </td><script>alert(3)</script> "
              "[link](javascript:alert(4))")
    assessment = full_assessment()
    exempted = assessment.model_copy(update={"exemptions": [
        e.model_copy(update={"reason": reason}) for e in assessment.exemptions]})
    document = markdown.render(exempted, False)
    assert_safe(document)
    assert_shown(document, reason)
    assert "\\<script\\>" in document and "\\[link\\]" in document


SCORE = """import functools
import json

import joblib


def init() -> None:
    global model
    model = joblib.load("model.pkl")


def run(raw_data: str) -> list[float]:
    rows = json.loads(raw_data)["data"]
    return model.predict(rows).tolist()
"""


def test_gate_markdown_shows_a_hostile_path_as_text(make_repo: MakeRepo, tmp_path: Path) -> None:
    """The issue's repro: a lost scoring script under `src/<img ...>/`."""
    hostile_dir = "src/<img src=x onerror=alert(1)>"
    before = make_repo({f"{hostile_dir}/serve.py": SCORE, "README.md": "# scoring\n"})
    after = make_repo({"README.md": "# scoring\n"})
    baseline = tmp_path / "baseline.json"
    runner = CliRunner()
    written = runner.invoke(app, ["gate", str(before), "--write-baseline", str(baseline)])
    assert written.exit_code == 0, written.output
    result = runner.invoke(app, ["gate", str(after), "--baseline", str(baseline), "--strict",
                                 "--format", "markdown"])
    assert result.exit_code == 1, result.output
    document = result.stdout
    assert_safe(document)
    assert_shown(document, f"{hostile_dir}/serve.py no longer")
    assert "<img" not in PARSER.render(document)


def test_scan_diff_markdown_escapes_subjects_locators_and_systems() -> None:
    subject = f"github:acme/{HOSTILE}"
    before_items = [ev("ci.pipeline", locator=f"{HOSTILE}.yml:1", subject=subject),
                    ev("ci.test_job", locator=f"{HOSTILE}.yml:9", subject=subject)]
    after_items = [before_items[0]]
    systems = [System(f"sys {HOSTILE}", (subject,), declared=True)]

    def scan(hours: int, items: list[Any]) -> tuple[ScanRecord, Assessment]:
        assessment = assess(output_rules(), items, [source()], now=NOW + timedelta(hours=hours),
                            target="platform.yaml", systems=systems, model_ids=["alpha"])
        record = ScanRecord(id=f"scan-{hours}", group_id=f"scan-{hours}",
                            config_key=f"key {HOSTILE}", target="platform.yaml",
                            generated_at=NOW + timedelta(hours=hours), shard_index=None,
                            shard_count=None, levels=scope_levels(assessment))
        return record, assessment

    first, second = scan(0, before_items), scan(24, after_items)
    document = diff_markdown(diff_scans(first[0], first[1], second[0], second[1]))
    assert_safe(document)
    for value in (f"system sys {HOSTILE}", f"{HOSTILE}.yml:9", subject, f"key {HOSTILE}"):
        assert_shown(document, value)


def test_sarif_help_markdown_is_escaped() -> None:
    document = json.loads(sarif.render(hostile_copy(full_assessment()), False))
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert rules
    for rule in rules:
        help_markdown = rule["help"]["markdown"]
        assert_safe(help_markdown)
        assert_shown(help_markdown, f"title={HOSTILE}")
        assert_shown(help_markdown, f"recommendation={HOSTILE}")
