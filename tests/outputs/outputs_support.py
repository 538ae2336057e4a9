"""An Assessment with every state the outputs must show, built by the real inference engine.

Two small maturity models over the real signal catalog (rules written to a temporary
directory, so changes to the shipped rules do not move these tests):

alpha (levels 0-3), reached 2, not a lower bound:
  L1 tests (met, 6 evidence items), culture (not assessable)
  L2 build (met), training (not applicable: exempted), store (optional, unmet)
  L3 registry (unknown: the mlflow source failed), deploy (unmet)
beta (levels 0-2), reached "at least 1":
  L1 tests (met); L2 registry (unknown only)

Sources: repo ok, mlflow failed, prometheus partial (with a warning). KPIs: one measured
from evidence attributes, one unmeasured (None). Two ML systems built with the engine on
their own evidence, plus evidence in no system. Strings carry HTML, quotes, backslashes
and newlines so escaping is exercised in every format.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maturity_probe.assessment import Assessment, Exemption, Kpi, SystemMaturity
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength, evidence_id
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import RuleSet, load_rules

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MODELS = ["alpha", "beta"]
HOSTILE = '<script>alert("x")</script> & \\ "quoted"'

SIGNALS = """
signals:
  outtest.registry_alias:
    description: a model version carries a production alias in the registry
    seed: test
    phrase: marks a production version
    emitted_by: {mlflow: verified}
"""
CAPABILITIES = """
capabilities:
  out_tests:
    title: Tests in CI
    recommendation: Run the tests in CI on every change.
    any_of:
      - signal: ci.test_job
  out_build:
    title: Build in CI
    recommendation: Build a release artefact in CI.
    any_of:
      - signal: ci.build_job
  out_training:
    title: Training in CI
    recommendation: Train the model in a CI job.
    any_of:
      - signal: ci.training_job
  out_store:
    title: Feature store
    recommendation: Define features in a feature store.
    any_of:
      - signal: feature_store.definition
  out_registry:
    title: Production alias
    recommendation: Mark the production version with an alias in the model registry.
    any_of:
      - signal: outtest.registry_alias
        strength: verified
  out_deploy:
    title: Automated deployment
    recommendation: Deploy the model from CI after the tests pass.
    any_of:
      - signal: ci.model_deployment_job
"""
ALPHA = """
id: alpha
name: Alpha maturity
source: the test's own model
levels:
  - level: 0
    name: Manual
  - level: 1
    name: Tested
    summary: Changes are tested.
    requirements:
      - id: tests
        title: Tests run in CI
        criterion: "Every change is tested <automatically>."
        capability: out_tests
      - id: culture
        title: Shared culture
        criterion: "Teams talk to each other."
        not_assessable: No tool shows whether teams talk to each other.
  - level: 2
    name: Built
    requirements:
      - id: build
        title: Builds in CI
        criterion: "Releases are built by CI."
        capability: out_build
      - id: training
        title: Training in CI
        criterion: "Training is automated."
        capability: out_training
      - id: store
        title: Feature store
        criterion: "Features are shared."
        capability: out_store
        blocking: false
  - level: 3
    name: Deployed
    requirements:
      - id: registry
        title: Production alias in the registry
        criterion: "The production model is known."
        capability: out_registry
      - id: deploy
        title: Automated deployment
        criterion: "Deployment is automated."
        capability: out_deploy
"""
BETA = """
id: beta
name: Beta maturity
source: the test's second model
levels:
  - level: 0
    name: Start
  - level: 1
    name: Tested
    requirements:
      - id: tests
        title: Tests run in CI
        criterion: "Tests run."
        capability: out_tests
  - level: 2
    name: Registered
    requirements:
      - id: registry
        title: Production alias in the registry
        criterion: "Registered."
        capability: out_registry
"""
KPIS = """
kpis:
  out_training_runs:
    name: Training runs in 30 days
    description: Runs of the training job in the 30 days before the scan.
    seed: test
    signal: ci.training_job
    attribute: runs_30d
    unit: runs
