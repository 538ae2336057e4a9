"""Inference semantics: strengths, freshness, predicates, three-valued logic, levels."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from maturity_probe.assessment import Exemption, Status
from maturity_probe.evidence import SourceState, Strength
from maturity_probe.inference.engine import Evaluator, assess
from maturity_probe.inference.rules import RuleSet, load_rules
from maturity_probe.outputs import json_out
from support import NOW, ev, source


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def custom_rules(tmp_path: Path, capabilities: str, model: str | None = None,
                 signals: str | None = None) -> RuleSet:
    rules_dir = tmp_path / "rules"
    (rules_dir / "models").mkdir(parents=True)
    (rules_dir / "capabilities.yaml").write_text(capabilities)
    if model:
        (rules_dir / "models" / "test.yaml").write_text(model)
    if signals:
        (rules_dir / "signals.yaml").write_text(signals)
    return load_rules(rules_dir)


EXTRA_SIGNALS = """
signals:
  test.platform_signal:
    description: shown only by a platform source
    seed: test
    phrase: shows a platform thing
    emitted_by: {mlflow: verified, repo: declared}
"""


def test_signal_clause_met_unmet_and_unknown_when_source_failed(rules: RuleSet) -> None:
    evaluator = Evaluator(rules, [ev("ci.test_job")], [source()], NOW)
    assert evaluator.capability("ci_tests").status == Status.met
    evaluator = Evaluator(rules, [], [source()], NOW)
    outcome = evaluator.capability("ci_tests")
    assert outcome.status == Status.unmet
    assert outcome.looked_for == ("ci.test_job",)
    failed = source(state=SourceState.failed, reason="connection refused")
    outcome = Evaluator(rules, [], [failed], NOW).capability("ci_tests")
    assert outcome.status == Status.unknown
    assert "source repo failed: connection refused" in outcome.unknown_because


def test_not_scanned_source_type_is_unknown_not_unmet(rules: RuleSet) -> None:
    outcome = Evaluator(rules, [], [], NOW).capability("ci_tests")
    assert outcome.status == Status.unknown
    assert outcome.unknown_because == ("no github source was scanned",
                                       "no gitlab source was scanned",
                                       "no repo source was scanned")


def test_partial_source_makes_only_its_unavailable_signals_unknown(rules: RuleSet) -> None:
    partial = source(state=SourceState.partial, reason="not a git repository",
                     unavailable=["vcs.scoring_script_versioned"])
    evaluator = Evaluator(rules, [], [partial], NOW)
    assert evaluator.capability("scoring_script_versioned").status == Status.unknown
    assert evaluator.capability("scoring_script").status == Status.unmet


def test_minimum_strength_and_unobservable_strength(tmp_path: Path) -> None:
    rules = custom_rules(tmp_path, """
capabilities:
  verified_thing:
    title: Verified
    recommendation: do it
    any_of:
      - signal: test.platform_signal
        strength: verified
""", signals=EXTRA_SIGNALS)
    declared = ev("test.platform_signal", strength=Strength.declared)
    verified = ev("test.platform_signal", locator="x", strength=Strength.verified, source="ml")
    # only a repo was scanned: it cannot show `verified`, so the answer is unknown
    outcome = Evaluator(rules, [declared], [source()], NOW).capability("verified_thing")
    assert outcome.status == Status.unknown
    assert "no mlflow source was scanned" in outcome.unknown_because
    # an mlflow source looked and saw only declared evidence: unmet
    mlflow_ok = source("ml", "mlflow")
    outcome = Evaluator(rules, [declared], [source(), mlflow_ok], NOW).capability("verified_thing")
    assert outcome.status == Status.unmet
    outcome = Evaluator(rules, [verified], [mlflow_ok], NOW).capability("verified_thing")
    assert outcome.status == Status.met and outcome.evidence == (verified.id,)


def test_freshness_uses_when_the_activity_happened(tmp_path: Path) -> None:
    rules = custom_rules(tmp_path, """
capabilities:
  recent_training:
    title: Recent training
    recommendation: retrain
    any_of:
      - signal: ci.training_job
        within_days: 30
