"""Human views of the history store: the scan list, a diff of two scans, level trends.

Rendering only; the data comes from maturity_probe.history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from rich.table import Table

from maturity_probe.assessment import Status
from maturity_probe.evidence import Evidence
from maturity_probe.history import Level, ScanDiff, ScanSide, Series, system_of
from maturity_probe.outputs import md
from maturity_probe.outputs.labels import STATUS_SYMBOL, STATUS_WORD, utc_timestamp
from maturity_probe.store import PLATFORM_SCOPE, ScanRecord

MAX_EVIDENCE_LINES = 50  # per kind in the text and Markdown diff; JSON lists everything
CHANGE_SYMBOL = {"met": STATUS_SYMBOL[Status.met], "lost": STATUS_SYMBOL[Status.unmet],
                 "changed": "•"}


def level_cell(level: Level | None) -> str:
    """`2`, `≥2` (at least: a failed source could have raised it) or `–` (not assessed)."""
    if level is None:
        return "–"
    return f"{'≥' if level[1] else ''}{level[0]}"


def scope_title(scope: str) -> str:
    name = system_of(scope)
    return "platform" if name is None else f"system {name}"


def _status(status: Status | None) -> str:
    return "absent" if status is None else STATUS_WORD[status]


# -- history ------------------------------------------------------------------------------


def sources_cell(record: ScanRecord) -> str:
    """`3 ok` or `2 ok, 1 failed (prometheus)`."""
    counts = Counter(source.status for source in record.sources)
    parts = [f"{counts[state]} {state}" for state in ("ok", "partial", "failed") if counts[state]]
    troubled = [s.name for s in record.sources if s.status != "ok"]
    return ", ".join(parts) + (f" ({', '.join(troubled)})" if troubled else "")


def history_table(records: list[ScanRecord]) -> Table:
    """One row per scan, newest first, with the platform level of each model."""
    models = list(dict.fromkeys(m for r in records for m in r.levels.get(PLATFORM_SCOPE, {})))
    table = Table(show_header=True, header_style="bold", title="Stored scans", title_justify="left")
    for column in ("Scan", "Time (UTC)", "Config", "Shard", *models, "Systems", "Sources"):
        table.add_column(column, justify="right" if column in models else "left")
    for record in records:
        platform = record.levels.get(PLATFORM_SCOPE, {})
        shard = f"{record.shard_index}/{record.shard_count}" if record.is_shard else ""
        systems = sum(1 for scope in record.levels if scope != PLATFORM_SCOPE)
        table.add_row(record.id, utc_timestamp(record.generated_at), record.config_key, shard,
                      *(level_cell(platform.get(m)) for m in models), str(systems),
                      sources_cell(record))
    return table


# -- diff ---------------------------------------------------------------------------------


def _side(side: ScanSide) -> str:
    return f"{side.id} ({side.generated_at})"


def _header(diff: ScanDiff) -> str:
    if diff.before.config_key == diff.after.config_key:
        return f"diff of {diff.before.config_key}: {_side(diff.before)} → {_side(diff.after)}"
    return (f"diff: {_side(diff.before)} of {diff.before.config_key} → "
            f"{_side(diff.after)} of {diff.after.config_key}")


def _evidence_line(item: Evidence) -> str:
    return f"{item.signal}  {item.subject}  {item.locator}  ({item.strength.value})"


def _capped(lines: list[str], prefix: str) -> Iterator[str]:
    for line in lines[:MAX_EVIDENCE_LINES]:
        yield prefix + line
    if len(lines) > MAX_EVIDENCE_LINES:
        yield f"{prefix}… and {len(lines) - MAX_EVIDENCE_LINES} more (--format json lists all)"


def _by_scope_model(diff: ScanDiff) -> list[tuple[str, str]]:
    """(scope, model) pairs with a moved level or a changed requirement, in diff order."""
    pairs = [(m.scope, m.model) for m in diff.levels] + [(r.scope, r.model) for r in diff.requirements]
    return list(dict.fromkeys(sorted(pairs, key=lambda p: (p[0] != PLATFORM_SCOPE, p[0]))))


def diff_text(diff: ScanDiff) -> str:
    """Plain text: per scope and model the level move and each requirement change, then
    the evidence that appeared (+), disappeared (-) or changed strength (~)."""
    lines = [_header(diff)]
    if diff.empty:
        return "\n".join([*lines, "no differences"]) + "\n"
    moves = {(m.scope, m.model): m for m in diff.levels}
    scope = None
    for pair in _by_scope_model(diff):
        if pair[0] != scope:
            scope = pair[0]
            lines.append(scope_title(scope))
        move = moves.get(pair)
        if move is not None:
            name = f" — {move.name_after}" if move.name_after else ""
            lines.append(f"  {pair[1]}: level {level_cell(move.before)} → {level_cell(move.after)}{name}")
        else:
            lines.append(f"  {pair[1]}: level unchanged")
        for req in (r for r in diff.requirements if (r.scope, r.model) == pair):
            lines.append(f"    {CHANGE_SYMBOL[req.change]} {req.change} \"{req.title}\" (level "
                         f"{req.level}): {_status(req.before)} → {_status(req.after)}")
    ev = diff.evidence
    lines.append(f"evidence: {len(ev.appeared)} appeared, {len(ev.disappeared)} disappeared, "
                 f"{len(ev.changed)} changed strength")
    for system, part in ev.by_system().items():
        lines.append(f"  {_system_title(system)}:")
        lines += _capped([_evidence_line(i) for i in part.appeared], "    + ")
        lines += _capped([_evidence_line(i) for i in part.disappeared], "    - ")
        lines += _capped([f"{_evidence_line(a)} was {b.strength.value}" for b, a in part.changed],
                         "    ~ ")
    return "\n".join(lines) + "\n"


def _system_title(system: str | None) -> str:
    return f"system {system}" if system is not None else "no system"


def _cell(text: str) -> str:
    return md.text(text, table=True)


def diff_markdown(diff: ScanDiff) -> str:
    """Markdown for a PR comment or a job summary: tables of levels and requirements."""
    lines = [f"## maturity-probe {md.text(_header(diff))}", ""]
    if diff.empty:
        return "\n".join([*lines, "No differences."]) + "\n"
    if diff.levels:
        lines += ["### Levels", "", "| scope | model | before | after |", "| --- | --- | ---: | ---: |"]
        lines += [f"| {_cell(scope_title(m.scope))} | {_cell(m.model)} | {level_cell(m.before)} | "
                  f"{level_cell(m.after)} |" for m in diff.levels]
        lines.append("")
    if diff.requirements:
        lines += ["### Requirements", "", "| scope | model | requirement | level | change | before "
                  "| after |", "| --- | --- | --- | ---: | --- | --- | --- |"]
        lines += [f"| {_cell(scope_title(r.scope))} | {_cell(r.model)} | {_cell(r.title)} | {r.level} | "
                  f"{CHANGE_SYMBOL[r.change]} {r.change} | {_status(r.before)} | {_status(r.after)} |"
                  for r in diff.requirements]
        lines.append("")
    ev = diff.evidence
    lines += ["### Evidence", "", f"{len(ev.appeared)} appeared, {len(ev.disappeared)} disappeared, "
              f"{len(ev.changed)} changed strength.", ""]
    code, text = md.code, md.text
    for system, part in ev.by_system().items():
        lines += [f"#### {text(_system_title(system))}", ""]
        lines += _capped([f"{code(i.signal)} {text(i.subject)} {code(i.locator)} "
                          f"({i.strength.value})" for i in part.appeared], "- ➕ ")
        lines += _capped([f"{code(i.signal)} {text(i.subject)} {code(i.locator)} "
                          f"({i.strength.value})" for i in part.disappeared], "- ➖ ")
        lines += _capped([f"{code(a.signal)} {text(a.subject)} {code(a.locator)}: "
                          f"{b.strength.value} → {a.strength.value}" for b, a in part.changed], "- 🔁 ")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# -- trend --------------------------------------------------------------------------------


def trend_tables(config_key: str, series: list[Series]) -> list[Table]:
    """One table per scope: a row per scan (oldest first), a column per model."""
    tables = []
    for scope in dict.fromkeys(s.scope for s in series):
        mine = [s for s in series if s.scope == scope]
        table = Table(title=f"{config_key} — {scope_title(scope)}", title_justify="left",
                      header_style="bold")
        table.add_column("Time (UTC)")
        table.add_column("Scan")
        for s in mine:
            table.add_column(s.model, justify="right")
        scans = sorted({(p.generated_at, p.scan_id) for s in mine for p in s.points})
        by_model = {s.model: {p.scan_id: (p.level, p.at_least) for p in s.points} for s in mine}
        for when, scan_id in scans:
            table.add_row(when, scan_id, *(level_cell(by_model[s.model].get(scan_id)) for s in mine))
        tables.append(table)
    return tables
