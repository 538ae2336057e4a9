"""The regression gate: compare an assessment with a baseline and minimum levels.

Exit codes are a public contract: 0 at or above baseline and minimums, 1 on a
regression or a level below its minimum, 2 on a usage or configuration error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from maturity_probe.assessment import SCHEMA_VERSION, Assessment, ModelMaturity, Status
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence
from maturity_probe.inference.rules import RuleSet

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
_HOLDS = (Status.met, Status.not_applicable, Status.not_assessable)
MAX_PLACES = 3


@dataclass
class GateResult:
    failures: list[str] = field(default_factory=list)  # one line per lost requirement
    notes: list[str] = field(default_factory=list)  # improvements, non-failing losses

    @property
    def exit_code(self) -> int:
        return EXIT_REGRESSION if self.failures else EXIT_OK


def load_baseline(path: Path) -> Assessment:
    """A baseline written by `--write-baseline` or `--format json`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"baseline {path}: cannot read: {exc.strerror}") from exc
    try:
        baseline = Assessment.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(
            f"baseline {path}: not a maturity-probe assessment ({where}: {first['msg']})"
        ) from exc
    if baseline.schema_version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise UserError(
            f"baseline {path}: schema version {baseline.schema_version} is not compatible "
            f"with {SCHEMA_VERSION}; write a new baseline with --write-baseline"
        )
    return baseline


def parse_min_levels(values: list[str], known: list[str]) -> dict[str, int]:
    """`microsoft=2` options into {model: level}."""
    minimums = {}
    for value in values:
        model, sep, level = value.partition("=")
        if not sep or not level.strip().isdigit():
            raise UserError(f"--min-level {value!r}: expected MODEL=LEVEL, e.g. microsoft=2")
        if model not in known:
            raise UserError(f"--min-level {value!r}: unknown model {model!r} "
                            f"(known: {', '.join(known)})")
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


def _loss_line(header: str, baseline: Assessment, current_model: ModelMaturity,
               req_id: str, rules: RuleSet) -> str:
    base_req = next(r for r in baseline.maturity[current_model.model].requirements
                    if r.id == req_id)
    now_req = next((r for r in current_model.requirements if r.id == req_id), None)
    if now_req is not None and now_req.status == Status.unknown:
        why = f"could not be checked ({now_req.reason})"
    else:
        why = _places(base_req.evidence, baseline.evidence_by_id(), rules)
    return f'{header}: lost "{base_req.title}": {why}'


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
            defining = [r for r in lost if r.level <= base_model.level] or lost
            for req in defining:
                result.failures.append(_loss_line(arrow, baseline, model, req.id, rules))
            if not defining:  # the rules changed: a new requirement now holds the level
                for gap in model.next_level.gaps if model.next_level else []:
                    result.failures.append(f'{arrow}: "{gap.title}" is required and '
                                           f"{gap.status.value}")
        else:
            if model.level > base_model.level:
                result.notes.append(f"{model_id} {base_model.level} → {model.level}: improved")
            for req in lost:
                line = _loss_line(f"{model_id} {model.level}", baseline, model, req.id, rules)
                (result.failures if strict else result.notes).append(
                    line + ("" if strict else " (level unchanged)")
                )
    for model_id, minimum in minimums.items():
        model = current.maturity[model_id]
        if model.level < minimum:
            missing = ", ".join(f'"{g.title}" ({g.status.value})'
                                for g in (model.next_level.gaps if model.next_level else []))
            qualifier = "at least " if model.at_least else ""
            result.failures.append(
                f"{model_id} is at {qualifier}level {model.level}, below the minimum {minimum}"
                + (f": missing {missing}" if missing else "")
            )
    return result
