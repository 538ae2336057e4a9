"""Load and check the rules: the signal catalog, capabilities and maturity models.

Rules are data in `configs/` (and in a user's `--rules DIR`, which adds or overrides by
id). Every problem is reported as `file:line: message` so a consultant can fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maturity_probe import yamlio
from maturity_probe.errors import UserError
from maturity_probe.evidence import Strength
from maturity_probe.resources import configs_dir

PREDICATE_OPERATORS = ("eq", "ne", "in", "not_in", "contains", "gte", "gt", "lte", "lt",
                       "exists", "matches")  # fmt: skip
PREFERRED_MODEL_ORDER = ("microsoft", "google", "five_stage", "seven_stage")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class RulesError(Exception):
    """Rules that cannot be used; `problems` are `file:line: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# -- the rules as data ---------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """One attribute predicate: `attribute <operator> value`."""

    attribute: str
    operator: str
    value: Any


@dataclass(frozen=True)
class SignalClause:
    signal: str
    strength: Strength = Strength.declared
    within_days: int | None = None
    where: tuple[Where, ...] = ()
    origin: str = ""  # file:line, for messages


@dataclass(frozen=True)
class CapabilityClause:
    capability: str
    origin: str = ""


@dataclass(frozen=True)
class AnyOf:
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class AllOf:
    clauses: tuple[Clause, ...]


Clause = SignalClause | CapabilityClause | AnyOf | AllOf


@dataclass(frozen=True)
class SignalSpec:
    id: str
    description: str
    seed: str
    phrase: str
    emitted_by: dict[str, Strength]
    origin: str


@dataclass(frozen=True)
class Capability:
    id: str
    title: str
    description: str
    recommendation: str
    rule: Clause
    origin: str


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    criterion: str  # the seed's own words
    dimension: str
    capability: str | None  # None when not assessable
    not_assessable: str | None  # why no tooling can show it
    blocking: bool
    recommendation: str | None  # overrides the capability's
    origin: str


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    summary: str
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class MaturityModel:
    id: str
    name: str
    source: str
    levels: tuple[Level, ...]
    origin: str

    @property
    def max_level(self) -> int:
        return max(level.level for level in self.levels)

    def requirement(self, requirement_id: str) -> Requirement | None:
        for level in self.levels:
            for req in level.requirements:
                if req.id == requirement_id:
                    return req
        return None


@dataclass(frozen=True)
class KpiSpec:
    """A KPI is an attribute some evidence carries (collectors measure, rules name)."""

    id: str
    name: str
    description: str
    seed: str
    signal: str
    attribute: str
    unit: str
    origin: str


@dataclass
class RuleSet:
    signals: dict[str, SignalSpec] = field(default_factory=dict)
    capabilities: dict[str, Capability] = field(default_factory=dict)
    models: dict[str, MaturityModel] = field(default_factory=dict)
    kpis: dict[str, KpiSpec] = field(default_factory=dict)


# -- parsing -------------------------------------------------------------------------


class _Reader:
    """Parses rule files, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.emitters: list[tuple[str, str]] = []  # (source type, file:line) of `emitted_by` keys

    def problem(self, file: Path, node: Any, key: Any, message: str) -> None:
        line = yamlio.line_of(node, key)
        self.problems.append(f"{file}:{line}: {message}" if line else f"{file}: {message}")

    def load(self, file: Path) -> Any:
        try:
            return yamlio.load_file(file)
        except yamlio.YamlError as exc:
            where = f"{file}:{exc.line}" if exc.line else str(file)
            self.problems.append(f"{where}: {exc.describe()}")
        except UserError as exc:  # unreadable, or not UTF-8
            self.problems.append(str(exc))
        return None

    def mapping(self, file: Path, node: Any, key: Any, what: str) -> dict[Any, Any] | None:
        value = node.get(key) if isinstance(node, dict) else None
        if not isinstance(value, dict):
            self.problem(file, node, key, f"`{key}` must be a mapping of {what}")
            return None
        return value

    def text(self, file: Path, node: dict[Any, Any], key: str, *, required: bool = True) -> str:
        value = node.get(key)
        if value is None and not required:
            return ""
        if key not in node:
            self.problem(file, node, key, f"missing `{key}`")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(file, node, key, f"`{key}` must be a non-empty string")
            return ""
        return value.strip()

    def unknown_keys(self, file: Path, node: dict[Any, Any], allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                options = ", ".join(sorted(allowed))
                self.problem(file, node, key, f"unknown field `{key}` in {what} (expected: {options})")

    # -- signals --------------------------------------------------------------------
    def signals(self, file: Path, rules: RuleSet) -> None:
        data = self.load(file)
        if data is None:
            return
        entries = self.mapping(file, data, "signals", "signal ids")
        for signal_id, spec in (entries or {}).items():
            origin = f"{file}:{yamlio.line_of(entries, signal_id)}"
            if not isinstance(spec, dict):
                self.problem(file, entries, signal_id, f"signal `{signal_id}` must be a mapping")
                continue
            self.unknown_keys(file, spec, {"description", "seed", "phrase", "emitted_by"}, "a signal")
            emitted: dict[str, Strength] = {}
            raw = spec.get("emitted_by")
            if not isinstance(raw, dict) or not raw:
                self.problem(file, spec, "emitted_by", "`emitted_by` must map source types to a strength")
            else:
                for source_type, strength in raw.items():
                    self.emitters.append((str(source_type),
                                          f"{file}:{yamlio.line_of(raw, source_type)}"))
                    try:
                        emitted[str(source_type)] = Strength(strength)
                    except ValueError:
                        self.problem(file, raw, source_type,
                                     f"strength `{strength}` is not one of declared, active, verified")
            rules.signals[str(signal_id)] = SignalSpec(
                id=str(signal_id),
                description=self.text(file, spec, "description"),
                seed=self.text(file, spec, "seed"),
                phrase=self.text(file, spec, "phrase"),
                emitted_by=emitted,
                origin=origin,
            )

    # -- capabilities --------------------------------------------------------------------
    def capabilities(self, file: Path, rules: RuleSet) -> None:
        data = self.load(file)
        if data is None:
            return
        entries = self.mapping(file, data, "capabilities", "capability ids")
        for cap_id, spec in (entries or {}).items():
            origin = f"{file}:{yamlio.line_of(entries, cap_id)}"
            if not isinstance(spec, dict):
                self.problem(file, entries, cap_id, f"capability `{cap_id}` must be a mapping")
                continue
            if not _ID.match(str(cap_id)):
                self.problem(file, entries, cap_id, f"capability id `{cap_id}` must be lower-case")
            self.unknown_keys(file, spec, {"title", "description", "recommendation", "any_of",
                                           "all_of"}, "a capability")
            rule = self.combination(file, spec, f"capability `{cap_id}`")
            if rule is None:
                continue
            rules.capabilities[str(cap_id)] = Capability(
                id=str(cap_id),
                title=self.text(file, spec, "title"),
                description=self.text(file, spec, "description", required=False),
                recommendation=self.text(file, spec, "recommendation"),
                rule=rule,
                origin=origin,
            )

    def combination(self, file: Path, node: dict[Any, Any], what: str) -> Clause | None:
        keys = [k for k in ("any_of", "all_of") if k in node]
        if len(keys) != 1:
            self.problem(file, node, None, f"{what} needs exactly one of `any_of` or `all_of`")
            return None
        items = node[keys[0]]
        if not isinstance(items, list) or not items:
            self.problem(file, node, keys[0], f"`{keys[0]}` must be a non-empty list")
            return None
        clauses = []
        for index, item in enumerate(items):
            clause = self.clause(file, items, index, item)
            if clause is not None:
                clauses.append(clause)
        return AnyOf(tuple(clauses)) if keys[0] == "any_of" else AllOf(tuple(clauses))

    def clause(self, file: Path, parent: Any, index: int, node: Any) -> Clause | None:
        line = yamlio.line_of(parent, index)
        origin = f"{file}:{line}"
        if not isinstance(node, dict):
            self.problem(file, parent, index, "each alternative must be a mapping with `signal`, "
                         "`capability`, `any_of` or `all_of`")
            return None
        if "any_of" in node or "all_of" in node:
            self.unknown_keys(file, node, {"any_of", "all_of"}, "a combination")
            return self.combination(file, node, "a combination")
        if "capability" in node:
            self.unknown_keys(file, node, {"capability"}, "a capability reference")
            return CapabilityClause(str(node["capability"]), origin)
        if "signal" not in node:
            self.problem(file, parent, index, "an alternative needs `signal`, `capability`, "
                         "`any_of` or `all_of`")
            return None
        self.unknown_keys(file, node, {"signal", "strength", "within_days", "where"}, "a signal clause")
        strength = Strength.declared
        if "strength" in node:
            try:
                strength = Strength(node["strength"])
            except ValueError:
                self.problem(file, node, "strength",
                             f"strength `{node['strength']}` is not one of declared, active, verified")
        within = node.get("within_days")
        if within is not None and (not isinstance(within, int) or isinstance(within, bool)
                                   or within < 1):
            self.problem(file, node, "within_days", "`within_days` must be a positive integer")
            within = None
        return SignalClause(
            signal=str(node["signal"]),
            strength=strength,
            within_days=within,
            where=self.predicates(file, node),
            origin=origin,
        )

    def predicates(self, file: Path, node: dict[Any, Any]) -> tuple[Where, ...]:
        raw = node.get("where")
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.problem(file, node, "where", "`where` must map attribute names to a value or "
                         "{operator: value}")
            return ()
        found = []
        for attribute, test in raw.items():
            if isinstance(test, dict):
                if len(test) != 1:
                    self.problem(file, raw, attribute, f"predicate on `{attribute}` needs exactly "
                                 "one operator")
                    continue
                operator, value = next(iter(test.items()))
                if operator not in PREDICATE_OPERATORS:
                    self.problem(file, test, operator, f"unknown operator `{operator}` (expected: "
                                 f"{', '.join(PREDICATE_OPERATORS)})")
                    continue
                problem = _operand_problem(operator, value)
                if problem:
                    self.problem(file, test, operator, f"predicate on `{attribute}`: {problem}")
                    continue
                found.append(Where(str(attribute), operator, value))
            else:
                found.append(Where(str(attribute), "eq", test))
        return tuple(found)

    # -- KPIs ------------------------------------------------------------------------------
    def kpis(self, file: Path, rules: RuleSet) -> None:
        data = self.load(file)
        if data is None:
            return
        entries = self.mapping(file, data, "kpis", "KPI ids")
        for kpi_id, spec in (entries or {}).items():
            if not isinstance(spec, dict):
                self.problem(file, entries, kpi_id, f"KPI `{kpi_id}` must be a mapping")
                continue
            self.unknown_keys(file, spec, {"name", "description", "seed", "signal", "attribute",
                                           "unit"}, "a KPI")
            rules.kpis[str(kpi_id)] = KpiSpec(
                id=str(kpi_id),
                name=self.text(file, spec, "name"),
                description=self.text(file, spec, "description", required=False),
                seed=self.text(file, spec, "seed"),
                signal=self.text(file, spec, "signal"),
                attribute=self.text(file, spec, "attribute"),
                unit=self.text(file, spec, "unit", required=False),
                origin=f"{file}:{yamlio.line_of(entries, kpi_id)}",
            )

    # -- maturity models ---------------------------------------------------------------
    def model(self, file: Path, rules: RuleSet) -> None:
        data = self.load(file)
        if data is None:
            return
        if not isinstance(data, dict):
            self.problem(file, data, None, "a maturity model file must be a mapping")
            return
        self.unknown_keys(file, data, {"id", "name", "source", "levels"}, "a maturity model")
        model_id = self.text(file, data, "id")
        if model_id and not _ID.match(model_id):
            self.problem(file, data, "id", f"model id `{model_id}` must be lower-case")
        raw_levels = data.get("levels")
        if not isinstance(raw_levels, list) or not raw_levels:
            self.problem(file, data, "levels", "`levels` must be a non-empty list")
            return
        levels = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_levels):
            if not isinstance(raw, dict):
                self.problem(file, raw_levels, index, "each level must be a mapping")
                continue
            self.unknown_keys(file, raw, {"level", "name", "summary", "requirements"}, "a level")
            number = raw.get("level")
            if number != index:
                self.problem(file, raw, "level", f"levels must be numbered 0, 1, 2, ... in order "
                             f"(expected {index})")
            requirements = []
            raw_reqs = raw.get("requirements") or []
            if not isinstance(raw_reqs, list):
                self.problem(file, raw, "requirements", "`requirements` must be a list")
                raw_reqs = []
            for req_index, req in enumerate(raw_reqs):
                parsed = self.requirement(file, raw_reqs, req_index, req)
                if parsed is None:
                    continue
                if parsed.id in seen:
                    self.problem(file, req, "id", f"duplicate requirement id `{parsed.id}`")
                seen.add(parsed.id)
                requirements.append(parsed)
            levels.append(Level(index, self.text(file, raw, "name"),
                                self.text(file, raw, "summary", required=False), tuple(requirements)))
        if model_id:
            rules.models[model_id] = MaturityModel(
                id=model_id,
                name=self.text(file, data, "name"),
                source=self.text(file, data, "source"),
                levels=tuple(levels),
                origin=f"{file}:{yamlio.line_of(data, 'id')}",
            )

    def requirement(self, file: Path, parent: Any, index: int, node: Any) -> Requirement | None:
        if not isinstance(node, dict):
            self.problem(file, parent, index, "each requirement must be a mapping")
            return None
        self.unknown_keys(file, node, {"id", "title", "criterion", "dimension", "capability",
                                       "not_assessable", "blocking", "recommendation"},
                          "a requirement")
        req_id = self.text(file, node, "id")
        if req_id and not _ID.match(req_id):
            self.problem(file, node, "id", f"requirement id `{req_id}` must be lower-case")
        capability = node.get("capability")
        not_assessable = node.get("not_assessable")
        if (capability is None) == (not_assessable is None):
            self.problem(file, node, "id", f"requirement `{req_id}` needs exactly one of "
                         "`capability` or `not_assessable` (a reason)")
        blocking = node.get("blocking", True)
        if not isinstance(blocking, bool):
            self.problem(file, node, "blocking", "`blocking` must be true or false")
            blocking = True
        return Requirement(
            id=req_id,
            title=self.text(file, node, "title"),
            criterion=self.text(file, node, "criterion"),
            dimension=self.text(file, node, "dimension", required=False),
            capability=str(capability) if capability is not None else None,
            not_assessable=str(not_assessable) if not_assessable is not None else None,
            blocking=blocking and not_assessable is None,
            recommendation=self.text(file, node, "recommendation", required=False) or None,
            origin=f"{file}:{yamlio.line_of(node, 'id')}",
        )


def _operand_problem(operator: str, value: Any) -> str | None:
    if operator in ("in", "not_in") and not isinstance(value, list):
        return f"`{operator}` needs a list"
    if operator in ("gte", "gt", "lte", "lt") and (
        not isinstance(value, int | float) or isinstance(value, bool)
    ):
        return f"`{operator}` needs a number"
    if operator == "exists" and not isinstance(value, bool):
        return "`exists` needs true or false"
    if operator == "matches":
        if not isinstance(value, str):
            return "`matches` needs a regular expression string"
        try:
            re.compile(value)
        except re.error as exc:
            return f"invalid regular expression: {exc}"
    return None


# -- cross-checks ----------------------------------------------------------------------


def _walk_clauses(clause: Clause) -> list[SignalClause | CapabilityClause]:
    if isinstance(clause, AnyOf | AllOf):
        return [leaf for child in clause.clauses for leaf in _walk_clauses(child)]
    return [clause]


def signals_used(capability: Capability) -> set[str]:
    return {c.signal for c in _walk_clauses(capability.rule) if isinstance(c, SignalClause)}


def check(rules: RuleSet) -> list[str]:
    """References that do not resolve, and capability cycles, as `file:line: message`."""
    problems = []
    for cap in rules.capabilities.values():
        for leaf in _walk_clauses(cap.rule):
            if isinstance(leaf, SignalClause) and leaf.signal not in rules.signals:
                hint = did_you_mean(leaf.signal, rules.signals)
                problems.append(f"{leaf.origin}: unknown signal `{leaf.signal}`{hint}")
            if isinstance(leaf, CapabilityClause) and leaf.capability not in rules.capabilities:
                hint = did_you_mean(leaf.capability, rules.capabilities)
                problems.append(f"{leaf.origin}: unknown capability `{leaf.capability}`{hint}")
    problems.extend(_cycles(rules))
    for kpi in rules.kpis.values():
        if kpi.signal not in rules.signals:
            hint = did_you_mean(kpi.signal, rules.signals)
            problems.append(f"{kpi.origin}: unknown signal `{kpi.signal}`{hint}")
    for model in rules.models.values():
        for level in model.levels:
            for req in level.requirements:
                if req.capability is not None and req.capability not in rules.capabilities:
                    hint = did_you_mean(req.capability, rules.capabilities)
                    problems.append(f"{req.origin}: unknown capability `{req.capability}`{hint}")
    return problems


def _unknown_emitters(emitters: list[tuple[str, str]]) -> list[str]:
    """`emitted_by` keys that are no source type: built-in or installed collectors. Only a
    user's rules need it, and it imports every collector, so it is not run on the bundled ones."""
    from maturity_probe.collectors import collector_types

    kinds = dict.fromkeys(sorted(collector_types()))
    return [f"{origin}: unknown source type `{kind}` in `emitted_by`"
            + (did_you_mean(kind, kinds) or f" (known: {', '.join(kinds)})")
            for kind, origin in emitters if kind not in kinds]


def did_you_mean(name: str, known: dict[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _cycles(rules: RuleSet) -> list[str]:
    problems = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(cap_id: str, path: list[str]) -> None:
        if state.get(cap_id) == 2 or cap_id not in rules.capabilities:
            return
        if state.get(cap_id) == 1:
            cycle = [*path[path.index(cap_id):], cap_id]
            problems.append(f"{rules.capabilities[cap_id].origin}: capability cycle: "
                            + " -> ".join(cycle))
            return
        state[cap_id] = 1
        for leaf in _walk_clauses(rules.capabilities[cap_id].rule):
            if isinstance(leaf, CapabilityClause):
                visit(leaf.capability, [*path, cap_id])
        state[cap_id] = 2

    for cap_id in sorted(rules.capabilities):
        visit(cap_id, [])
    return problems


# -- entry points ----------------------------------------------------------------------------


def _read_dir(reader: _Reader, directory: Path, rules: RuleSet) -> None:
    if (directory / "signals.yaml").is_file():
        reader.signals(directory / "signals.yaml", rules)
    if (directory / "capabilities.yaml").is_file():
        reader.capabilities(directory / "capabilities.yaml", rules)
    if (directory / "kpis.yaml").is_file():
        reader.kpis(directory / "kpis.yaml", rules)
    models_dir = directory / "models"
    if models_dir.is_dir():
        for file in sorted(models_dir.glob("*.y*ml")):
            reader.model(file, rules)


def load_rules(extra: Path | None = None) -> RuleSet:
    """The bundled rules, with a user's directory adding or overriding by id."""
    reader = _Reader()
    rules = RuleSet()
    _read_dir(reader, configs_dir(), rules)
    if extra is not None:
        if not extra.is_dir():
            raise RulesError([f"{extra}: not a directory of rules"])
        found = [extra / "signals.yaml", extra / "capabilities.yaml"]
        if not any(p.is_file() for p in found) and not any((extra / "models").glob("*.y*ml")):
            raise RulesError([f"{extra}: no signals.yaml, capabilities.yaml or models/*.yaml"])
        reader.emitters.clear()  # the bundled catalog's are checked by the tests
        _read_dir(reader, extra, rules)
        reader.problems.extend(_unknown_emitters(reader.emitters))
    problems = reader.problems + check(rules)
    if problems:
        raise RulesError(problems)
    order = [m for m in PREFERRED_MODEL_ORDER if m in rules.models]
    rules.models = {m: rules.models[m] for m in [*order, *sorted(set(rules.models) - set(order))]}
    return rules
