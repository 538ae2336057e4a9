"""Terminal view (rich): the level per model, the requirement table and the next steps."""

from __future__ import annotations

import io

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from maturity_probe.assessment import Assessment, ModelMaturity, Status
from maturity_probe.evidence import Evidence, SourceState
from maturity_probe.outputs.labels import (
    STATUS_SYMBOL,
    STATUS_WORD,
    UNKNOWN_NOTE,
    level_text,
    unassigned,
)
from maturity_probe.words import plural

STATUS_STYLE = {
    Status.met: "green",
    Status.unmet: "red",
    Status.unknown: "yellow",
    Status.not_assessable: "dim",
    Status.not_applicable: "blue",
}
SOURCE_STYLE = {SourceState.ok: "green", SourceState.partial: "yellow", SourceState.failed: "red"}
MAX_EVIDENCE_SHOWN = 5


class ModelPanel:
    """A model's panel: the model's name on the top border, its level as the first line
    inside (wrapped at any width). A name too long for the border (user rules) goes
    inside too: a heading is never cut."""

    BORDER = 6  # "╭─ " before the title, " ─╮" after it

    def __init__(self, name: Text, level: Text, body: list[RenderableType]) -> None:
        self.name = name
        self.level = level
        self.body = body

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.name.cell_len + self.BORDER <= options.max_width:
            yield Panel(Group(self.level, *self.body), title=self.name, title_align="left")
        else:
            yield Panel(Group(self.name + Text(": ") + self.level, *self.body))


def _model_panel(model: ModelMaturity, evidence: dict[str, Evidence], explain: bool) -> ModelPanel:
    table = Table(show_header=True, header_style="bold", expand=True, show_lines=explain)
    table.add_column("L", justify="right", width=2)
    # fold, never ellipsize: a locator (file:line, URL) is the point of a cell
    table.add_column("Requirement", ratio=3, overflow="fold")
    table.add_column("Status", width=16)
    table.add_column("Evidence / reason", ratio=4, overflow="fold")
    for req in model.requirements:
        style = STATUS_STYLE[req.status]
        status = Text(f"{STATUS_SYMBOL[req.status]} {STATUS_WORD[req.status]}", style=style)
        detail = _detail(req.evidence, req.reason, evidence, explain)
        title = Text(req.title)
        if not req.blocking and req.status != Status.not_assessable:
            title.append(" (optional)", style="dim")
        table.add_row(str(req.level), title, status, detail)
    parts: list[RenderableType] = [table]
    if model.next_level and model.next_level.gaps:
        parts.append(Text(f"Next: level {model.next_level.level} — {model.next_level.name}",
                          style="bold"))
        parts.append(_next_steps(model))
    return ModelPanel(Text(model.name, style="bold"), Text(level_text(model), style="bold cyan"),
                      parts)


def _next_steps(model: ModelMaturity) -> Table:
    """One gap a row: the marker in its own column, so wrapped lines keep their indent."""
    steps = Table.grid(padding=(0, 1), pad_edge=True)
    steps.add_column(justify="right", width=3)
    steps.add_column(ratio=1, overflow="fold")
    for gap in model.next_level.gaps if model.next_level else []:
        unknown = gap.status == Status.unknown
        line = Text(gap.title, style="bold")
        if unknown:
            line.append(f" — {UNKNOWN_NOTE}", style=STATUS_STYLE[Status.unknown])
        line.append(f": {gap.recommendation}")
        steps.add_row(STATUS_SYMBOL[Status.unknown] if unknown else "•", line)
    steps.add_row("", "")
    return steps


