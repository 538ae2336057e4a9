"""The HTML report in a real headless Chromium (Debian's), driven by Playwright.

The page must load from a file with no console error and no request but the file
itself, draw its SVG charts, show the Assessment's own figures, link every piece of
evidence to an anchor on the page, fit a phone screen and print to PDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from outputs_support import HOSTILE, NOW, chromium_binary, full_assessment
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from maturity_probe.assessment import Assessment, Status
from maturity_probe.outputs import html
from maturity_probe.outputs.labels import level_text

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_binary()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Loaded:
    page: Page
    url: str
    console: list[ConsoleMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)


def open_report(browser: Browser, path: Path, text: str, **context: Any) -> Loaded:
    path.write_text(text, encoding="utf-8")
    page = browser.new_page(**context)
    loaded = Loaded(page, path.as_uri())
    page.on("console", lambda message: loaded.console.append(message))
    page.on("pageerror", lambda exc: loaded.errors.append(str(exc)))
    page.on("request", lambda request: loaded.requests.append(request.url))
    page.on("requestfailed", lambda request: loaded.errors.append(f"failed {request.url}"))
    page.goto(loaded.url, wait_until="load")
    return loaded


@pytest.fixture(scope="module")
def report(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    loaded = open_report(browser, tmp_path_factory.mktemp("html") / "report.html",
                         html.render(full_assessment()), viewport={"width": 1280, "height": 900})
    yield loaded
    loaded.page.close()


def test_loads_with_no_console_error_and_no_network(report: Loaded) -> None:
    problems = [m.text for m in report.console if m.type in ("error", "warning")]
    assert problems == [] and report.errors == []
    assert report.requests == [report.url]  # nothing fetched: no CSS, font, image or script
    assert report.evaluate("document.scripts.length") == 0
    assert report.evaluate("document.querySelectorAll('link, img, iframe, object').length") == 0


def test_the_content_security_policy_forbids_any_load(report: Loaded) -> None:
    policy = report.evaluate(
        "document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content")
    assert "default-src 'none'" in policy
    # the inline stylesheet is allowed by its hash, so it applied (cards are laid out in a grid)
    assert report.evaluate("getComputedStyle(document.querySelector('.cards')).display") == "grid"


def test_displayed_levels_equal_the_assessment(report: Loaded) -> None:
    assessment = full_assessment()
    for model in assessment.maturity.values():
        card = report.page.locator(f".card[data-model='{model.model}']")
        assert card.locator(".level-number").inner_text() == str(model.level)
        assert ("at least" in card.inner_text()) is model.at_least
        assert card.locator(".of").inner_text() == f"/ {model.max_level}"
        line = report.page.locator(f"p.level-line[data-model='{model.model}']").inner_text()
        assert line == level_text(model)
    rows = report.page.locator("table.systems-summary tbody tr")
    assert rows.count() == len(assessment.systems)
    for system in assessment.systems.values():
        for model in system.maturity.values():
            badge = report.page.locator(
                f"table.systems-summary tr[data-system='{system.name}'] "
                f".level-badge[data-model='{model.model}']")
            expected = f"≥ {model.level}" if model.at_least else str(model.level)
            assert badge.inner_text() == expected


def test_charts_render_with_one_mark_per_level_and_requirement(report: Loaded) -> None:
    assessment = full_assessment()
    for model in assessment.maturity.values():
        section = report.page.locator(f"section.model[data-model='{model.model}']")
        ladder = section.locator("svg[data-chart=ladder]")
        box = ladder.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 20
        segments = ladder.locator("rect.seg")
        assert segments.count() == len(model.levels)
        assert ladder.locator("rect.seg.reached").count() == model.level + 1
        assert ladder.locator("rect.seg.maybe").count() == (1 if model.at_least else 0)
        cells = section.locator("svg[data-chart=statuses] rect.cell")
        assert [cells.nth(i).get_attribute("data-status") for i in range(cells.count())] == [
            r.status.value for r in model.requirements]
        # a drawn bar has a colour from the stylesheet, not the default black
        fill = cells.first.evaluate("e => getComputedStyle(e).fill")
        assert fill not in ("rgb(0, 0, 0)", "none")
        bars = section.locator("svg[data-chart=distribution] rect.bar")
        counts = assessment.system_levels[model.model]
        assert [bars.nth(i).get_attribute("data-count") for i in range(bars.count())] == [
            str(counts[str(lv.level)]) for lv in model.levels]
        assert section.locator("svg[data-chart=trend]").count() == 0  # no history given


def test_matrix_shows_each_scope_status_and_its_evidence(report: Loaded) -> None:
    assessment = full_assessment()
    model = assessment.maturity["alpha"]
    table = report.page.locator("table.matrix[data-model='alpha']")
    headers = table.locator("thead th[data-scope]")
    assert [headers.nth(i).get_attribute("data-scope") for i in range(headers.count())] == [
        "platform", *assessment.systems]
    scopes = [model, *(s.maturity["alpha"] for s in assessment.systems.values())]
    for req in model.requirements:
        row = table.locator(f"tr[data-requirement='{req.id}']")
        cells = row.locator("td.status")
        got = [cells.nth(i).get_attribute("data-status") for i in range(cells.count())]
        assert got == [next(r.status.value for r in scope.requirements if r.id == req.id)
                       for scope in scopes]
    tests = table.locator("tr[data-requirement='tests'] td.status").first
    assert tests.locator("ul.ev-links a").count() == 6  # 4 shown, 2 behind "2 more"
    assert "2 more" in tests.locator("summary").inner_text()
    registry = table.locator("tr[data-requirement='registry'] td.status").first.inner_text()
    assert "unknown" in registry and "prod-mlflow" in registry


def test_every_evidence_link_resolves_to_an_anchor_on_the_page(report: Loaded) -> None:
    assessment = full_assessment()
    hrefs: list[str] = report.evaluate(
        "[...document.querySelectorAll('a[href^=\"#\"]')].map(a => a.getAttribute('href'))")
    assert len(hrefs) > 20
    missing = report.evaluate("hs => hs.filter(h => !document.getElementById(h.slice(1)))", hrefs)
    assert missing == []
    rows = report.page.locator("table.evidence tbody tr")
    assert rows.count() == len(assessment.evidence)
    # following a link from the matrix lands on the evidence row
    link = report.page.locator("table.matrix[data-model='alpha'] tr[data-requirement='build'] a").first
    target = link.get_attribute("href")
    link.click()
    assert report.evaluate("location.hash") == target
    assert report.evaluate("document.querySelector(':target').dataset.evidence") in {
        e.id for e in assessment.evidence}


def test_gaps_kpis_sources_and_hostile_text(report: Loaded) -> None:
    assessment = full_assessment()
    for model in assessment.maturity.values():
        assert model.next_level is not None
        gaps = report.page.locator(f"ol.gaps[data-model='{model.model}'] li")
        assert [gaps.nth(i).get_attribute("data-requirement") for i in range(gaps.count())] == [
            g.requirement for g in model.next_level.gaps]
    kpis = report.page.locator("table.kpis tbody tr")
    assert kpis.count() == len(assessment.kpis)
    assert "n/a" in report.page.locator("tr[data-kpi='out_lead_time']").inner_text()
    sources = report.page.locator("table.sources tbody tr")
    assert [sources.nth(i).get_attribute("data-status") for i in range(sources.count())] == [
        s.status.value for s in assessment.sources]
    banner = report.page.locator("#source-problems").inner_text()
    assert "prod-mlflow (mlflow) failed" in banner and "prom (prometheus) partial" in banner
    # text from scanned repositories is shown, never run as markup
    assert HOSTILE in report.page.locator("body").inner_text()


def test_phone_screen_has_no_horizontal_overflow(browser: Browser, tmp_path: Path) -> None:
    phone = open_report(browser, tmp_path / "phone.html", html.render(full_assessment()),
                        viewport={"width": 375, "height": 812}, device_scale_factor=2,
                        is_mobile=True, has_touch=True)
    try:
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        assert phone.evaluate("document.body.scrollWidth") <= 375
        # wide tables scroll inside their own box instead of widening the page
        matrix = phone.page.locator("table.matrix").first.bounding_box()
        assert matrix is not None
        widest = phone.evaluate("Math.max(...[...document.querySelectorAll('main > section')]"
                                ".map(s => s.getBoundingClientRect().right))")
        assert widest <= 375
    finally:
        phone.page.close()


def test_prints_to_pdf(report: Loaded) -> None:
    report.page.emulate_media(media="print")
    try:
        assert report.evaluate("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
        pdf = report.page.pdf(format="A4", print_background=True)
    finally:
        report.page.emulate_media(media="screen")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 2


def trend_history(assessment: Assessment) -> list[html.TrendPoint]:
    return [
        html.TrendPoint(NOW - timedelta(days=14), {"alpha": (0, False), "beta": (0, False)}, "s1"),
        html.TrendPoint(NOW - timedelta(days=7), {"alpha": (1, False), "beta": (1, True)}, "s2"),
        html.TrendPoint(NOW, {m.model: (m.level, m.at_least) for m in assessment.maturity.values()},
                        "s3"),
    ]


def test_trend_charts_when_history_exists(browser: Browser, tmp_path: Path) -> None:
    assessment = full_assessment()
    loaded = open_report(browser, tmp_path / "trend.html",
                         html.render(assessment, history=trend_history(assessment)))
    try:
        assert [m.text for m in loaded.console if m.type == "error"] == []
        for model in assessment.maturity.values():
            trend = loaded.page.locator(f"section.model[data-model='{model.model}'] "
                                        "svg[data-chart=trend]")
            points = trend.locator("circle.point")
            assert [points.nth(i).get_attribute("data-level") for i in range(points.count())] == [
                "0", "1", str(model.level)]
            box = trend.bounding_box()
            assert box is not None and box["height"] > 50
            xs = [float(points.nth(i).get_attribute("cx") or 0) for i in range(3)]
            assert xs[0] < xs[1] < xs[2]
        assert loaded.page.locator("circle.point.maybe").count() == 2  # beta's "at least" scans
    finally:
        loaded.page.close()


def test_an_assessment_of_only_failures_still_renders(browser: Browser, tmp_path: Path) -> None:
    assessment = full_assessment()
    bare = assessment.model_copy(update={
        "evidence": [], "kpis": [], "systems": {}, "system_levels": {}, "unassigned_evidence": [],
        "maturity": {k: m.model_copy(update={"requirements": [
            r.model_copy(update={"evidence": [], "status": Status.unknown
                                 if r.status == Status.met else r.status})
            for r in m.requirements]}) for k, m in assessment.maturity.items()},
    })
    loaded = open_report(browser, tmp_path / "bare.html", html.render(bare))
    try:
        assert [m.text for m in loaded.console if m.type == "error"] == [] and loaded.errors == []
        assert "No evidence was found." in loaded.page.locator("#evidence").inner_text()
        assert loaded.page.locator("table.kpis").count() == 0
    finally:
        loaded.page.close()
