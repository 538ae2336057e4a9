"""HTML: one self-contained page a consultant can email (templates/report.html.j2).

No network and no JavaScript: CSS is inline (allowed by a Content-Security-Policy hash),
charts are SVG drawn here, collapsible parts are <details>. The page shows, per maturity
model and per ML system, the level with its charts, the requirement matrix with the
evidence behind each cell (links to the evidence appendix), the prioritised gaps to the
next level, KPIs, source statuses, and the trend of levels when history is given.

This module only lays things out: every figure shown comes from the Assessment (or the
history the caller built from the store).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from maturity_probe.assessment import Assessment, ModelMaturity, RequirementResult, Status
from maturity_probe.evidence import Evidence
from maturity_probe.outputs.labels import (
    STATUS_MEANING,
    STATUS_SYMBOL,
    STATUS_WORD,
    UNKNOWN_NOTE,
    level_text,
    utc_timestamp,
)
from maturity_probe.words import plural

MAX_LINKS_PER_CELL = 4
_SAFE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class TrendPoint:
    """One earlier (or this) scan of the same config: platform levels per model."""

    generated_at: datetime
    levels: dict[str, tuple[int, bool]]  # model -> (level, at_least)
    scan_id: str = ""


# -- SVG geometry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One SVG element: tag, attributes, optional text, tooltip and link."""

    tag: str
    attrs: dict[str, Any]
    text: str = ""
    title: str = ""
    href: str = ""


@dataclass
class Chart:
    kind: str
    title: str
    width: float
    height: float
    shapes: list[Shape] = field(default_factory=list)


def _rect(x: float, y: float, w: float, h: float, css: str, title: str = "",
          href: str = "", extra: dict[str, Any] | None = None) -> Shape:
    attrs = {"x": round(x, 1), "y": round(y, 1), "width": round(w, 1), "height": round(h, 1),
             "class": css, **(extra or {})}
    return Shape("rect", attrs, title=title, href=href)


def _text(x: float, y: float, text: str, css: str, anchor: str = "middle") -> Shape:
    return Shape("text", {"x": round(x, 1), "y": round(y, 1), "class": css,
                          "text-anchor": anchor}, text=text)


def ladder_chart(model: ModelMaturity) -> Chart:
    """One segment per level: reached, possibly reached (at least), or not reached."""
    width, height, gap = 560.0, 44.0, 4.0
    count = len(model.levels)
    seg = (width - gap * (count - 1)) / count
    chart = Chart("ladder", f"{model.name}: {level_text(model)}", width, height)
    for index, level in enumerate(model.levels):
        if level.reached:
            state, word = "reached", "reached"
        elif model.at_least and level.level == model.level + 1:
            state, word = "maybe", f"possibly reached, {UNKNOWN_NOTE}"
        else:
            state, word = "open", "not reached"
        x = index * (seg + gap)
        chart.shapes.append(_rect(x, 4, seg, 36, f"seg {state}",
                                  f"Level {level.level} — {level.name}: {word}",
                                  extra={"data-level": level.level, "data-state": state}))
        chart.shapes.append(_text(x + seg / 2, 27, str(level.level), f"seg-label {state}"))
    return chart


def status_chart(model: ModelMaturity, anchor_of: dict[str, str]) -> Chart:
    """Each requirement as one square, a row per level, coloured by status."""
    rows: dict[int, list[RequirementResult]] = {}
    for req in model.requirements:
        rows.setdefault(req.level, []).append(req)
    cell, gap, label = 16.0, 4.0, 40.0
    widest = max((len(r) for r in rows.values()), default=1)
    width = max(label + widest * (cell + gap), 220.0)
    height = len(rows) * (cell + gap) + gap
    chart = Chart("statuses", f"{model.name}: requirement status by level", width, height)
    for row, (level, reqs) in enumerate(sorted(rows.items())):
        y = gap + row * (cell + gap)
        chart.shapes.append(_text(0, y + cell - 3, f"L{level}", "axis", anchor="start"))
        for col, req in enumerate(reqs):
            chart.shapes.append(_rect(
                label + col * (cell + gap), y, cell, cell, f"cell {req.status.value}",
                f"L{req.level} {req.title}: {STATUS_WORD[req.status]}", href="#" + anchor_of[req.id],
                extra={"data-status": req.status.value, "rx": 2},
            ))
    return chart


def distribution_chart(model: ModelMaturity, counts: dict[str, int]) -> Chart:
    """How many ML systems sit at each level (a bar per level, empty ones too)."""
    bar, gap, top, bottom, plot = 40.0, 14.0, 18.0, 18.0, 90.0
    levels = [lv.level for lv in model.levels]
    width = max(len(levels) * (bar + gap) + gap, 200.0)
    chart = Chart("distribution", f"{model.name}: ML systems per level", width,
                  top + plot + bottom)
    highest = max(counts.values(), default=0) or 1
    for index, level in enumerate(levels):
        value = counts.get(str(level), 0)
        h = max(plot * value / highest, 1.0)
        x = gap + index * (bar + gap)
        chart.shapes.append(_rect(x, top + plot - h, bar, h, "bar" + (" empty" if not value else ""),
                                  f"Level {level}: {plural(value, 'system')}",
                                  extra={"data-level": level, "data-count": value}))
        chart.shapes.append(_text(x + bar / 2, top + plot - h - 4, str(value), "value"))
        chart.shapes.append(_text(x + bar / 2, top + plot + 14, f"L{level}", "axis"))
    return chart