""")
    fresh = ev("ci.training_job", occurred_at=NOW - timedelta(days=3))
    stale = ev("ci.training_job", locator="b", occurred_at=NOW - timedelta(days=90))
    undated = ev("ci.training_job", locator="c")
    def status(*items):  # type: ignore[no-untyped-def]
        return Evaluator(rules, list(items), [source()], NOW).capability("recent_training")
    assert status(fresh).status == Status.met
    assert status(stale).status == Status.unmet
    assert status(undated).status == Status.unmet
    assert status(stale, fresh).evidence == (fresh.id,)


@pytest.mark.parametrize(
    ("predicate", "attributes", "holds"),
    [
        ("count: {gte: 2}", {"count": 2}, True),
        ("count: {gte: 2}", {"count": 1}, False),
        ("count: {gt: 2}", {"count": 3}, True),
        ("count: {lt: 2}", {"count": 1}, True),
        ("count: {lte: 2}", {"count": 3}, False),
        ("count: {gte: 2}", {"count": "many"}, False),
        ("kind: kserve", {"kind": "kserve"}, True),
        ("kind: kserve", {"kind": "flask"}, False),
        ("kind: {ne: flask}", {"kind": "kserve"}, True),
        ("kind: {ne: flask}", {}, True),
        ("kind: {in: [a, b]}", {"kind": "b"}, True),
        ("kind: {not_in: [a, b]}", {"kind": "b"}, False),
        ("steps: {contains: train}", {"steps": ["prepare", "train"]}, True),
        ("steps: {contains: train}", {"steps": ["prepare"]}, False),
        ("cron: {exists: true}", {"cron": "0 3 * * 1"}, True),
        ("cron: {exists: true}", {"cron": None}, False),
        ("cron: {exists: false}", {}, True),
        ("cron: {matches: '^0 3 '}", {"cron": "0 3 * * 1"}, True),
        ("cron: {matches: '^0 3 '}", {"cron": "15 4 * * *"}, False),
    ],
)
def test_attribute_predicates(tmp_path: Path, predicate: str, attributes: dict[str, object],
                              holds: bool) -> None:
    rules = custom_rules(tmp_path, f"""
capabilities:
  checked:
    title: Checked
    recommendation: do it
    any_of:
      - signal: ci.training_job
        where:
          {predicate}
""")
    item = ev("ci.training_job", **attributes)
    outcome = Evaluator(rules, [item], [source()], NOW).capability("checked")
    assert (outcome.status == Status.met) is holds


def test_three_valued_combinations(tmp_path: Path) -> None:
    rules = custom_rules(tmp_path, """
capabilities:
  either:
    title: Either
    recommendation: r
    any_of:
      - signal: ci.test_job
      - signal: test.platform_signal
        strength: verified
  both:
    title: Both
    recommendation: r
    all_of:
      - signal: ci.test_job
      - signal: test.platform_signal
        strength: verified
  nested:
    title: Nested
    recommendation: r
    any_of:
      - capability: both
      - all_of:
          - signal: ci.build_job
          - signal: ci.test_job
""", signals=EXTRA_SIGNALS)
    repo_only = [source()]  # mlflow never scanned: the platform signal is unknown
    def cap(name, *items):  # type: ignore[no-untyped-def]
        return Evaluator(rules, list(items), repo_only, NOW).capability(name).status
    assert cap("either") == Status.unknown  # unmet OR unknown
    assert cap("either", ev("ci.test_job")) == Status.met
    assert cap("both") == Status.unmet  # unmet AND unknown
    assert cap("both", ev("ci.test_job")) == Status.unknown  # met AND unknown
    assert cap("nested", ev("ci.test_job")) == Status.unknown
    assert cap("nested", ev("ci.test_job"), ev("ci.build_job", locator="b")) == Status.met


LEVELS_MODEL = """
id: tiny
name: Tiny model
source: test
levels:
  - level: 0
    name: Nothing
  - level: 1
    name: Tested
    requirements:
      - id: tests
        title: Tests
        criterion: "tests run"
        capability: ci_tests
      - id: people
        title: People
        criterion: "people talk"
        not_assessable: not visible
  - level: 2
    name: Built
    requirements:
      - id: build
        title: Build
        criterion: "builds"
        capability: automated_release
      - id: store
        title: Feature store
        criterion: "optional"
        capability: feature_store
        blocking: false
  - level: 3
    name: Platform
    requirements:
      - id: platform
        title: Platform thing
        criterion: "platform"
        capability: platform_thing
"""
PLATFORM_CAP = """
capabilities:
  platform_thing:
    title: Platform thing
    recommendation: scan the platform
    any_of:
      - signal: test.platform_signal
        strength: verified
