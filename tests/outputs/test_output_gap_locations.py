"""Where SARIF and GitLab code-quality results of a repository audit point: at a file the
audit read (so one that exists), at a requirement's own evidence when it has some, at the
repository root without a line when no file was read; never at a file that is not there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from conftest import MakeRepo
from maturity_probe.assessment import Assessment
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import codequality, sarif
from maturity_probe.run import audit_checkout

RULES = load_rules()
SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "schemas" /
                     "sarif-schema-2.1.0.json").read_text())
LINT_ONLY = """\
name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install ruff
      - run: ruff check .
"""
APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/health")
def health():
    return {"ok": True}
"""


def sarif_results(assessment: Assessment) -> list[dict[str, Any]]:
    document = json.loads(sarif.render(assessment))
    jsonschema.validate(document, SCHEMA)
    results: list[dict[str, Any]] = document["runs"][0]["results"]
    assert results
    return results


def test_audit_results_point_at_files_that_exist(make_repo: MakeRepo) -> None:
    root = make_repo({".github/workflows/ci.yml": LINT_ONLY, "app.py": APP,
                      "README.md": "# price api\n"})
    assessment = audit_checkout(root, RULES, models=["microsoft"])
    for result in sarif_results(assessment):
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert (root / uri).is_file(), uri
        assert location["region"]["startLine"] >= 1
        assert ".maturity-probe.yml" not in uri
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif_results(assessment)} == {".github/workflows/ci.yml"}
    issues = json.loads(codequality.render(assessment))
    assert {(i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues} == {
        (".github/workflows/ci.yml", 1)}


def test_an_audit_that_read_no_file_points_at_the_repository_root(make_repo: MakeRepo) -> None:
    root = make_repo({})  # an empty commit: only the version-control evidence, no file
    assessment = audit_checkout(root, RULES, models=["microsoft"])
    assert all(not e.path for e in assessment.evidence)
    for result in sarif_results(assessment):
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": ".", "uriBaseId": "%SRCROOT%"}
        assert "region" not in location
        assert "the repository root" in result["message"]["text"]
    issues = json.loads(codequality.render(assessment))
    assert {(i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues} == {(".", 1)}