"""


def write_rules(directory: Path) -> RuleSet:
    (directory / "models").mkdir(parents=True, exist_ok=True)
    (directory / "signals.yaml").write_text(SIGNALS)
    (directory / "capabilities.yaml").write_text(CAPABILITIES)
    (directory / "kpis.yaml").write_text(KPIS)
    (directory / "models" / "alpha.yaml").write_text(ALPHA)
    (directory / "models" / "beta.yaml").write_text(BETA)
    return load_rules(directory)


def item(signal: str, locator: str, subject: str = "repo:churn", source: str = "repo",
         summary: str = "", **attributes: object) -> Evidence:
    path, _, line = locator.partition(":")
    is_file = "://" not in locator
    return Evidence(
        id=evidence_id(source, signal, subject, locator), signal=signal, subject=subject,
        source=source, locator=locator, path=path if is_file else None,
        line=int(line) if is_file and line.isdigit() else None, strength=Strength.declared,
        summary=summary or f"{signal} seen at {locator}", observed_at=NOW,
        occurred_at=NOW if not is_file else None, attributes=dict(attributes),
    )


def evidence() -> list[Evidence]:
    tests = [item("ci.test_job", f".github/workflows/ci.yml:{12 + i}") for i in range(5)]
    tests.append(item("ci.test_job", "Jenkinsfile:7", subject="repo:fraud",
                      summary=f"stage `test` in Jenkinsfile runs pytest {HOSTILE}"))
    return [
        *tests,
        item("ci.build_job", ".github/workflows/ci.yml:40"),
        item("ci.training_job", "https://git.example.invalid/acme/churn/-/pipelines/7",
             summary="scheduled training pipeline succeeded", runs_30d=4),
        item("ci.training_job", "train.yml:3", subject='repo:odd "name" \\ here', runs_30d=2.5),
        item("code.notebooks", "notebooks/explore.ipynb:1", subject="repo:scratch"),
    ]


def sources() -> list[SourceStatus]:
    return [
        SourceStatus(name="repo", type="repo", status=SourceState.ok, duration_seconds=0.42,
                     requests=0),
        SourceStatus(name="prod-mlflow", type="mlflow", status=SourceState.failed,
                     reason="connection refused (http://mlflow.example.invalid:5000)",
                     duration_seconds=5.0, requests=3),
        SourceStatus(name="prom", type="prometheus", status=SourceState.partial,
                     reason="rules API answered 403", duration_seconds=1.25, requests=12,
                     unavailable_signals=["monitor.drift_alert_rule"],
                     warnings=["rules.yml:4: unreadable rule group"]),
    ]


EXEMPTION = Exemption(target="alpha/training", reason="training runs in the vendor's platform",
                      origin=".maturity-probe.yml:3")


def build(rules: RuleSet, target: str = "platform.yaml") -> Assessment:
    """The full Assessment (platform, two systems, unassigned evidence)."""
    all_evidence = evidence()
    base = assess(rules, all_evidence, sources(), now=NOW, target=target, model_ids=MODELS,
                  exemptions=[EXEMPTION],
                  extra_kpis=[Kpi(id="out_lead_time", name="Lead time to production",
                                  subject="mlflow:prod/churn", value=None, unit="hours",
                                  source="prod-mlflow")])
    systems = {}
    for name, subjects in (("churn", ["repo:churn"]), ("fraud", ["repo:fraud"])):
        own = [e for e in all_evidence if e.subject in subjects]
        assessed = assess(rules, own, sources(), now=NOW, target=name, model_ids=MODELS,
                          exemptions=[EXEMPTION])
        systems[name] = SystemMaturity(name=name, subjects=subjects, declared=name == "churn",
                                       maturity=assessed.maturity, evidence=[e.id for e in own])
    levels: dict[str, dict[str, int]] = {}
    for model in MODELS:
        top = base.maturity[model].max_level
        counts = {str(level): 0 for level in range(top + 1)}
        for system in systems.values():
            counts[str(system.maturity[model].level)] += 1
        levels[model] = counts
    assigned = {i for s in systems.values() for i in s.evidence}
    return base.model_copy(update={
        "systems": systems,
        "system_levels": levels,
        "unassigned_evidence": [e.id for e in base.evidence if e.id not in assigned],
        "warnings": [*base.warnings, f"notebooks/explore.ipynb:1: {HOSTILE}"],
    })


@functools.cache
def test_rules() -> RuleSet:
    directory = Path(tempfile.mkdtemp(prefix="output-rules-"))
    atexit.register(shutil.rmtree, directory, True)
    return write_rules(directory)


@functools.cache
def full_assessment(target: str = "platform.yaml") -> Assessment:
    return build(test_rules(), target)


def chromium_binary() -> str:
    """Debian's Chromium. Its absence fails the browser tests (in CI and elsewhere)."""
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("Chromium is not installed (apt-get install chromium, or scripts/setup.sh "
                "--test): the HTML report is tested in a real browser")
