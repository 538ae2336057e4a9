"""What the history store says over time: scan listings, the difference between two
scans, and levels as a trend. Data only: outputs/history_views.py renders it.

The JSON forms built here (`history_json`, `ScanDiff.to_json`, `trend_json`) are public
contracts, documented in the `--help` of the `history`, `diff` and `trend` commands: add
keys, never rename or remove them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from maturity_probe.assessment import Assessment, ModelMaturity, Status
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence
from maturity_probe.outputs.labels import utc_timestamp
from maturity_probe.store import PLATFORM_SCOPE, SYSTEM_SCOPE, ScanRecord, Store, system_scope

Level = tuple[int, bool]  # (level, at_least)


def level_json(level: Level | None) -> dict[str, Any] | None:
    return None if level is None else {"level": level[0], "at_least": level[1]}


def system_of(scope: str) -> str | None:
    """The system's name of a `system:<name>` scope; None for the platform."""
    return scope.removeprefix(SYSTEM_SCOPE) if scope.startswith(SYSTEM_SCOPE) else None


def scope_order(scope: str) -> tuple[int, str]:
    """The platform first, then systems by name."""
    return (0 if scope == PLATFORM_SCOPE else 1, scope)


# -- history ------------------------------------------------------------------------------


def scan_json(record: ScanRecord) -> dict[str, Any]:
    """One `history` entry: the scan, its levels per model and system, its sources."""
    shard = ({"index": record.shard_index, "count": record.shard_count}
             if record.shard_index is not None else None)
    return {
        "id": record.id,
        "generated_at": utc_timestamp(record.generated_at),
        "config_key": record.config_key,
        "target": record.target,
        "group_id": record.group_id,
        "shard": shard,
        "levels": {model: level_json(level)
                   for model, level in record.levels.get(PLATFORM_SCOPE, {}).items()},
        "systems": {
            name: {model: level_json(level) for model, level in record.levels[scope].items()}
            for scope in sorted(record.levels) if (name := system_of(scope)) is not None
        },
        "sources": [{"name": s.name, "type": s.type, "status": s.status, "reason": s.reason}
                    for s in record.sources],
    }


def history_json(records: list[ScanRecord]) -> dict[str, Any]:
    """The `history --format json` document: scans newest first."""
    return {"scans": [scan_json(record) for record in records]}


# -- diff ---------------------------------------------------------------------------------


def _evidence_key(item: Evidence) -> tuple[str, str, str, str]:
    """What identifies one observation across scans even when its line moved: the
    evidence id hashes the locator, and a locator `path:line` changes when lines shift."""
    return (item.source, item.signal, item.subject, item.path or item.locator)


def _evidence_order(item: Evidence) -> tuple[str, str, str, int]:
    return (item.subject, item.signal, item.path or item.locator, item.line or 0)


def evidence_json(item: Evidence) -> dict[str, Any]:
    return {"id": item.id, "signal": item.signal, "subject": item.subject, "source": item.source,
            "locator": item.locator, "strength": item.strength.value, "summary": item.summary}


@dataclass
class EvidenceDiff:
    """Evidence only in the later scan, only in the earlier one, or seen at another strength;
    `systems` names the ML systems each item belongs to (the earlier scan's for disappeared
    items, the later scan's for the others)."""

    appeared: list[Evidence] = field(default_factory=list)
    disappeared: list[Evidence] = field(default_factory=list)
    changed: list[tuple[Evidence, Evidence]] = field(default_factory=list)  # (before, after)
    systems: dict[str, tuple[str, ...]] = field(default_factory=dict)  # evidence id -> systems

    def systems_of(self, item: Evidence) -> tuple[str, ...]:
        return self.systems.get(item.id, ())

    def by_system(self) -> dict[str | None, EvidenceDiff]:
        """The differences per system (None: evidence of no system), systems by name; an
        item of two systems is in both."""
        groups: dict[str | None, EvidenceDiff] = defaultdict(EvidenceDiff)
        for item in self.appeared:
            for system in self.systems_of(item) or (None,):
                groups[system].appeared.append(item)
        for item in self.disappeared:
            for system in self.systems_of(item) or (None,):
                groups[system].disappeared.append(item)
        for pair in self.changed:
            for system in self.systems_of(pair[1]) or (None,):
                groups[system].changed.append(pair)
        return {name: groups[name] for name in sorted(groups, key=lambda n: (n is None, n or ""))}


def _system_membership(assessment: Assessment) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = defaultdict(list)
    for name in sorted(assessment.systems):
        for evidence_id in assessment.systems[name].evidence:
            members[evidence_id].append(name)
    return {evidence_id: tuple(names) for evidence_id, names in members.items()}