def _detail(ids: list[str], reason: str | None, evidence: dict[str, Evidence],
            explain: bool) -> Text:
    text = Text()
    items = [evidence[i] for i in ids if i in evidence]
    shown = items if explain else items[:MAX_EVIDENCE_SHOWN]
    for item in shown:
        text.append(item.locator, style="cyan")
        if explain:  # the locator on a line of its own: the first thing read, whole
            text.append(f"\n[{item.signal}, {item.strength.value}] {item.summary}")
        text.append("\n")
    if len(items) > len(shown):
        text.append(f"… and {len(items) - len(shown)} more (--explain)\n", style="dim")
    if reason and not items:
        text.append(reason, style="dim")
    return text


def _sources(assessment: Assessment) -> Table:
    table = Table(title="Sources", title_justify="left", show_header=True, header_style="bold")
    for column in ("Source", "Type", "Status", "Evidence", "Duration", "Requests", "Reason"):
        table.add_column(column, overflow="fold")
    counts = assessment.evidence_per_source()
    for source in assessment.sources:
        table.add_row(
            source.name,
            source.type,
            Text(source.status.value, style=SOURCE_STYLE[source.status]),
            str(counts.get(source.name, 0)),
            f"{source.duration_seconds:.2f}s",
            str(source.requests),
            source.reason,
        )
    return table


def _systems(assessment: Assessment) -> Table | None:
    """Each ML system's level per maturity model, and the evidence in no system."""
    if not assessment.systems:
        return None
    caption = unassigned(assessment) if assessment.unassigned_evidence else None
    table = Table(title="ML systems", title_justify="left", header_style="bold", caption=caption,
                  caption_justify="left")
    table.add_column("System", overflow="fold")
    for model in assessment.maturity.values():
        table.add_column(model.name, overflow="fold")
    table.add_column("Subjects")
    for system in assessment.systems.values():
        name = Text(system.name)
        if system.declared:
            name.append(" (declared)", style="dim")
        levels = [Text(level_text(system.maturity[m]) if m in system.maturity else "not assessed")
                  for m in assessment.maturity]
        table.add_row(name, *levels, str(len(system.subjects)))
    return table


def _kpis(assessment: Assessment) -> Table | None:
    if not assessment.kpis:
        return None
    table = Table(title="KPIs", title_justify="left", header_style="bold")
    for column in ("Subject", "KPI", "Value"):
        table.add_column(column, overflow="fold")
    for kpi in assessment.kpis:
        value = "n/a" if kpi.value is None else f"{kpi.value:g} {kpi.unit}".strip()
        table.add_row(kpi.subject, kpi.name, value)
    return table


def renderables(assessment: Assessment, explain: bool) -> list[RenderableType]:
    evidence = assessment.evidence_by_id()
    out: list[RenderableType] = [
        Text(f"maturity-probe assessment of {assessment.target}", style="bold")
    ]
    for model in assessment.maturity.values():
        out.append(_model_panel(model, evidence, explain))
    if assessment.exemptions:
        exempt = Text("Exemptions (not applicable):\n", style="bold blue")
        for exemption in assessment.exemptions:
            exempt.append(f"  ⊘ {exemption.target}: {exemption.reason} ({exemption.origin})\n")
        out.append(exempt)
    systems = _systems(assessment)
    if systems is not None:
        out.append(systems)
    kpis = _kpis(assessment)
    if kpis is not None:
        out.append(kpis)
    out.append(_sources(assessment))
    if assessment.warnings:
        warn = Text(f"{plural(assessment.warnings, 'warning')}:\n", style="yellow")
        for line in assessment.warnings[:20]:
            warn.append(f"  {line}\n")
        if len(assessment.warnings) > 20:
            warn.append(f"  … and {len(assessment.warnings) - 20} more (see --format json)\n")
        out.append(warn)
    return out


def print_to(console: Console, assessment: Assessment, explain: bool = False) -> None:
    for item in renderables(assessment, explain):
        console.print(item)


def render(assessment: Assessment, explain: bool = False) -> str:
    """Plain text of the terminal view, for --output files and pipes."""
    console = Console(file=io.StringIO(), width=120, no_color=True, record=True)
    print_to(console, assessment, explain)
    return console.export_text()
