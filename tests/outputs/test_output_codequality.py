"""GitLab code quality: the documented report structure, checked field by field.

GitLab publishes no schema file on a registry this project can reach (see
tests/fixtures/schemas/README.md), so this follows GitLab's documented format: a JSON
array of issues, each with a description, check_name, fingerprint, a severity of info,
minor, major, critical or blocker, and a location with a repository-relative path and a
1-based begin line. GitLab tells issues apart by fingerprint, which must be unique.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from outputs_support import full_assessment

from maturity_probe.assessment import Assessment
from maturity_probe.outputs import codequality

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def check_report(text: str) -> list[dict[str, Any]]:
    report = json.loads(text)
    assert isinstance(report, list)
    for issue in report:
        assert isinstance(issue, dict)
        for key in ("description", "check_name", "fingerprint"):
            assert isinstance(issue[key], str) and issue[key], key
        assert issue["severity"] in SEVERITIES
        location = issue["location"]
        assert isinstance(location["path"], str) and location["path"]
        assert not location["path"].startswith(("/", "./")), "paths are relative to the repo root"
        begin = location["lines"]["begin"]
        assert isinstance(begin, int) and not isinstance(begin, bool) and begin >= 1
    prints = [issue["fingerprint"] for issue in report]
    assert len(prints) == len(set(prints)), "GitLab needs unique fingerprints"
    return report


def rendered(assessment: Assessment) -> list[dict[str, Any]]:
    return check_report(codequality.render(assessment))


def test_gaps_become_issues_with_severities() -> None:
    report = rendered(full_assessment())
    got = [(i["check_name"], i["severity"]) for i in report]
    assert got == [
        ("maturity-probe/alpha/deploy", "major"),  # holds the level
        ("maturity-probe/alpha/registry", "info"),  # could not be checked
        ("maturity-probe/alpha/store", "minor"),  # optional
        ("maturity-probe/beta/registry", "info"),
    ]
    assert report[0]["description"].startswith('Alpha maturity, level 3 (Deployed): '
                                                '"Automated deployment" is missing.')
    assert "Deploy the model from CI" in report[0]["description"]
    assert {i["location"]["path"] for i in report} == {"platform.yaml"}


def test_repository_audit_points_at_a_file_it_read() -> None:
    report = rendered(full_assessment("."))
    assert {(i["location"]["path"], i["location"]["lines"]["begin"]) for i in report} == {
        (".github/workflows/ci.yml", 1)}


def test_fingerprint_is_the_sha256_of_model_requirement_and_scope() -> None:
    report = rendered(full_assessment())
    expected = hashlib.sha256(b"maturity-probe\x1falpha\x1fdeploy\x1fplatform").hexdigest()
    assert report[0]["fingerprint"] == expected
    # stable across targets (the checkout path of a CI runner changes; the gap does not)
    assert [i["fingerprint"] for i in rendered(full_assessment("."))] == [
        i["fingerprint"] for i in report]


def test_the_structure_check_rejects_a_bad_report() -> None:
    good = codequality.render(full_assessment())
    bad = json.loads(good)
    bad[1]["fingerprint"] = bad[0]["fingerprint"]
    try:
        check_report(json.dumps(bad))
    except AssertionError:
        pass
    else:
        raise AssertionError("duplicate fingerprints were accepted")


def test_nothing_to_report_is_an_empty_array() -> None:
    assert rendered(full_assessment().model_copy(update={"maturity": {}})) == []