def diff_evidence(before: list[Evidence], after: list[Evidence]) -> EvidenceDiff:
    """Match evidence by id, then what is left by source, signal, subject and file."""
    after_ids = {item.id for item in after}
    before_ids = {item.id for item in before}
    by_id = {item.id: item for item in after}
    pairs = [(item, by_id[item.id]) for item in before if item.id in after_ids]
    waiting: dict[tuple[str, str, str, str], list[Evidence]] = defaultdict(list)
    for item in sorted((i for i in after if i.id not in before_ids), key=_evidence_order):
        waiting[_evidence_key(item)].append(item)
    result = EvidenceDiff()
    for item in sorted((i for i in before if i.id not in after_ids), key=_evidence_order):
        bucket = waiting.get(_evidence_key(item))
        if bucket:
            pairs.append((item, bucket.pop(0)))
        else:
            result.disappeared.append(item)
    result.appeared = sorted((i for bucket in waiting.values() for i in bucket), key=_evidence_order)
    result.changed = sorted(((b, a) for b, a in pairs if b.strength != a.strength),
                            key=lambda pair: _evidence_order(pair[1]))
    return result


@dataclass(frozen=True)
class LevelMove:
    """A model's level in one scope that differs between the scans (None: not assessed)."""

    scope: str
    model: str
    before: Level | None
    after: Level | None
    name_before: str = ""
    name_after: str = ""


@dataclass(frozen=True)
class RequirementChange:
    """A requirement whose status differs: `met` (now met), `lost` (was met) or `changed`."""

    scope: str
    model: str
    requirement: str
    title: str
    level: int
    before: Status | None
    after: Status | None

    @property
    def change(self) -> str:
        if self.after == Status.met:
            return "met"
        if self.before == Status.met:
            return "lost"
        return "changed"


@dataclass(frozen=True)
class ScanSide:
    """Which scan one side of a diff is."""

    id: str
    generated_at: str
    config_key: str

    @classmethod
    def of(cls, record: ScanRecord) -> ScanSide:
        return cls(record.id, utc_timestamp(record.generated_at), record.config_key)


@dataclass
class ScanDiff:
    """What changed from scan `before` to scan `after`, for the platform and each system."""

    before: ScanSide
    after: ScanSide
    levels: list[LevelMove]
    requirements: list[RequirementChange]
    evidence: EvidenceDiff

    @property
    def empty(self) -> bool:
        ev = self.evidence
        return not (self.levels or self.requirements or ev.appeared or ev.disappeared or ev.changed)

    def to_json(self) -> dict[str, Any]:
        """The `diff --format json` document."""
        return {
            "from": vars(self.before),
            "to": vars(self.after),
            "levels": [
                {"scope": m.scope, "system": system_of(m.scope), "model": m.model,
                 "from": level_json(m.before), "to": level_json(m.after)}
                for m in self.levels
            ],
            "requirements": [
                {"scope": r.scope, "system": system_of(r.scope), "model": r.model,
                 "requirement": r.requirement, "title": r.title, "level": r.level,
                 "from": r.before.value if r.before else None,
                 "to": r.after.value if r.after else None, "change": r.change}
                for r in self.requirements
            ],
            "evidence": {
                "appeared": [self._evidence(item) for item in self.evidence.appeared],
                "disappeared": [self._evidence(item) for item in self.evidence.disappeared],
                "changed": [{"from": self._evidence(b), "to": self._evidence(a)}
                            for b, a in self.evidence.changed],
            },
            "evidence_by_system": [
                {"system": system, "appeared": [i.id for i in part.appeared],
                 "disappeared": [i.id for i in part.disappeared],
                 "changed": [a.id for _, a in part.changed]}
                for system, part in self.evidence.by_system().items()
            ],
        }

    def _evidence(self, item: Evidence) -> dict[str, Any]:
        return {**evidence_json(item), "systems": list(self.evidence.systems_of(item))}


def _scopes(assessment: Assessment) -> dict[str, dict[str, ModelMaturity]]:
    scopes = {PLATFORM_SCOPE: dict(assessment.maturity)}
    for name, system in assessment.systems.items():
        scopes[system_scope(name)] = dict(system.maturity)
    return scopes


def _model_changes(scope: str, model_id: str, before: ModelMaturity | None,
                   after: ModelMaturity | None) -> tuple[LevelMove | None, list[RequirementChange]]:
    old = (before.level, before.at_least) if before else None
    new = (after.level, after.at_least) if after else None
    move = None if old == new else LevelMove(
        scope, model_id, old, new, before.level_name if before else "",
        after.level_name if after else "")
    was = {r.id: r for r in before.requirements} if before else {}
    now = {r.id: r for r in after.requirements} if after else {}
    changes = []
    for req_id in [*was, *(r for r in now if r not in was)]:
        old_req, new_req = was.get(req_id), now.get(req_id)
        old_status = old_req.status if old_req else None
        new_status = new_req.status if new_req else None
        if old_status != new_status:
            shown = new_req or old_req
            assert shown is not None
            changes.append(RequirementChange(scope, model_id, req_id, shown.title, shown.level,
                                             old_status, new_status))
    return move, changes


