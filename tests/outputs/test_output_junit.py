"""JUnit XML: valid against the Jenkins junit XSD; one test case per requirement."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from outputs_support import full_assessment

from maturity_probe.assessment import Assessment
from maturity_probe.outputs import junit

XSD = xmlschema.XMLSchema(Path(__file__).parents[1] / "fixtures" / "schemas" / "junit-10.xsd")


def rendered(assessment: Assessment) -> ET.Element:
    text = junit.render(assessment)
    XSD.validate(text)
    return ET.fromstring(text)


def outcome(case: ET.Element) -> tuple[str, str]:
    children = [c for c in case if c.tag in ("failure", "error", "skipped")]
    if not children:
        return "passed", ""
    return children[0].tag, children[0].get("message", "")


def test_suites_per_model_and_system_with_a_case_per_requirement() -> None:
    assessment = full_assessment()
    root = rendered(assessment)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "Alpha maturity (platform)", "Beta maturity (platform)",
        "Alpha maturity (churn)", "Beta maturity (churn)",
        "Alpha maturity (fraud)", "Beta maturity (fraud)", "maturity-probe sources",
    ]
    assert [len(s.findall("testcase")) for s in suites] == [7, 2, 7, 2, 7, 2, 3]
    alpha = suites[0]
    props = {p.get("name"): p.get("value") for p in alpha.iter("property")}
    assert props["level"] == "2" and props["target_level"] == "3" and props["at_least"] == "false"
    assert {p.get("name"): p.get("value") for p in suites[1].iter("property")}["at_least"] == "true"


def test_four_non_met_states_stay_apart() -> None:
    alpha = rendered(full_assessment()).findall("testsuite")[0]
    cases = {c.get("name", "").rsplit("[", 1)[1].rstrip("]"): c for c in alpha.findall("testcase")}
    got = {key: outcome(case) for key, case in cases.items()}
    assert got["tests"] == ("passed", "") and got["build"] == ("passed", "")
    assert got["deploy"][0] == "failure"  # unmet at the target level
    assert got["registry"][0] == "error" and "prod-mlflow" in got["registry"][1]  # could not look
    assert got["store"][0] == "skipped" and "optional" in got["store"][1]
    assert got["culture"][0] == "skipped" and got["culture"][1].startswith("not assessable")
    assert got["training"][0] == "skipped" and "vendor's platform" in got["training"][1]
    failure = cases["deploy"].find("failure")
    assert failure is not None and "Deploy the model from CI" in (failure.text or "")
    assert cases["tests"].get("classname") == "maturity.alpha"
    out = cases["tests"].findtext("system-out") or ""
    assert ".github/workflows/ci.yml:12" in out and "Jenkinsfile:7" in out


def test_counts_match_the_cases() -> None:
    root = rendered(full_assessment())
    for suite in root.findall("testsuite"):
        kinds = [outcome(c)[0] for c in suite.findall("testcase")]
        assert suite.get("tests") == str(len(kinds))
        assert suite.get("failures") == str(kinds.count("failure"))
        assert suite.get("errors") == str(kinds.count("error"))
        assert suite.get("skipped") == str(kinds.count("skipped"))
    assert root.get("failures") == str(sum(int(s.get("failures", "0")) for s in root))
    assert root.get("tests") == "30"


def test_each_source_is_a_case_and_a_failed_one_an_error() -> None:
    suite = rendered(full_assessment()).findall("testsuite")[-1]
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"prod-mlflow (mlflow)", "prom (prometheus)", "repo (repo)"}
    assert outcome(cases["prod-mlflow (mlflow)"]) == (
        "error", "connection refused (http://mlflow.example.invalid:5000)")
    assert cases["prod-mlflow (mlflow)"].get("time") == "5.000"
    assert outcome(cases["prom (prometheus)"]) == ("passed", "")
    assert (cases["prom (prometheus)"].findtext("system-out") or "").splitlines()[:2] == [
        "partial: 12 requests in 1.25 s", "rules API answered 403"]
    assert suite.get("errors") == "1" and suite.get("tests") == "3"


def test_beyond_the_target_level_is_skipped_not_failed() -> None:
    """fraud's alpha level is 1 (no build job): level 3's unmet deploy is not due yet."""
    fraud = rendered(full_assessment()).findall("testsuite")[4]
    cases = {c.get("name", "").rsplit("[", 1)[1].rstrip("]"): c for c in fraud.findall("testcase")}
    assert outcome(cases["build"])[0] == "failure"
    kind, message = outcome(cases["deploy"])
    assert kind == "skipped" and "required from level 3, target 2" in message


@pytest.mark.parametrize("text", ["ANSI \x1b[31mred\x1b[0m", "bell \x07", "<![CDATA[ ]]> & </x>"])
def test_text_xml_cannot_carry_is_replaced_and_markup_escaped(text: str) -> None:
    assessment = full_assessment()
    first = assessment.evidence[0].model_copy(update={"summary": text})
    changed = assessment.model_copy(update={"evidence": [first, *assessment.evidence[1:]]})
    root = rendered(changed)
    outs = "".join(e.text or "" for e in root.iter("system-out"))
    assert "\x1b" not in outs and "\x07" not in outs
    assert text.split(" ", 1)[0] in outs
