"""JSON: the Assessment itself, the versioned public contract (see schemas/)."""

from __future__ import annotations

import json

from maturity_probe.assessment import Assessment


def render(assessment: Assessment, explain: bool = False) -> str:
    """Stable, byte-for-byte reproducible JSON of the whole Assessment."""
    return assessment.model_dump_json(indent=2) + "\n"


def schema() -> str:
    """The JSON Schema of the Assessment (a copy lives in schemas/)."""
    from maturity_probe.assessment import Assessment as Model

    document = Model.model_json_schema(mode="serialization")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["$id"] = "https://maturity-probe.dev/schemas/assessment-1.json"
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
