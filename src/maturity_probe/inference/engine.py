"""Inference: evidence + rules -> capabilities -> maturity levels. Pure and deterministic.

Three-valued logic keeps "could not look" apart from "looked, absent": a signal clause
is `unknown` when no source able to show that signal (at the strength asked) was
scanned successfully. `any_of` is met if one alternative is met, otherwise unknown if
one is unknown; `all_of` is unmet if one alternative is unmet, otherwise unknown if one
is unknown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from maturity_probe import __version__
from maturity_probe.assessment import (
    Assessment,
    CapabilityResult,
    Exemption,
    Gap,
    Kpi,
    LevelSummary,
    ModelMaturity,
    NextLevel,
    RequirementResult,
    Status,
    SystemMaturity,
    ToolInfo,
)
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.correlate import System
from maturity_probe.inference.rules import (
    AllOf,
    AnyOf,
    CapabilityClause,
    Clause,
    MaturityModel,
    Requirement,
    RuleSet,
    SignalClause,
    Where,
)
from maturity_probe.words import either

_T = TypeVar("_T")


@dataclass(frozen=True)
class Outcome:
    status: Status  # met, unmet or unknown
    evidence: tuple[str, ...] = ()
    unknown_because: tuple[str, ...] = ()
    looked_for: tuple[str, ...] = ()  # signals that were searched in vain


def _predicate_holds(where: Where, attributes: dict[str, Any]) -> bool:
    present = where.attribute in attributes and attributes[where.attribute] is not None
    value = attributes.get(where.attribute)
    op, expected = where.operator, where.value
    if op == "exists":
        return present is bool(expected)
    if not present:
        return op in ("ne", "not_in")
    if op == "eq":
        return bool(value == expected)
    if op == "ne":
        return bool(value != expected)
    if op == "in":
        return bool(value in expected)
    if op == "not_in":
        return bool(value not in expected)
    if op == "contains":
        return isinstance(value, list | str) and expected in value
    if op == "matches":
        return re.search(expected, str(value)) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return bool(
        {
            "gte": value >= expected,
            "gt": value > expected,
            "lte": value <= expected,
            "lt": value < expected,
        }[op]
    )


class Evaluator:
    """Evaluates capabilities over one body of evidence (a repo, a system, a platform)."""

    def __init__(
        self,
        rules: RuleSet,
        evidence: list[Evidence],
        sources: list[SourceStatus],
        now: datetime,
        blind: dict[tuple[str, Strength], list[str]] | None = None,
    ) -> None:
        self.rules = rules
        self.sources = sources
        self.now = now
        self.by_signal: dict[str, list[Evidence]] = defaultdict(list)
        for item in evidence:
            self.by_signal[item.signal].append(item)
        self._capabilities: dict[str, Outcome] = {}
        # why a signal could not be seen depends on the sources alone: evaluators of one
        # assessment (one per ML system) share the answers
        self._blind = {} if blind is None else blind

    def capability(self, cap_id: str) -> Outcome:
        if cap_id not in self._capabilities:
            self._capabilities[cap_id] = self.clause(self.rules.capabilities[cap_id].rule)
        return self._capabilities[cap_id]

    def clause(self, clause: Clause) -> Outcome:
        if isinstance(clause, SignalClause):
            return self.signal_clause(clause)
        if isinstance(clause, CapabilityClause):
            return self.capability(clause.capability)
        outcomes = [self.clause(child) for child in clause.clauses]
        if isinstance(clause, AnyOf):
            return _combine_any(outcomes)
        assert isinstance(clause, AllOf)
        return _combine_all(outcomes)

    def signal_clause(self, clause: SignalClause) -> Outcome:
        cutoff = self.now - timedelta(days=clause.within_days) if clause.within_days else None
        matched = sorted(
            item.id
            for item in self.by_signal.get(clause.signal, [])
            if item.strength.at_least(clause.strength)
            and (cutoff is None or (item.occurred_at is not None and item.occurred_at >= cutoff))
            and all(_predicate_holds(where, item.attributes) for where in clause.where)
        )
        if matched:
            return Outcome(Status.met, tuple(matched))
        blind = self.why_unobservable(clause.signal, clause.strength)
        if blind:
            return Outcome(Status.unknown, unknown_because=tuple(blind))
        return Outcome(Status.unmet, looked_for=(clause.signal,))

    def why_unobservable(self, signal: str, strength: Strength) -> list[str]:
        """Empty when a source able to show `signal` at `strength` looked; else the reasons."""
        key = (signal, strength)
        if key not in self._blind:
            self._blind[key] = self._unobservable(signal, strength)
        return self._blind[key]

    def _unobservable(self, signal: str, strength: Strength) -> list[str]:
        spec = self.rules.signals[signal]
        capable = sorted(t for t, best in spec.emitted_by.items() if best.at_least(strength))
        reasons = []
        unscanned = []
        for source_type in capable:
            of_type = [s for s in self.sources if s.type == source_type]
            for source in of_type:
                if source.status == SourceState.failed:
                    reasons.append(f"source {source.name} failed: {source.reason}")
                elif signal in source.unavailable_signals:
                    reasons.append(f"source {source.name}: {source.reason}")
                else:
                    return []
            if not of_type:
                unscanned.append(f"no {source_type} source was scanned")
        if not capable:
            reasons.append(f"no collector can show {signal} as {strength.value}")
        # A scanned source that could not look is the reason to read; source types nobody
        # configured (several can show a file signal: repo, github, gitlab) only explain
        # the gap when no capable source was scanned at all.
        return reasons or unscanned


def _combine_any(outcomes: list[Outcome]) -> Outcome:
    met = [o for o in outcomes if o.status == Status.met]
    if met:
        return Outcome(Status.met, tuple(sorted({e for o in met for e in o.evidence})))
    unknown = [o for o in outcomes if o.status == Status.unknown]
    looked = tuple(dict.fromkeys(s for o in outcomes for s in o.looked_for))
    if unknown:
        because = tuple(dict.fromkeys(r for o in unknown for r in o.unknown_because))
        return Outcome(Status.unknown, unknown_because=because, looked_for=looked)
    return Outcome(Status.unmet, looked_for=looked)


def _combine_all(outcomes: list[Outcome]) -> Outcome:
    unmet = [o for o in outcomes if o.status == Status.unmet]
    looked = tuple(dict.fromkeys(s for o in unmet for s in o.looked_for))
    if unmet:
        return Outcome(Status.unmet, looked_for=looked)
    unknown = [o for o in outcomes if o.status == Status.unknown]
    if unknown:
        because = tuple(dict.fromkeys(r for o in unknown for r in o.unknown_because))
        return Outcome(Status.unknown, unknown_because=because)
    return Outcome(Status.met, tuple(sorted({e for o in outcomes for e in o.evidence})))


def _describe(outcome: Outcome, rules: RuleSet) -> str | None:
    """Why a result is unknown or unmet, in words: what was looked for is named by each
    signal's phrase (configs/signals.yaml), not by its id."""
    # an unknown one also says what the sources that did look found nothing of
    not_found = ("nothing found that " + either(rules.signals[s].phrase for s in outcome.looked_for)
                 if outcome.looked_for else "")
    if outcome.status == Status.unknown:
        looked = f"{not_found}; " if not_found else ""
        return looked + "could not look: " + "; ".join(outcome.unknown_because)
    return not_found if outcome.status == Status.unmet and not_found else None


