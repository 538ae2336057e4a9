"""The sagemaker collector against moto's server on 127.0.0.1, populated with boto3.

moto does not implement ListMonitoringSchedules / ListMonitoringExecutions; the proxy of
tests/collectors/moto_server.py answers those two from recorded responses
(tests/fixtures/sagemaker/eu-west-1). moto stamps what it creates with the current time,
so the scan clock here is the current time too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from moto_server import AwsStack, moto_stack, seed_account

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.sagemaker import SageMakerCollector, SageMakerSource
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsStack]:
    with moto_stack() as stack:
        yield stack


@pytest.fixture
def account(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> AwsStack:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws.reset()
    seed_account(aws)
    aws.state.requests.clear()
    return aws


def scan(stack: AwsStack, now: datetime | None = None, **options: object
         ) -> tuple[list[Evidence], SourceStatus]:
    settings: dict[str, object] = {"regions": ["eu-west-1"], "max_attempts": 2, **options}
    config = SageMakerSource(name="aws-prod", endpoint_url=stack.url, **settings)  # type: ignore[arg-type]
    return run_collector(SageMakerCollector(config, CollectContext(now=now or datetime.now(UTC))))


def resource(arn: str) -> str:
    """`pipeline/churn-training` of an ARN (`scalable-target` ids are random: kept short)."""
    tail = arn.split(":", 5)[-1]
    return "scalable-target" if tail.startswith("scalable-target/") else tail


def strengths(evidence: list[Evidence]) -> dict[tuple[str, str, str], str]:
    return {(e.signal, e.subject.removeprefix("sagemaker:aws-prod/eu-west-1/"), resource(e.locator)):
            e.strength.value for e in evidence}


EXPECTED = {
    # the registry: versions, a description, an approval gate a recent version passed
    ("registry.model_registered", "model-package-group/churn", "model-package-group/churn"): "active",
    ("registry.model_registered", "model-package-group/fraud-detector",
     "model-package-group/fraud-detector"): "active",
    ("registry.model_documented", "model-package-group/churn", "model-package-group/churn"): "declared",
    ("ci.gated_release", "model-package-group/churn", "model-package-group/churn"): "verified",
    # pipelines: the training pipeline ran and succeeded, the scoring one never ran
    ("pipeline.orchestrated", "pipeline/churn-training", "pipeline/churn-training"): "verified",
    ("pipeline.data_preparation", "pipeline/churn-training", "pipeline/churn-training"): "verified",
    ("quality.model_validation", "pipeline/churn-training", "pipeline/churn-training"): "verified",
    ("pipeline.orchestrated", "pipeline/churn-batch-scoring", "pipeline/churn-batch-scoring"): "declared",
    # endpoints: InService, a 90/10 split, data capture, an autoscaled variant
    ("serving.model_server", "endpoint/churn-prod", "endpoint/churn-prod"): "active",
    ("serving.model_server", "endpoint/fraud-prod", "endpoint/fraud-prod"): "active",
    ("serving.progressive_delivery", "endpoint/churn-prod", "endpoint/churn-prod"): "active",
    ("monitor.model_metrics", "endpoint/churn-prod", "endpoint/churn-prod"): "active",
    ("serving.autoscaling", "endpoint/churn-prod", "scalable-target"): "active",
    # Model Monitor (recorded): recent completed runs verify, scheduled only is active
    ("monitor.drift_detection", "endpoint/churn-prod",
     "monitoring-schedule/churn-prod-data-quality"): "verified",
    ("monitor.drift_detection", "endpoint/churn-prod",
     "monitoring-schedule/churn-prod-model-quality"): "verified",
    ("quality.bias_explainability", "endpoint/fraud-prod", "monitoring-schedule/fraud-prod-bias"): "active",
    ("quality.bias_explainability", "endpoint/legacy-prod",
     "monitoring-schedule/legacy-prod-explainability"): "declared",
    # EventBridge: a schedule (the pipeline succeeded since), a drift alarm, new data
    ("retrain.scheduled", "pipeline/churn-training", "rule/churn-weekly-retrain"): "verified",
    ("retrain.on_alert", "pipeline/churn-training", "rule/churn-retrain-on-drift"): "active",
    ("retrain.on_data_change", "pipeline/churn-training", "rule/churn-retrain-on-new-data"): "active",
    # CloudWatch alarms on Model Monitor and endpoint metrics
    ("monitor.drift_alert_rule", "endpoint/churn-prod", "alarm:churn-feature-drift"): "active",
    ("monitor.model_alert_rule", "endpoint/churn-prod", "alarm:churn-prod-5xx"): "active",
    ("governance.model_card", "model-card/churn", "model-card/churn"): "active",
    ("governance.model_card", "model-card/fraud-detector", "model-card/fraud-detector"): "declared",
}


def test_account_gives_evidence_with_live_strengths(account: AwsStack) -> None:
    evidence, status = scan(account)
    assert status.status == SourceState.ok, status.reason
    assert status.unavailable_signals == []
    assert strengths(evidence) == EXPECTED


def test_evidence_says_why(account: AwsStack) -> None:
    evidence, _ = scan(account)
    by = {(e.signal, e.subject.rsplit("/", 1)[-1], e.attributes.get("schedule") or e.attributes.get("rule")
           or e.attributes.get("alarm")): e for e in evidence}
    gate = by[("ci.gated_release", "churn", None)]
    assert gate.attributes["versions"] == 4
    assert (gate.attributes["approved_versions"], gate.attributes["pending_versions"],
            gate.attributes["rejected_versions"]) == (2, 1, 1)
    assert gate.links == ["model:churn"]
    split = by[("serving.progressive_delivery", "churn-prod", None)]
    assert split.attributes["traffic"] == {"champion": 90.0, "challenger": 10.0}
    assert "90.0% to champion, 10.0% to challenger" in split.summary
    capture = by[("monitor.model_metrics", "churn-prod", None)]
    assert capture.attributes["sampling_percent"] == 20
    assert capture.attributes["destination"] == "s3://acme-ml-monitoring/churn-prod/capture"
    quality = by[("monitor.drift_detection", "churn-prod", "churn-prod-data-quality")]
    assert quality.attributes["completed_in_lookback"] == 5
    assert quality.attributes["with_violations"] == 1
    failing = by[("monitor.drift_detection", "churn-prod", "churn-prod-model-quality")]
    assert failing.attributes["last_execution_status"] == "Failed"  # but it completed two days ago
    schedule = by[("retrain.scheduled", "churn-training", "churn-weekly-retrain")]
    assert schedule.attributes["cron"] == "cron(0 3 ? * MON *)"
    alert = by[("retrain.on_alert", "churn-training", "churn-retrain-on-drift")]
    assert alert.attributes["alarms"] == ["churn-feature-drift"]
    pipeline = by[("pipeline.orchestrated", "churn-training", None)]
    assert pipeline.attributes["steps"] == ["prepare", "train", "evaluate", "register"]
    assert pipeline.attributes["framework"] == "sagemaker"
    assert pipeline.locator == "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-training"
    # nothing from what is not ML: the disabled rule, the report rule, the billing alarm
    rules = {e.attributes.get("rule") for e in evidence}
    assert "old-retrain" not in rules and "nightly-report" not in rules
    assert not [e for e in evidence if e.attributes.get("alarm") == "billing-over-budget"]


def test_requests_do_not_grow_with_model_packages(account: AwsStack) -> None:
    sagemaker = account.client("sagemaker", "eu-west-1")
    for index in range(3):
        sagemaker.create_model_package_group(ModelPackageGroupName=f"segment-{index}")
        for _ in range(40):
            sagemaker.create_model_package(ModelPackageGroupName=f"segment-{index}",
                                           ModelApprovalStatus="Approved")
    account.state.requests.clear()
    evidence, status = scan(account)
    operations = [op for _, _, op in account.state.requests]
    assert operations.count("ListModelPackages") == 2  # 126 versions, 100 a page
    assert operations.count("ListModelPackageGroups") == 1
    assert not [op for op in operations if op.startswith("DescribeModelPackage")]
    assert status.requests == len(account.state.requests)
    segment = next(e for e in evidence if e.subject.endswith("model-package-group/segment-2"))
    assert segment.attributes["versions"] == 40


def test_recorded_monitoring_responses_are_paginated(account: AwsStack) -> None:
    evidence, status = scan(account, page_size=2)
    assert status.status == SourceState.ok
    stubbed = account.state.operations("ListMonitoringExecutions")
    assert len(stubbed) == 4  # 7 executions in the window, two a page
    assert len([e for e in evidence if e.signal == "monitor.drift_detection"]) == 2


def test_nothing_is_verified_or_active_long_after(account: AwsStack) -> None:
    later = datetime.now(UTC) + timedelta(days=400)
    evidence, _ = scan(account, now=later)
    by_signal: dict[str, set[Strength]] = {}
    for e in evidence:
        by_signal.setdefault(e.signal, set()).add(e.strength)
    assert by_signal["pipeline.orchestrated"] == {Strength.declared}
    assert by_signal["registry.model_registered"] == {Strength.declared}
    assert by_signal["ci.gated_release"] == {Strength.active}  # a version still awaits approval
    assert by_signal["retrain.scheduled"] == {Strength.active}  # enabled, no recent success
    # no execution in the window any more: a schedule that is still scheduled is active
    assert by_signal["monitor.drift_detection"] == {Strength.active}


def test_levels_rise_with_the_account(account: AwsStack) -> None:
    now = datetime.now(UTC)
    evidence, status = scan(account, now=now)
    result = assess(load_rules(), evidence, [status], now=now, target="aws-prod")
    met = {c for c, r in result.capabilities.items() if r.status.value == "met"}
    assert {"model_registry", "model_versioning", "gated_release", "orchestrated_pipeline",
            "automated_training", "retraining_trigger", "retraining_on_production_metrics",
            "production_model_monitoring", "drift_alerting", "post_deployment_metrics",
            "managed_serving", "progressive_delivery", "scalable_serving", "model_validation",
            "model_documentation", "bias_and_explainability", "automated_data_pipeline",
            "ml_metadata", "pipeline_deployment", "scheduled_jobs"} <= met
    assert result.capabilities["code_review"].status.value == "unknown"  # no repository scanned