def diff_scans(before: ScanRecord, before_assessment: Assessment,
               after: ScanRecord, after_assessment: Assessment) -> ScanDiff:
    """Levels moved, requirements met or lost, evidence that appeared or disappeared."""
    old_scopes, new_scopes = _scopes(before_assessment), _scopes(after_assessment)
    moves: list[LevelMove] = []
    changes: list[RequirementChange] = []
    for scope in sorted(set(old_scopes) | set(new_scopes), key=scope_order):
        old_models, new_models = old_scopes.get(scope, {}), new_scopes.get(scope, {})
        for model_id in [*old_models, *(m for m in new_models if m not in old_models)]:
            move, changed = _model_changes(scope, model_id, old_models.get(model_id),
                                           new_models.get(model_id))
            moves.extend([move] if move else [])
            changes.extend(changed)
    evidence = diff_evidence(before_assessment.evidence, after_assessment.evidence)
    was_in, now_in = _system_membership(before_assessment), _system_membership(after_assessment)
    evidence.systems = {
        **{i.id: was_in[i.id] for i in evidence.disappeared if i.id in was_in},
        **{i.id: now_in[i.id] for i in evidence.appeared if i.id in now_in},
        **{a.id: now_in[a.id] for _, a in evidence.changed if a.id in now_in},
    }
    return ScanDiff(ScanSide.of(before), ScanSide.of(after), moves, changes, evidence)


# -- gate ---------------------------------------------------------------------------------


def stored_baseline(store: Store, reference: str, config_key: str) -> tuple[Assessment, str]:
    """The stored scan `gate --against` compares with, and a note saying which one it is.

    `last` / `last~N` count the whole (unsharded) scans of this config; an id names any scan.
    """
    if reference.startswith("last") and not store.scans(config_key=config_key, limit=1, whole=True):
        raise UserError(f"no stored scan of {config_key} to gate against: run "
                        "`maturity-probe scan --config FILE` first (or give --baseline FILE)")
    scan_id = store.resolve(reference, config_key=config_key, whole=True)
    record = store.record(scan_id)
    note = f"baseline: stored scan {record.id} of {utc_timestamp(record.generated_at)}"
    if record.config_key != config_key:
        note += f" (of another config: {record.config_key})"
    return store.assessment(scan_id), note


# -- trend --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    scan_id: str
    generated_at: str
    level: int
    at_least: bool


@dataclass(frozen=True)
class Series:
    """One model's levels in one scope, oldest scan first."""

    scope: str
    model: str
    points: list[TrendPoint]


def trend_series(records: list[ScanRecord], *, model: str | None = None,
                 system: str | None = None) -> list[Series]:
    """Levels over time per scope and model from stored scans (given newest first).

    `system` keeps only that system's series; without it the platform comes first, then
    every system. A scope or model that was not assessed in a scan has no point there.
    """
    points: dict[tuple[str, str], list[TrendPoint]] = defaultdict(list)
    for record in reversed(records):
        for scope, by_model in record.levels.items():
            for model_id, (level, at_least) in by_model.items():
                points[(scope, model_id)].append(TrendPoint(
                    record.id, utc_timestamp(record.generated_at), level, at_least))
    scopes = {scope for scope, _ in points}
    models = list(dict.fromkeys(m for r in records for by in r.levels.values() for m in by))
    if system is not None and system_scope(system) not in scopes:
        known = ", ".join(sorted(n for s in scopes if (n := system_of(s)))) or "none"
        raise UserError(f"no system {system!r} in these scans (systems: {known})")
    if model is not None and model not in models:
        raise UserError(f"no levels of model {model!r} in these scans "
                        f"(models: {', '.join(models) or 'none'})")
    wanted_scopes = [system_scope(system)] if system is not None else sorted(scopes, key=scope_order)
    return [Series(scope, model_id, points[(scope, model_id)])
            for scope in wanted_scopes for model_id in models
            if (model is None or model_id == model) and (scope, model_id) in points]


def trend_json(config_key: str, series: list[Series]) -> dict[str, Any]:
    """The `trend --format json` document."""
    return {
        "config_key": config_key,
        "series": [
            {"scope": s.scope, "system": system_of(s.scope), "model": s.model,
             "points": [vars(point) for point in s.points]}
            for s in series
        ],
    }