def _exemption_for(
    model: MaturityModel, req: Requirement, exemptions: list[Exemption]
) -> Exemption | None:
    for exemption in exemptions:
        if exemption.target == f"{model.id}/{req.id}":
            return exemption
        if req.capability and exemption.target == f"capability:{req.capability}":
            return exemption
    return None


class SharedResults:
    """Makes each distinct result once per assessment. Across 2,000 ML systems most
    requirement results (not assessable, unmet without evidence...), level summaries and
    gaps are the same: shared, they no longer make up most of the assessment's memory.
    The results are frozen models, so sharing them is safe."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], Any] = {}
        self._reasons: dict[tuple[Any, ...], str | None] = {}

    def reason(self, outcome: Outcome, rules: RuleSet) -> str | None:
        """`_describe(outcome)`, worded once per distinct outcome: the same few reasons
        recur across every ML system (and one string each is kept, not one per result)."""
        key = (outcome.status, outcome.looked_for, outcome.unknown_because)
        if key not in self._reasons:
            self._reasons[key] = _describe(outcome, rules)
        return self._reasons[key]

    def __call__(self, kind: type[_T], **fields: Any) -> _T:
        if fields.get("evidence"):  # ids of one system's own evidence: not worth a key
            return kind(**fields)
        key = (kind, tuple(fields), *(tuple(v) if isinstance(v, list) else v for v in fields.values()))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = kind(**fields)
        return made


def assess_model(
    model: MaturityModel, evaluator: Evaluator, exemptions: list[Exemption], shared: SharedResults
) -> ModelMaturity:
    """Each requirement's status, the level reached, and the gaps to the next level (results
    made through `shared`, which the whole assessment uses)."""
    results: list[RequirementResult] = []
    for level in model.levels:
        for req in level.requirements:
            results.append(_requirement(model, req, level.level, evaluator, exemptions, shared))

    reached = 0
    blockers: list[RequirementResult] = []
    for level in model.levels[1:]:
        blockers = [
            r
            for r in results
            if r.level == level.level and r.blocking and r.status in (Status.unmet, Status.unknown)
        ]
        if blockers:
            break
        reached = level.level
    at_least = bool(blockers) and all(r.status == Status.unknown for r in blockers)

    next_level = None
    if reached < model.max_level:
        upcoming = model.levels[reached + 1]
        gaps = [
            r for r in results
            if r.level == upcoming.level and r.status in (Status.unmet, Status.unknown)
        ]
        gaps.sort(key=lambda r: (not r.blocking, r.status != Status.unmet))
        next_level = shared(
            NextLevel,
            level=upcoming.level,
            name=upcoming.name,
            gaps=[
                shared(Gap, requirement=r.id, title=r.title, status=r.status,
                       recommendation=r.recommendation or "")
                for r in gaps
            ],
        )
    return ModelMaturity(
        model=model.id,
        name=model.name,
        source=model.source,
        level=reached,
        level_name=model.levels[reached].name,
        at_least=at_least,
        max_level=model.max_level,
        levels=[
            shared(LevelSummary, level=lv.level, name=lv.name, summary=lv.summary,
                   reached=lv.level <= reached)
            for lv in model.levels
        ],
        requirements=results,
        next_level=next_level,
    )


def _requirement(
    model: MaturityModel,
    req: Requirement,
    level: int,
    evaluator: Evaluator,
    exemptions: list[Exemption],
    shared: SharedResults,
) -> RequirementResult:
    common: dict[str, Any] = {
        "id": req.id,
        "title": req.title,
        "level": level,
        "dimension": req.dimension,
        "criterion": req.criterion,
        "capability": req.capability,
    }
    if req.capability is None:
        return shared(RequirementResult, **common, status=Status.not_assessable, blocking=False,
                      reason=req.not_assessable)
    exemption = _exemption_for(model, req, exemptions)
    if exemption is not None:
        return shared(RequirementResult, **common, status=Status.not_applicable,
                      blocking=req.blocking,
                      reason=f"{exemption.reason} (exempted in {exemption.origin})")
    outcome = evaluator.capability(req.capability)
    recommendation = None
    if outcome.status != Status.met:
        capability = evaluator.rules.capabilities[req.capability]
        recommendation = req.recommendation or capability.recommendation
    return shared(
        RequirementResult,
        **common,
        status=outcome.status,
        blocking=req.blocking,
        evidence=list(outcome.evidence),
        recommendation=recommendation,
        reason=shared.reason(outcome, evaluator.rules),
    )


def measure_kpis(rules: RuleSet, evidence: list[Evidence]) -> list[Kpi]:
    """KPI rows from the evidence attributes that configs/kpis.yaml names."""
    rows = []
    for spec in rules.kpis.values():
        for item in evidence:
            if item.signal != spec.signal or spec.attribute not in item.attributes:
                continue
            value = item.attributes[spec.attribute]
            number = float(value) if isinstance(value, int | float) and not isinstance(
                value, bool) else None
            rows.append(Kpi(id=spec.id, name=spec.name, subject=item.subject, value=number,
                            unit=spec.unit, description=spec.description, source=item.source))
    return rows


def assess(
    rules: RuleSet,
    evidence: list[Evidence],
    sources: list[SourceStatus],
    *,
    now: datetime,
    target: str,
    model_ids: list[str] | None = None,
    exemptions: list[Exemption] | None = None,
    extra_kpis: list[Kpi] | None = None,
    systems: list[System] | None = None,
) -> Assessment:
    """The whole Assessment for one body of evidence; same inputs give the same bytes.

    With `systems` (from correlate), each ML system is also assessed over its own evidence.
    """
    exemptions = sorted(exemptions or [], key=lambda e: e.target)
    evidence = sorted(evidence, key=lambda e: (e.subject, e.signal, e.locator, e.id))
    blind: dict[tuple[str, Strength], list[str]] = {}
    evaluator = Evaluator(rules, evidence, sources, now, blind)
    chosen = model_ids or list(rules.models)
    shared = SharedResults()
    maturity = {
        model_id: assess_model(rules.models[model_id], evaluator, exemptions, shared)
        for model_id in chosen
    }
    system_results: dict[str, SystemMaturity] = {}
    assigned: set[str] = set()
    by_subject: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_subject[item.subject].append(item)
    for system in systems or []:
        # subjects are sorted, so this keeps the evidence's order
        own = [item for subject in system.subjects for item in by_subject.get(subject, [])]
        assigned.update(item.id for item in own)
        own_evaluator = Evaluator(rules, own, sources, now, blind)
        system_results[system.name] = SystemMaturity(
            name=system.name,
            subjects=list(system.subjects),
            declared=system.declared,
            maturity={m: assess_model(rules.models[m], own_evaluator, exemptions, shared)
                      for m in chosen},
            evidence=[item.id for item in own],
        )
    distribution: dict[str, dict[str, int]] = {}
    for model_id in chosen:
        counts: dict[str, int] = {}
        for result in system_results.values():
            level = str(result.maturity[model_id].level)
            counts[level] = counts.get(level, 0) + 1
        if counts:
            distribution[model_id] = dict(sorted(counts.items(), key=lambda kv: int(kv[0])))
    capabilities = {}
    for cap_id in sorted(rules.capabilities):
        outcome = evaluator.capability(cap_id)
        capabilities[cap_id] = CapabilityResult(
            id=cap_id,
            title=rules.capabilities[cap_id].title,
            status=outcome.status,
            evidence=list(outcome.evidence),
            reason=_describe(outcome, rules),
        )
    warnings = [f"{s.name}: {w}" for s in sources for w in s.warnings]
    return Assessment(
        tool=ToolInfo(version=__version__),
        generated_at=now,
        target=target,
        maturity=maturity,
        systems=system_results,
        system_levels=distribution,
        unassigned_evidence=(
            [item.id for item in evidence if item.id not in assigned] if systems is not None else []
        ),
        capabilities=capabilities,
        evidence=evidence,
        sources=sorted(sources, key=lambda s: s.name),
        kpis=sorted([*measure_kpis(rules, evidence), *(extra_kpis or [])],
                    key=lambda k: (k.subject, k.id, k.source)),
        exemptions=exemptions,
        warnings=warnings,
    )
