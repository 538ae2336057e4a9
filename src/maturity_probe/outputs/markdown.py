"""Markdown: a PR / merge-request comment and a CI job summary (kept under 1 MiB).

Every text that comes from the assessment (paths, job names, summaries, reasons, names)
goes through `md.text` or `md.code`: it is the audited repository's content.
"""

from __future__ import annotations

from maturity_probe.assessment import Assessment, ModelMaturity, Status
from maturity_probe.evidence import Evidence
from maturity_probe.outputs import md
from maturity_probe.outputs.labels import (
    STATUS_SYMBOL,
    STATUS_WORD,
    UNKNOWN_NOTE,
    level_text,
    unassigned,
)
from maturity_probe.words import plural

MAX_BYTES = 1_000_000  # GitHub refuses job summaries over 1 MiB
MAX_EVIDENCE_PER_REQUIREMENT = 10


def _cell(text: str) -> str:
    return md.text(text, table=True)


def _model(model: ModelMaturity, evidence: dict[str, Evidence], explain: bool) -> list[str]:
    lines = [f"### {md.text(model.name)}: {md.text(level_text(model))}", ""]
    if model.at_least:
        lines += ["> Some requirements could not be checked (a source failed or was not "
                  "scanned): the level may be higher.", ""]
    lines += ["| Level | Requirement | Status | Evidence / reason |", "|---:|---|---|---|"]
    for req in model.requirements:
        items = [evidence[i] for i in req.evidence if i in evidence]
        shown = items[:MAX_EVIDENCE_PER_REQUIREMENT]
        detail = "<br>".join(md.code(e.locator, table=True) for e in shown)
        if len(items) > len(shown):
            detail += f"<br>… and {len(items) - len(shown)} more"
        if not detail and req.reason:
            detail = _cell(req.reason)
        optional = " _(optional)_" if not req.blocking and req.status != Status.not_assessable else ""
        lines.append(f"| {req.level} | {_cell(req.title)}{optional} | "
                     f"{STATUS_SYMBOL[req.status]} {STATUS_WORD[req.status]} | {detail} |")
    if model.next_level and model.next_level.gaps:
        lines += ["", f"**Next: level {model.next_level.level} — "
                  f"{md.text(model.next_level.name)}**", ""]
        for gap in model.next_level.gaps:
            note = f" — {UNKNOWN_NOTE}" if gap.status == Status.unknown else ""
            lines.append(f"- **{md.text(gap.title)}**{note}: {md.text(gap.recommendation)}")
    if explain:
        lines += ["", "<details><summary>Evidence behind each requirement</summary>", ""]
        for req in model.requirements:
            for item in (evidence[i] for i in req.evidence if i in evidence):
                lines.append(f"- {md.code(req.id)}: {md.code(item.locator)} "
                             f"({md.text(item.signal)}, {item.strength.value}) "
                             f"{md.text(item.summary)}")
        lines += ["", "</details>"]
    return [*lines, ""]


def _systems(assessment: Assessment) -> list[str]:
    """Each ML system's level per maturity model, and how much evidence is in no system."""
    if not assessment.systems:
        return []
    models = list(assessment.maturity.values())
    lines = ["### ML systems", "",
             "| ML system | " + " | ".join(_cell(m.name) for m in models) + " |",
             "|---|" + "---|" * len(models)]
    for system in assessment.systems.values():
        declared = " _(declared)_" if system.declared else ""
        levels = [_cell(level_text(system.maturity[m.model])) if m.model in system.maturity
                  else "not assessed" for m in models]
        lines.append(f"| {_cell(system.name)}{declared} | " + " | ".join(levels) + " |")
    if assessment.unassigned_evidence:
        lines += ["", f"{unassigned(assessment)}."]
    return [*lines, ""]


def render(assessment: Assessment, explain: bool = False) -> str:
    evidence = assessment.evidence_by_id()
    lines = ["## MLOps maturity", "", f"Assessed: {md.code(assessment.target)}", ""]
    lines += ["| Model | Level |", "|---|---|"]
    for model in assessment.maturity.values():
        lines.append(f"| {_cell(model.name)} | {_cell(level_text(model))} |")
    lines.append("")
    lines += _systems(assessment)
    for model in assessment.maturity.values():
        lines += _model(model, evidence, explain)
    if assessment.exemptions:
        lines += ["### Exemptions", ""]
        lines += [f"- {md.code(e.target)}: {md.text(e.reason)} ({md.text(e.origin)})"
                  for e in assessment.exemptions]
        lines.append("")
    if assessment.kpis:
        lines += ["### KPIs", "", "| Subject | KPI | Value |", "|---|---|---:|"]
        for kpi in assessment.kpis:
            value = "n/a" if kpi.value is None else f"{kpi.value:g} {kpi.unit}".strip()
            lines.append(f"| {md.code(kpi.subject, table=True)} | {_cell(kpi.name)} | "
                         f"{_cell(value)} |")
        lines.append("")
    lines += ["### Sources", "",
              "| Source | Type | Status | Evidence | Duration | Requests | Reason |",
              "|---|---|---|---:|---:|---:|---|"]
    counts = assessment.evidence_per_source()
    for source in assessment.sources:
        lines.append(f"| {_cell(source.name)} | {_cell(source.type)} | {source.status.value} | "
                     f"{counts.get(source.name, 0)} | {source.duration_seconds:.2f} s | "
                     f"{source.requests} | {_cell(source.reason)} |")
    if assessment.warnings:
        lines += ["", f"<details><summary>{plural(assessment.warnings, 'warning')}</summary>", ""]
        lines += [f"- {md.text(w)}" for w in assessment.warnings[:200]]
        lines += ["", "</details>"]
    text = "\n".join(lines) + "\n"
    return _fit(text)


def _fit(text: str) -> str:
    """Cut at a line boundary so the document stays under the consumers' size limit."""
    data = text.encode()
    if len(data) <= MAX_BYTES:
        return text
    cut = data[: MAX_BYTES - 200].decode(errors="ignore").rsplit("\n", 1)[0]
    return cut + "\n\n_… truncated to stay under 1 MiB; see the JSON or HTML report._\n"
