"""Sharded scans: `scan --shard K/N --scan-group ID` and `report --scan-group ID`.

N jobs (a Kubernetes indexed Job) each scan the subjects their shard owns and store their
part under one scan group. The report loads every part, takes the union of the evidence,
merges each source's statuses, correlates the systems again and re-runs inference: the
result is the assessment one unsharded scan of the same data would have given.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from maturity_probe.assessment import Assessment
from maturity_probe.collectors import Shard
from maturity_probe.config import SystemSpec
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence, SourceState, SourceStatus
from maturity_probe.inference.correlate import correlate
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import RuleSet

if TYPE_CHECKING:
    from maturity_probe.store import ScanRecord, Store

GROUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_SEVERITY = {SourceState.ok: 0, SourceState.partial: 1, SourceState.failed: 2}


def parse_shard(text: str) -> Shard:
    """`K/N` with 0 <= K < N (K is a Kubernetes indexed Job's JOB_COMPLETION_INDEX)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None:
        raise UserError(f"--shard {text!r}: expected K/N, e.g. 0/4 (K counts from 0)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise UserError(f"--shard {text!r}: K must be 0 to N-1 and N at least 1 (e.g. 0/4 .. 3/4)")
    return Shard(index, count)


def check_group_id(text: str) -> str:
    if not GROUP_ID.match(text):
        raise UserError(f"--scan-group {text!r}: use 1-64 letters, digits, `.`, `_`, `:` or `-`, "
                        "starting with a letter or digit")
    return text


def merge_statuses(parts: list[list[SourceStatus]]) -> list[SourceStatus]:
    """Per source: the worst status, summed requests, the longest duration, the distinct
    reasons and warnings joined, the signals any part could not look for."""
    merged: dict[str, SourceStatus] = {}
    for statuses in parts:
        for status in statuses:
            seen = merged.get(status.name)
            if seen is None:
                merged[status.name] = status.model_copy(deep=True)
                continue
            if _SEVERITY[status.status] > _SEVERITY[seen.status]:
                seen.status = status.status
            reasons = [r for r in seen.reason.split("; ") if r]
            reasons += [r for r in status.reason.split("; ") if r and r not in reasons]
            seen.reason = "; ".join(reasons)
            seen.requests += status.requests
            seen.duration_seconds = max(seen.duration_seconds, status.duration_seconds)
            seen.unavailable_signals = sorted(set(seen.unavailable_signals)
                                              | set(status.unavailable_signals))
            seen.warnings += [w for w in status.warnings if w not in seen.warnings]
    return [merged[name] for name in sorted(merged)]


def declared_systems(parts: list[Assessment]) -> dict[str, SystemSpec]:
    """The config's `systems:` as the parts resolved them: each declared system's subjects.

    Given to correlate as explicit members, they claim what links to them across parts,
    as the original declarations did in one scan.
    """
    members: dict[str, set[str]] = {}
    for part in parts:
        for system in part.systems.values():
            if system.declared:
                members.setdefault(system.name, set()).update(system.subjects)
    return {name: SystemSpec(repos=sorted(subjects)) for name, subjects in members.items()}


def merge(parts: list[Assessment], rules: RuleSet) -> Assessment:
    """One assessment from the parts of a sharded scan, inferred again over all evidence."""
    first = parts[0]
    evidence: dict[str, Evidence] = {}
    for part in parts:
        for item in part.evidence:
            evidence.setdefault(item.id, item)
    models = list(first.maturity)
    for model in models:
        if model not in rules.models:
            raise UserError(f"the scan was assessed with maturity model {model!r}, which these "
                            "rules lack: give the same --rules as the scan")
    items = list(evidence.values())
    return assess(
        rules,
        items,
        merge_statuses([part.sources for part in parts]),
        now=min(part.generated_at for part in parts),
        target=first.target,
        model_ids=models,
        exemptions=first.exemptions,
        systems=correlate(items, declared_systems(parts)),
    )


def check_joins_group(store: Store, group_id: str, config_key: str, shard: Shard) -> None:
    """Refuse, before a shard is scanned, a scan group that holds scans of another
    platform config or of another shard count: their merge would mix two platforms."""
    for record in store.scans(group_id=group_id):
        if record.config_key != config_key:
            raise UserError(f"scan group {group_id!r} holds scans of another platform config "
                            f"({record.config_key!r}, scan {record.id}): give this run its own "
                            "--scan-group")
        if record.shard_count is not None and record.shard_count != shard.count:
            raise UserError(f"scan group {group_id!r} holds shards of {record.shard_count}, not "
                            f"{shard.count} (scan {record.id}): one run, one N")


def group_shards(store: Store, group_id: str) -> tuple[list[ScanRecord], ScanRecord | None]:
    """The newest stored part of each shard of the group, in shard order, and the merged
    scan already stored for it (None if not yet). Missing shards are a one-line error."""
    records = store.scans(group_id=group_id)
    if not records:
        raise UserError(f"no stored scan in scan group {group_id!r}")
    platforms = sorted({r.config_key for r in records})
    if len(platforms) > 1:
        raise UserError(f"scan group {group_id!r} mixes platform configs "
                        f"{', '.join(repr(p) for p in platforms)}: its shards cannot be merged")
    shards = [r for r in records if r.shard_index is not None]
    whole = next((r for r in records if r.shard_index is None), None)
    if not shards:
        raise UserError(f"scan group {group_id!r} holds no shards (an unsharded scan: "
                        f"use report --scan {records[0].id})")
    counts = sorted({r.shard_count for r in shards if r.shard_count is not None})
    if len(counts) != 1:
        raise UserError(f"scan group {group_id!r} mixes shard counts "
                        f"{', '.join(str(c) for c in counts)}: one run, one N")
    count = counts[0]
    newest: dict[int, ScanRecord] = {}
    for record in shards:  # newest first: a retried shard's latest part wins
        assert record.shard_index is not None
        newest.setdefault(record.shard_index, record)
    missing = [index for index in range(count) if index not in newest]
    if missing:
        listed = ", ".join(f"{i}/{count}" for i in missing)
        raise UserError(f"scan group {group_id!r} is incomplete: shard{'s' if len(missing) > 1 else ''}"
                        f" {listed} not stored yet ({len(newest)} of {count} stored)")
    return [newest[index] for index in range(count)], whole


def merged_group(store: Store, group_id: str, rules: RuleSet, *, save: bool
                 ) -> tuple[Assessment, str | None, bool]:
    """The merged assessment of a scan group, its stored scan id, and whether it was
    stored just now.

    With `save`, the merged scan is stored once (unsharded, in the same group), so that
    history, trends and `gate --against last` see the platform as one scan; later reports
    merge again but do not store it twice.
    """
    records, whole = group_shards(store, group_id)
    assessment = merge([store.assessment(r.id) for r in records], rules)
    if whole is not None:
        return assessment, whole.id, False
    if not save:
        return assessment, None, False
    scan_id = store.save(assessment, config_key=records[0].config_key, group_id=group_id)
    return assessment, scan_id, True
