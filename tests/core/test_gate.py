"""The regression gate: which requirement was lost, where, and the exit code."""

from __future__ import annotations

import pytest

from maturity_probe.assessment import Assessment
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence, SourceState
from maturity_probe.gate import EXIT_OK, EXIT_REGRESSION, compare, parse_min_levels
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import RuleSet, load_rules
from support import NOW, ev, source

LEVEL_3_MICROSOFT = {
    "ci.pipeline": ".github/workflows/ci.yml:1",
    "pipeline.data_preparation": "dvc.yaml:3",
    "vcs.repository": "/repo",
    "serving.scoring_script": "src/score.py:10",
    "ci.build_job": ".github/workflows/ci.yml:20",
    "ci.test_job": ".github/workflows/ci.yml:8",
    "code.experiment_tracking": "src/train.py:5",
    "vcs.training_code_versioned": "src/train.py",
    "code.model_registration": "src/register.py:14",
    "ci.training_job": ".github/workflows/train.yml:9",
    "vcs.scoring_script_versioned": "src/score.py",
    "ci.model_deployment_job": ".github/workflows/deploy.yml:12",
    "data.versioning": "data/raw.csv.dvc",
    "serving.progressive_delivery": "deploy/isvc.yaml:9",
    "quality.model_tests": "tests/test_model.py:1",
}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def evidence(without: tuple[str, ...] = ()) -> list[Evidence]:
    return [ev(signal, locator=loc) for signal, loc in LEVEL_3_MICROSOFT.items()
            if signal not in without]


def assessment(rules: RuleSet, items: list[Evidence], state: SourceState = SourceState.ok,
               ) -> Assessment:
    return assess(rules, items, [source(state=state, reason="boom" if state != "ok" else "")],
                  now=NOW, target="repo", model_ids=["microsoft"])


def test_baseline_is_level_three(rules: RuleSet) -> None:
    assert assessment(rules, evidence()).maturity["microsoft"].level == 3


def test_lost_deployment_fails_with_the_place_and_what_it_no_longer_does(rules: RuleSet) -> None:
    baseline = assessment(rules, evidence())
    current = assessment(rules, evidence(without=("ci.model_deployment_job",)))
    result = compare(current, baseline, {}, rules)
    assert result.exit_code == EXIT_REGRESSION
    assert result.failures == [
        'microsoft 3 → 2: lost "Automated model deployment": '
        ".github/workflows/deploy.yml no longer deploys a model"
    ]


def test_same_level_passes_and_improvement_is_noted(rules: RuleSet) -> None:
    baseline = assessment(rules, evidence(without=("ci.model_deployment_job",)))
    current = assessment(rules, evidence())
    result = compare(current, baseline, {}, rules)
    assert result.exit_code == EXIT_OK
    assert result.notes == ["microsoft 2 → 3: improved"]
    assert compare(current, current, {}, rules).exit_code == EXIT_OK


def test_lost_requirement_above_the_level_is_a_note_unless_strict(rules: RuleSet) -> None:
    # Level 2 baseline that also had A/B testing (a level-3 requirement)
    base_items = evidence(without=("ci.model_deployment_job",))
    current_items = [e for e in base_items if e.signal != "serving.progressive_delivery"]
    baseline = assessment(rules, base_items)
    current = assessment(rules, current_items)
    result = compare(current, baseline, {}, rules)
    assert result.exit_code == EXIT_OK
    assert result.notes == ['microsoft 2: lost "A/B testing after deployment": deploy/isvc.yaml '
                            "no longer splits traffic between model versions (level unchanged)"]
    strict = compare(current, baseline, {}, rules, strict=True)
    assert strict.exit_code == EXIT_REGRESSION


def test_minimum_level(rules: RuleSet) -> None:
    current = assessment(rules, evidence(without=("ci.model_deployment_job",)))
    assert compare(current, None, {"microsoft": 2}, rules).exit_code == EXIT_OK
    result = compare(current, None, {"microsoft": 3}, rules)
    assert result.exit_code == EXIT_REGRESSION
    assert result.failures == [
        'microsoft is at level 2, below the minimum 3: missing "Automated model deployment" (unmet)'
    ]


def test_failed_source_loss_says_it_could_not_be_checked(rules: RuleSet) -> None:
    baseline = assessment(rules, evidence())
    current = assessment(rules, [], state=SourceState.failed)
    result = compare(current, baseline, {}, rules)
    assert result.exit_code == EXIT_REGRESSION
    assert current.maturity["microsoft"].at_least is True
    assert result.failures[0].startswith(
        'microsoft 3 → 0: lost "DevOps practices (a CI/CD pipeline)": could not be checked '
        "(could not look: source repo failed: boom)"
    )


def test_min_level_parsing() -> None:
    assert parse_min_levels(["microsoft=2", "google=1"], ["microsoft", "google"]) == {
        "microsoft": 2, "google": 1}
    with pytest.raises(UserError, match="expected MODEL=LEVEL"):
        parse_min_levels(["microsoft"], ["microsoft"])
    with pytest.raises(UserError, match="unknown model 'msft'"):
        parse_min_levels(["msft=2"], ["microsoft"])
