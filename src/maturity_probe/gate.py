"""The regression gate: compare an assessment with a baseline and minimum levels.

Exit codes are a public contract: 0 at or above baseline and minimums, 1 on a
regression or a level below its minimum, 2 on a usage or configuration error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from maturity_probe import yamlio
from maturity_probe.assessment import SCHEMA_VERSION, Assessment, ModelMaturity, Status
from maturity_probe.config import plain_message
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence, SourceState
from maturity_probe.inference.rules import RuleSet

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
_HOLDS = (Status.met, Status.not_applicable, Status.not_assessable)
MAX_PLACES = 3


# Why the gate failed, as its verdict says it (the exit code is 1 for each).
REGRESSED = "maturity regressed"
UNCHECKED = "could not check requirements the baseline met"
BELOW_MINIMUM = "below the minimum level"


@dataclass
class GateResult:
    failures: list[str] = field(default_factory=list)  # one line per lost requirement
    notes: list[str] = field(default_factory=list)  # improvements, non-failing losses
    reasons: list[str] = field(default_factory=list)  # REGRESSED, UNCHECKED, BELOW_MINIMUM

    @property
    def exit_code(self) -> int:
        return EXIT_REGRESSION if self.failures else EXIT_OK

    @property
    def verdict(self) -> str:
        return "FAILED: " + " and ".join(self.reasons) if self.failures else "passed"

    def fail(self, line: str, reason: str) -> None:
        if line not in self.failures:  # two requirements can be lost in the same words
            self.failures.append(line)
        if reason not in self.reasons:
            self.reasons.append(reason)


def load_baseline(path: Path) -> Assessment:
    """A baseline written by `--write-baseline` or `--format json`."""
    text = yamlio.read_text(path)  # UserError when unreadable or not UTF-8: a usage error
    baseline = parse_assessment(text, str(path))
    if baseline.schema_version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise UserError(
            f"{path}: schema version {baseline.schema_version} is not compatible "
            f"with {SCHEMA_VERSION}; write a new baseline with --write-baseline"
        )
    return baseline


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return document


def parse_assessment(text: str, name: str) -> Assessment:
    """An assessment JSON (a baseline, `metrics --input`); every problem is a UserError
    naming `name` (and the line when there is one): invalid JSON, a key written twice (a
    hand edit gone wrong), or JSON that is not an assessment."""
    if not text.strip():
        raise UserError(f"{name}: empty, not a maturity-probe assessment")
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise UserError(f"{name}:{exc.lineno}: invalid JSON at column {exc.colno}: "
                        f"{exc.msg}") from exc
    except _DuplicateKey as exc:
        raise UserError(_duplicate_key(text, name, exc.key)) from exc
    except RecursionError as exc:
        raise UserError(f"{name}: JSON nested too deeply") from exc
    if not isinstance(document, dict):
        raise UserError(f"{name}: not a maturity-probe assessment: the JSON is not an object")
    try:
        return Assessment.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"])
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise UserError(f"{name}: not a maturity-probe assessment: {where + ': ' if where else ''}"
                        f"{plain_message(errors[0]['msg'])}{more}") from exc


def _duplicate_key(text: str, name: str, key: str) -> str:
    """The message for a repeated key, with its line: JSON is YAML, and the YAML reader
    knows lines (only on this error path: it is much slower than json)."""
    try:
        yamlio.load_one(text, unique_keys=True)
    except yamlio.YamlError as exc:
        if not exc.syntax:
            return f"{name}:{exc.line}: {exc.describe()}"
    return f"{name}: duplicate key {key!r}"


def parse_min_levels(values: list[str], top_levels: dict[str, int]) -> dict[str, int]:
    """`microsoft=2` options into {model: level}; `top_levels` is each model's highest level
    (a minimum above it could never pass: a configuration error, not a regression)."""
    minimums = {}
    for value in values:
        model, sep, level = value.partition("=")
        if not sep or not level.strip().isdigit():
            raise UserError(f"--min-level {value!r}: expected MODEL=LEVEL, e.g. microsoft=2")
        if model not in top_levels:
            raise UserError(f"--min-level {value!r}: unknown model {model!r} "
                            f"(known: {', '.join(top_levels)})")
        if int(level) > top_levels[model]:
            raise UserError(f"--min-level {value!r}: {model} has levels 0 to {top_levels[model]}")
        minimums[model] = int(level)
    return minimums


def _places(ids: list[str], evidence: dict[str, Evidence], rules: RuleSet) -> str:
    """`<file> no longer <phrase>` for the evidence a requirement stood on."""
    parts = []
    for item in (evidence[i] for i in ids if i in evidence):
        spec = rules.signals.get(item.signal)
        phrase = spec.phrase if spec else f"shows {item.signal}"
        parts.append(f"{item.path or item.locator} no longer {phrase}")
    unique = list(dict.fromkeys(parts))
    if len(unique) > MAX_PLACES:
        unique = [*unique[:MAX_PLACES], f"and {len(unique) - MAX_PLACES} more"]
    return "; ".join(unique) if unique else "its evidence disappeared"


def _loss(header: str, baseline: Assessment, current: Assessment, current_model: ModelMaturity,
          req_id: str, rules: RuleSet) -> tuple[str, str]:
    """The line saying what was lost and where, and why the gate fails on it: REGRESSED when
    evidence the baseline stood on is gone although its source looked again, UNCHECKED when
    only a source that could not look (failed, or unable to read it) stands between."""
    base_req = next(r for r in baseline.maturity[current_model.model].requirements
                    if r.id == req_id)
    now_req = next((r for r in current_model.requirements if r.id == req_id), None)
    before = baseline.evidence_by_id()
    now_ids = {item.id for item in current.evidence}
    gone = [before[i] for i in base_req.evidence if i in before and i not in now_ids]
    unseen = [item for item in gone if not _looked_again(item, current)]
    vanished = [item.id for item in gone if item not in unseen]
    lost = f'{header}: lost "{base_req.title}": '
    if vanished:  # its source looked and did not find it
        return lost + _places(vanished, before, rules), REGRESSED
    if now_req is not None and now_req.status == Status.unknown:
        had = list(dict.fromkeys(item.path or item.locator for item in unseen))[:MAX_PLACES]
        shown = f", shown in the baseline by {', '.join(had)}" if had else ""
        return lost + f"could not be checked ({now_req.reason}){shown}", UNCHECKED
    return lost + _places(base_req.evidence, before, rules), REGRESSED


def _looked_again(item: Evidence, current: Assessment) -> bool:
    """Whether the source that saw `item` in the baseline looked for its signal this time."""
    status = next((s for s in current.sources if s.name == item.source), None)
    return (status is not None and status.status != SourceState.failed
            and item.signal not in status.unavailable_signals)


def compare(
    current: Assessment,
    baseline: Assessment | None,
    minimums: dict[str, int],
    rules: RuleSet,
    *,
    strict: bool = False,
) -> GateResult:
    """Every lost requirement that lowers a level (or any, with strict) is a failure."""
    result = GateResult()
    for model_id, base_model in (baseline.maturity.items() if baseline else []):
        assert baseline is not None
        model = current.maturity.get(model_id)
        if model is None:
            result.notes.append(f"{model_id}: in the baseline but not assessed now")
            continue
        now_status = {r.id: r.status for r in model.requirements}
        lost = [
            r for r in base_model.requirements
            if r.status in _HOLDS and now_status.get(r.id, Status.unmet) not in _HOLDS
            and r.status != Status.not_assessable
        ]
        arrow = f"{model_id} {base_model.level} → {model.level}"
        if model.level < base_model.level:
            # optional requirements never hold a level: their loss is not why it dropped
            defining = [r for r in lost if r.level <= base_model.level and r.blocking] or [
                r for r in lost if r.blocking]
            for req in defining:
                result.fail(*_loss(arrow, baseline, current, model, req.id, rules))
            if not defining:  # the rules changed: a new requirement now holds the level
                for gap in model.next_level.gaps if model.next_level else []:
                    result.fail(f'{arrow}: "{gap.title}" is required and {gap.status.value}',
                                REGRESSED)
            for req in lost:
                if req not in defining:  # lost too, but not what holds the level
                    line, reason = _loss(arrow, baseline, current, model, req.id, rules)
                    if strict:
                        result.fail(line + _optional(req.blocking), reason)
                    else:
                        result.notes.append(line + _optional(req.blocking))
        else:
            if model.level > base_model.level:
                result.notes.append(f"{model_id} {base_model.level} → {model.level}: improved")
            for req in lost:
                line, reason = _loss(f"{model_id} {model.level}", baseline, current, model, req.id,
                                     rules)
                if strict:
                    result.fail(line + _optional(req.blocking), reason)
                else:
                    result.notes.append(line + _optional(req.blocking) + " (level unchanged)")
    for model_id, minimum in minimums.items():
        model = current.maturity[model_id]
        if model.level < minimum:
            missing = ", ".join(f'"{g.title}" ({g.status.value})'
                                for g in (model.next_level.gaps if model.next_level else []))
            level = (f"at least at level {model.level} (some requirements could not be checked)"
                     if model.at_least else f"at level {model.level}")
            result.fail(f"{model_id} is {level}, below the minimum {minimum}"
                        + (f": missing {missing}" if missing else ""), BELOW_MINIMUM)
    return result


def _optional(blocking: bool) -> str:
    return "" if blocking else " (optional)"