def trend_chart(model: ModelMaturity, points: Sequence[TrendPoint]) -> Chart | None:
    """The platform level of one model over the stored scans (oldest to newest)."""
    series = [(p.generated_at, *p.levels[model.model]) for p in points if model.model in p.levels]
    if not series:
        return None
    left, right, top, bottom, plot_w, plot_h = 34.0, 12.0, 10.0, 24.0, 514.0, 120.0
    chart = Chart("trend", f"{model.name}: level over time", left + plot_w + right,
                  top + plot_h + bottom)
    step = plot_h / max(model.max_level, 1)
    for level in range(model.max_level + 1):
        y = top + plot_h - level * step
        chart.shapes.append(Shape("line", {"x1": left, "x2": left + plot_w, "y1": round(y, 1),
                                           "y2": round(y, 1), "class": "grid"}))
        chart.shapes.append(_text(left - 6, y + 4, f"L{level}", "axis", anchor="end"))
    times = [_epoch(moment) for moment, _, _ in series]
    span = (times[-1] - times[0]) or 1.0
    coords = []
    for (moment, level, at_least), t in zip(series, times, strict=True):
        x = left + (plot_w * (t - times[0]) / span if len(series) > 1 else plot_w / 2)
        y = top + plot_h - level * step
        coords.append((x, y, moment, level, at_least))
    chart.shapes.append(Shape("polyline", {
        "points": " ".join(f"{x:.1f},{y:.1f}" for x, y, *_ in coords), "class": "line"}))
    for x, y, moment, level, at_least in coords:
        qualifier = "at least " if at_least else ""
        chart.shapes.append(Shape("circle", {
            "cx": round(x, 1), "cy": round(y, 1), "r": 4, "class": "point" + (" maybe" if at_least else ""),
            "data-level": level}, title=f"{utc_timestamp(moment)}: {qualifier}level {level}"))
    chart.shapes.append(_text(left, top + plot_h + 18, series[0][0].strftime("%Y-%m-%d"), "axis",
                              anchor="start"))
    if len(series) > 1:
        chart.shapes.append(_text(left + plot_w, top + plot_h + 18,
                                  series[-1][0].strftime("%Y-%m-%d"), "axis", anchor="end"))
    return chart


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


# -- page data -------------------------------------------------------------------------------


def anchor(kind: str, *parts: str) -> str:
    """A fragment id for a page element; unsafe characters are replaced, uniquely."""
    raw = "-".join(parts)
    if _SAFE_ID.fullmatch(raw):
        return f"{kind}-{raw}"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", raw).strip("-")
    return f"{kind}-{slug}-{hashlib.sha1(raw.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class Column:
    """One scope of the requirement matrix: the platform or an ML system."""

    key: str
    title: str
    maturity: ModelMaturity | None
    by_id: dict[str, RequirementResult] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, title: str, maturity: ModelMaturity | None) -> Column:
        found = {r.id: r for r in maturity.requirements} if maturity else {}
        return cls(key, title, maturity, found)


@dataclass
class ModelView:
    model: ModelMaturity
    columns: list[Column]
    anchors: dict[str, str]  # requirement id -> row anchor
    ladder: Chart
    statuses: Chart
    distribution: Chart | None
    trend: Chart | None

    def cell(self, column: Column, req_id: str) -> RequirementResult | None:
        return column.by_id.get(req_id)


def _model_views(assessment: Assessment, history: Sequence[TrendPoint]) -> list[ModelView]:
    views = []
    for model in assessment.maturity.values():
        # with ML systems the first column is the whole platform; alone, it is the result
        overall = "Platform" if assessment.systems else "Status"
        columns = [Column.of("platform", overall, model)] + [
            Column.of(system.name, system.name, system.maturity.get(model.model))
            for system in assessment.systems.values()
        ]
        anchors = {r.id: anchor("req", model.model, r.id) for r in model.requirements}
        counts = assessment.system_levels.get(model.model)
        views.append(ModelView(
            model=model,
            columns=columns,
            anchors=anchors,
            ladder=ladder_chart(model),
            statuses=status_chart(model, anchors),
            distribution=distribution_chart(model, counts) if counts else None,
            trend=trend_chart(model, history) if history else None,
        ))
    return views


def _is_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


@cache
def _stylesheet() -> str:
    css = resources.files("maturity_probe.outputs").joinpath("templates/report.css").read_text(
        encoding="utf-8")
    if "</" in css:  # it is inlined in a <style> element
        raise ValueError("report.css must not contain '</'")
    return css


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("maturity_probe.outputs", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(
        STATUS_SYMBOL=STATUS_SYMBOL, STATUS_WORD=STATUS_WORD, STATUS_MEANING=STATUS_MEANING,
        UNKNOWN_NOTE=UNKNOWN_NOTE, Status=Status,
        level_text=level_text, anchor=anchor, is_url=_is_url, utc=utc_timestamp, plural=plural,
        MAX_LINKS=MAX_LINKS_PER_CELL,
    )
    return env


def render(assessment: Assessment, explain: bool = False,
           history: Sequence[TrendPoint] = ()) -> str:
    """The whole page. `history` (oldest first, this scan included) adds the trend charts."""
    css = _stylesheet()
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    evidence: dict[str, Evidence] = assessment.evidence_by_id()
    template = _environment().get_template("report.html.j2")
    return template.render(
        a=assessment,
        css=Markup(css),
        css_hash=f"sha256-{digest}",
        views=_model_views(assessment, history),
        evidence=evidence,
        evidence_counts=assessment.evidence_per_source(),
        evidence_anchor={eid: anchor("ev", eid) for eid in evidence},
        history=list(history),
        generated=utc_timestamp(assessment.generated_at),
    )
