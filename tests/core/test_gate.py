"""The regression gate: which requirement was lost, where, and the exit code."""

from __future__ import annotations

import pytest

from maturity_probe.assessment import Assessment
from maturity_probe.errors import UserError
from maturity_probe.evidence import Evidence, SourceState, Strength
from maturity_probe.gate import EXIT_OK, EXIT_REGRESSION, compare, parse_min_levels
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import RuleSet, load_rules, signals_used
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
    # why it could not be checked now, and what the baseline stood on
    assert result.failures[0] == (
        'microsoft 3 → 0: lost "DevOps practices (a CI/CD pipeline)": could not be checked '
        "(could not look: source repo failed: boom), shown in the baseline by .github/workflows/ci.yml"
    )
    assert result.verdict == "FAILED: could not check requirements the baseline met"


def test_evidence_gone_although_its_source_looked_again_is_a_regression(rules: RuleSet) -> None:
    """An alternative that could not be looked at (no mlflow source) does not excuse the loss
    of the evidence the baseline stood on, when the source that had it looked again."""
    def five_stage(items: list[Evidence]) -> Assessment:
        return assess(rules, items, [source()], now=NOW, target="repo", model_ids=["five_stage"])

    environments = ev("ci.deployment_environments", locator=".github/workflows/deploy.yml:12", count=2)
    baseline = five_stage([*evidence(), environments])
    [held] = [r for r in baseline.maturity["five_stage"].requirements if environments.id in r.evidence]
    current = five_stage(evidence())
    assert next(r for r in current.maturity["five_stage"].requirements
                if r.id == held.id).status == "unknown"  # the mlflow alternative was never scanned
    result = compare(current, baseline, {}, rules, strict=True)
    assert f'lost "{held.title}": .github/workflows/deploy.yml no longer ' in "\n".join(result.failures)
    assert result.verdict == "FAILED: maturity regressed"


def test_verdict_names_each_reason_it_failed(rules: RuleSet) -> None:
    baseline = assessment(rules, evidence())
    dropped = assessment(rules, evidence(without=("ci.model_deployment_job",)))
    assert compare(dropped, baseline, {}, rules).verdict == "FAILED: maturity regressed"
    below = compare(dropped, None, {"microsoft": 3}, rules)
    assert below.verdict == "FAILED: below the minimum level"  # no baseline: nothing regressed
    both = compare(dropped, baseline, {"microsoft": 3}, rules)
    assert both.verdict == "FAILED: maturity regressed and below the minimum level"
    assert compare(baseline, baseline, {"microsoft": 3}, rules).verdict == "passed"


def test_minimum_of_a_level_known_only_at_least(rules: RuleSet) -> None:
    current = assessment(rules, [], state=SourceState.failed)
    result = compare(current, None, {"microsoft": 1}, rules)
    assert result.failures[0].startswith(
        "microsoft is at least at level 0 (some requirements could not be checked), below the minimum 1")


def test_an_optional_loss_is_not_why_a_level_dropped(rules: RuleSet) -> None:
    # google has "Feature store" twice: optional at level 1, required at level 2
    def google(without: str = "") -> Assessment:
        left_out = signals_used(rules.capabilities[without]) if without else set()
        signals = {s for c in rules.capabilities.values() for s in signals_used(c)} - left_out
        items = [ev(signal, locator=f"{signal}.yaml:1", strength=Strength.verified)
                 for signal in sorted(signals)]
        sources = [source(), source("mlflow", "mlflow")]
        return assess(rules, items, sources, now=NOW, target="repo", model_ids=["google"])

    baseline, current = google(), google(without="feature_store")
    assert (baseline.maturity["google"].level, current.maturity["google"].level) == (2, 1)
    result = compare(current, baseline, {}, rules)
    assert result.failures == ['google 2 → 1: lost "Feature store": '
                               "feature_store.definition.yaml no longer defines a feature store"]
    assert result.notes == [result.failures[0] + " (optional)"]
    strict = compare(current, baseline, {}, rules, strict=True)
    assert strict.failures == [result.failures[0], result.failures[0] + " (optional)"]


def test_min_level_parsing() -> None:
    tops = {"microsoft": 4, "google": 2}
    assert parse_min_levels(["microsoft=2", "google=1"], tops) == {"microsoft": 2, "google": 1}
    assert parse_min_levels(["microsoft=4"], tops) == {"microsoft": 4}
    with pytest.raises(UserError, match="expected MODEL=LEVEL"):
        parse_min_levels(["microsoft"], tops)
    with pytest.raises(UserError, match="unknown model 'msft'"):
        parse_min_levels(["msft=2"], tops)
    with pytest.raises(UserError, match="'microsoft=9': microsoft has levels 0 to 4"):
        parse_min_levels(["microsoft=9"], tops)