"""


def test_levels_are_cumulative_and_not_assessable_or_optional_never_block(tmp_path: Path) -> None:
    rules = custom_rules(tmp_path, PLATFORM_CAP, LEVELS_MODEL, EXTRA_SIGNALS)
    only_build = assess(rules, [ev("ci.build_job")], [source()], now=NOW, target="t",
                        model_ids=["tiny"])
    assert only_build.maturity["tiny"].level == 0  # level 2 met, but level 1 is not
    both = assess(rules, [ev("ci.test_job"), ev("ci.build_job", locator="b")], [source()],
                  now=NOW, target="t", model_ids=["tiny"])
    tiny = both.maturity["tiny"]
    assert tiny.level == 2 and tiny.level_name == "Built"
    statuses = {r.id: r.status for r in tiny.requirements}
    assert statuses["people"] == Status.not_assessable
    assert statuses["store"] == Status.unmet
    # the platform requirement could only be shown by an unscanned mlflow source
    assert statuses["platform"] == Status.unknown
    assert tiny.at_least is True
    assert tiny.next_level is not None and tiny.next_level.gaps[0].requirement == "platform"
    assert [lv.reached for lv in tiny.levels] == [True, True, True, False]


def test_at_least_is_false_when_a_blocker_is_definitely_unmet(tmp_path: Path) -> None:
    rules = custom_rules(tmp_path, PLATFORM_CAP, LEVELS_MODEL, EXTRA_SIGNALS)
    result = assess(rules, [ev("ci.test_job")], [source()], now=NOW, target="t",
                    model_ids=["tiny"]).maturity["tiny"]
    assert result.level == 1 and result.at_least is False
    gap = result.next_level.gaps[0] if result.next_level else None
    assert gap is not None and gap.requirement == "build" and gap.status == Status.unmet
    assert gap.recommendation.startswith("Build and publish")


def test_exemption_makes_requirement_not_applicable_and_unblocks(tmp_path: Path) -> None:
    rules = custom_rules(tmp_path, PLATFORM_CAP, LEVELS_MODEL, EXTRA_SIGNALS)
    exemption = Exemption(target="tiny/build", reason="no release artefacts",
                          origin=".maturity-probe.yml:2")
    result = assess(rules, [ev("ci.test_job")], [source()], now=NOW, target="t",
                    model_ids=["tiny"], exemptions=[exemption])
    tiny = result.maturity["tiny"]
    build = next(r for r in tiny.requirements if r.id == "build")
    assert build.status == Status.not_applicable
    assert build.reason == "no release artefacts (exempted in .maturity-probe.yml:2)"
    assert tiny.level == 2
    by_capability = Exemption(target="capability:ci_tests", reason="r", origin="f:1")
    tiny = assess(rules, [], [source()], now=NOW, target="t", model_ids=["tiny"],
                  exemptions=[by_capability]).maturity["tiny"]
    assert next(r for r in tiny.requirements if r.id == "tests").status == Status.not_applicable


def test_same_evidence_gives_same_bytes_whatever_the_order(rules: RuleSet) -> None:
    items = [ev(sig, locator=f"f{i}.yml:{i}") for i, sig in enumerate(
        ["ci.test_job", "ci.build_job", "code.experiment_tracking", "vcs.repository",
         "serving.scoring_script", "pipeline.data_preparation", "ci.pipeline"])]
    first = json_out.render(assess(rules, items, [source()], now=NOW, target="t"))
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    second = json_out.render(assess(rules, shuffled, [source()], now=NOW, target="t"))
    assert first == second
    assert assess(rules, items, [source()], now=NOW, target="t").maturity["microsoft"].level == 1


def test_systems_share_identical_results_which_are_frozen(rules: RuleSet) -> None:
    from pydantic import ValidationError

    from maturity_probe.inference.correlate import System

    subjects = [f"github:acme/repo-{n}" for n in range(3)]
    items = [ev(signal, locator=f"{subject}/ci.yml:1", subject=subject)
             for subject in subjects for signal in ("ci.test_job", "ci.pipeline", "vcs.repository")]
    systems = [System(subject.rsplit("/", 1)[1], (subject,), declared=True) for subject in subjects]
    assessment = assess(rules, items, [source()], now=NOW, target="t", systems=systems)
    first, second, third = (assessment.systems[s.name].maturity["microsoft"] for s in systems)
    pairs = list(zip(first.requirements, second.requirements, strict=True))
    same = [a for a, b in pairs if a is b]
    # results without evidence of their own (not assessable, unmet) are one object for all
    assert same and all(not a.evidence for a in same)
    assert all(a is b for a, b in pairs if not a.evidence and a == b)
    assert all(a is not b for a, b in pairs if a.evidence)  # each system's own evidence ids
    assert all(a is b for a, b in zip(first.levels, third.levels, strict=True))
    with pytest.raises(ValidationError, match="frozen"):
        first.requirements[0].status = Status.met
    # and each system's result is what assessing it alone gives
    alone = assess(rules, items, [source()], now=NOW, target="t", systems=systems[1:2])
    assert alone.systems["repo-1"] == assessment.systems["repo-1"]


def test_a_reason_is_worded_once_per_distinct_outcome(rules: RuleSet) -> None:
    from maturity_probe.inference.engine import Outcome, SharedResults, _describe

    shared = SharedResults()
    unmet = Outcome(Status.unmet, looked_for=("ci.test_job", "ci.lint_job"))
    first = shared.reason(unmet, rules)
    assert first == _describe(unmet, rules) == "nothing found that runs tests in CI or lints the code in CI"
    assert shared.reason(Outcome(Status.unmet, looked_for=("ci.test_job", "ci.lint_job")), rules) is first
    unknown = Outcome(Status.unknown, unknown_because=("no mlflow source was scanned",),
                      looked_for=("ci.test_job",))
    assert shared.reason(unknown, rules) == ("nothing found that runs tests in CI; could not look: "
                                             "no mlflow source was scanned")
    assert shared.reason(Outcome(Status.met, evidence=("ev-1",)), rules) is None
