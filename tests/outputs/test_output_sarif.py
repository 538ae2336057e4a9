"""SARIF 2.1.0: valid against the OASIS schema, and what GitHub code scanning needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from outputs_support import full_assessment

from maturity_probe.assessment import Assessment
from maturity_probe.outputs import sarif
from maturity_probe.outputs.gaps import fingerprint

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "schemas" /
                     "sarif-schema-2.1.0.json").read_text())


def rendered(assessment: Assessment) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sarif.render(assessment))
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return document


def test_gaps_are_results_with_rules_and_levels() -> None:
    run = rendered(full_assessment())["runs"][0]
    got = [(r["ruleId"], r["level"], r["properties"]["status"]) for r in run["results"]]
    assert got == [
        ("alpha/deploy", "warning", "unmet"),  # holds level 3: the only warning
        ("alpha/registry", "note", "unknown"),  # the mlflow source failed
        ("alpha/store", "note", "unmet"),  # optional, at the reached level
        ("beta/registry", "note", "unknown"),
    ]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
    deploy = rules[0]
    assert deploy["shortDescription"]["text"] == "Automated deployment"
    assert deploy["fullDescription"]["text"] == "Deployment is automated."
    assert deploy["help"]["text"].startswith("Deploy the model from CI after the tests pass.")
    message = run["results"][1]["message"]["text"]
    assert "could not be checked" in message and "prod-mlflow" in message
    # met, not assessable and exempted requirements are no results
    assert not {"alpha/tests", "alpha/culture", "alpha/training", "alpha/build"} & {
        r["ruleId"] for r in run["results"]}


def test_tool_driver_and_failed_sources_as_notifications() -> None:
    run = rendered(full_assessment())["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "maturity-probe"
    assert driver["version"] == full_assessment().tool.version
    assert driver["informationUri"].startswith("https://")
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [(n["level"], n["descriptor"]["id"]) for n in notes] == [
        ("error", "source/prod-mlflow"), ("warning", "source/prom")]
    assert "connection refused" in notes[0]["message"]["text"]
    assert run["properties"]["levels"]["beta"] == {
        "level": 1, "atLeast": True, "maxLevel": 2, "levelName": "Tested"}


@pytest.mark.parametrize(
    ("target", "uri", "base"),
    [
        ("platform.yaml", "platform.yaml", "%SRCROOT%"),  # a platform scan: its config
        ("deploy/maturity/platform.yml", "deploy/maturity/platform.yml", "%SRCROOT%"),
        ("/srv/checkout/platform.yaml", "file:///srv/checkout/platform.yaml", None),
        (".", ".github/workflows/ci.yml", "%SRCROOT%"),  # an audit: the first file it read
        ("https://github.com/acme/churn", ".github/workflows/ci.yml", "%SRCROOT%"),
    ],
)
def test_every_result_has_a_file_location_with_a_line(target: str, uri: str, base: str | None) -> None:
    run = rendered(full_assessment(target))["runs"][0]
    assert run["results"]
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == uri
        assert location["artifactLocation"].get("uriBaseId") == base
        assert location["region"]["startLine"] == 1
        assert uri.split("/")[-1] in result["message"]["text"]


def test_fingerprints_are_stable_and_unique() -> None:
    first = rendered(full_assessment("platform.yaml"))["runs"][0]["results"]
    other_place = rendered(full_assessment("."))["runs"][0]["results"]
    prints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in first]
    assert len(set(prints)) == len(prints)
    # the same gap keeps its fingerprint wherever and whenever it is scanned
    assert prints == [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in other_place]
    assert prints[0] == fingerprint("alpha", "deploy")
    assert fingerprint("alpha", "deploy") != fingerprint("alpha", "deploy", "churn")


def test_no_gap_gives_a_valid_empty_run() -> None:
    empty = full_assessment().model_copy(update={"maturity": {}, "sources": []})
    run = rendered(empty)["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []


def test_output_is_deterministic() -> None:
    assert sarif.render(full_assessment()) == sarif.render(full_assessment())


def test_the_schema_check_rejects_what_github_would() -> None:
    document = json.loads(sarif.render(full_assessment()))
    validator = jsonschema.Draft4Validator(SCHEMA)
    assert validator.is_valid(document)
    result = document["runs"][0]["results"][0]
    result["level"] = "critical"  # not a SARIF level
    assert not validator.is_valid(document)
    result["level"] = "warning"
    del result["message"]
    assert not validator.is_valid(document)
