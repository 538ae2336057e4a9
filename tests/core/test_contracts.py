"""Public contracts: the JSON schema copy, the signal catalog, the JSON keys CI reads."""

from __future__ import annotations

import json

import jsonschema

from maturity_probe.collectors import collector_types
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules, signals_used
from maturity_probe.outputs import json_out
from maturity_probe.resources import schemas_dir
from support import NOW, ev, source


def test_schema_copy_in_schemas_dir_is_current() -> None:
    stored = (schemas_dir() / "assessment.schema.json").read_text()
    assert stored == json_out.schema(), (
        "schemas/assessment.schema.json is stale: run `maturity-probe schema > "
        "schemas/assessment.schema.json`"
    )


def test_json_output_validates_and_keeps_the_public_names() -> None:
    rules = load_rules()
    items = [ev("ci.test_job"), ev("ci.pipeline", locator="ci.yml:1")]
    document = json.loads(json_out.render(assess(rules, items, [source()], now=NOW, target="t")))
    jsonschema.validate(document, json.loads(json_out.schema()))
    assert document["schema_version"] == "1.0"
    microsoft = document["maturity"]["microsoft"]
    assert isinstance(microsoft["level"], int) and isinstance(microsoft["at_least"], bool)
    requirement = microsoft["requirements"][0]
    assert {"id", "status", "evidence", "recommendation"} <= set(requirement)
    assert set(document["maturity"]) == {"microsoft", "google", "five_stage", "seven_stage"}
    assert {"id", "signal", "subject", "source", "locator", "strength", "observed_at",
            "attributes"} <= set(document["evidence"][0])
    assert {"name", "type", "status", "reason"} <= set(document["sources"][0])


def test_every_catalog_signal_is_emitted_and_used() -> None:
    rules = load_rules()
    emitters = {name: cls.signals() for name, cls in collector_types().items()}
    used = set().union(*(signals_used(c) for c in rules.capabilities.values()))
    for signal_id, spec in rules.signals.items():
        assert signal_id in used, f"{signal_id} is used by no capability"
        for source_type in spec.emitted_by:
            assert source_type in emitters, f"{signal_id}: no collector of type {source_type}"
            assert signal_id in emitters[source_type], (
                f"{signal_id}: catalog says {source_type} emits it, but its collector does not"
            )


def test_every_emitted_signal_is_in_the_catalog() -> None:
    rules = load_rules()
    for name, cls in collector_types().items():
        unknown = cls.signals() - set(rules.signals)
        assert not unknown, f"collector {name} emits signals missing from the catalog: {unknown}"
        for signal_id in cls.signals():
            assert name in rules.signals[signal_id].emitted_by, (
                f"{signal_id}: emitted by {name} but the catalog's emitted_by omits it"
            )


def test_every_capability_is_used_by_a_maturity_model() -> None:
    rules = load_rules()
    required = {req.capability for m in rules.models.values() for lv in m.levels
                for req in lv.requirements if req.capability}
    referenced = {leaf for cap in rules.capabilities.values()
                  for leaf in _capability_refs(cap.rule)}
    assert set(rules.capabilities) <= required | referenced


def _capability_refs(clause: object) -> set[str]:
    from maturity_probe.inference.rules import AllOf, AnyOf, CapabilityClause

    if isinstance(clause, AnyOf | AllOf):
        return set().union(*(_capability_refs(c) for c in clause.clauses))
    return {clause.capability} if isinstance(clause, CapabilityClause) else set()


def test_models_share_their_set_of_given_fields_and_still_copy_and_dump() -> None:
    """CompactModel: instances given the same fields share one set (memory), and the
    pydantic operations the project uses behave as before."""
    from maturity_probe.evidence import Strength

    first, second = ev("ci.training_job", locator="a.yml:1"), ev("ci.training_job", locator="b.yml:2")
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    stronger = first.model_copy(update={"strength": Strength.verified})
    assert (stronger.strength, first.strength) == (Strength.verified, Strength.declared)
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__  # copies do not touch it
    assessment = assess(load_rules(), [first, second], [source()], now=NOW, target="t")
    requirements = [r for m in assessment.maturity.values() for r in m.requirements]
    assert len({id(r.__pydantic_fields_set__) for r in requirements}) < len(requirements) // 10
    again = type(assessment).model_validate_json(assessment.model_dump_json())
    assert again == assessment
