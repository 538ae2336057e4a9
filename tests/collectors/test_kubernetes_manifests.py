"""The kubernetes collector offline: `manifests:` files judged like a live cluster's objects.

Fixtures in tests/fixtures/kubernetes/manifests: a multi-document file, a `kind: List`,
a `kubectl get -A -o yaml` dump, `helm template` output, a JSON object and a broken file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from k8s_server import FIXTURES

from conftest import by_signal, detect
from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.kubernetes import KubernetesCollector, KubernetesSource
from maturity_probe.detectors.context import Finding
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from support import NOW

MANIFESTS = FIXTURES / "manifests"


def scan(path: Path) -> tuple[list[Evidence], SourceStatus]:
    config = KubernetesSource(name="deploy", manifests=path)
    return run_collector(KubernetesCollector(config, CollectContext(now=NOW)))


def test_every_manifest_format_is_read_and_declared() -> None:
    evidence, status = scan(MANIFESTS)
    assert status.status == SourceState.ok and status.requests == 0
    assert {e.strength for e in evidence} == {Strength.declared}
    got = {(e.signal, e.subject.removeprefix("k8s:deploy/"), e.locator) for e in evidence}
    assert got == {
        # multi-document YAML
        ("serving.model_server", "ml-serving/InferenceService/churn", "serving/churn.yaml:12"),
        ("serving.progressive_delivery", "ml-serving/InferenceService/churn", "serving/churn.yaml:15"),
        ("serving.autoscaling", "ml-serving/InferenceService/churn", "serving/churn.yaml:14"),
        ("monitor.drift_alert_rule", "monitoring/PrometheusRule/churn-alerts", "serving/churn.yaml:37"),
        ("monitor.model_alert_rule", "monitoring/PrometheusRule/churn-alerts", "serving/churn.yaml:45"),
        # `kind: List`: the CronJob that trains, not the one that mails a report
        ("retrain.scheduled", "ml-training/CronJob/churn-retrain", "training/schedules.yaml:12"),
        # `kubectl get -A -o yaml` dump
        ("serving.model_server", "ml-serving/Deployment/fraud-triton", "dumps/kubectl-get-all.yaml:40"),
        ("serving.autoscaling", "ml-serving/HorizontalPodAutoscaler/fraud-triton",
         "dumps/kubectl-get-all.yaml:88"),
        # `helm template` output (no namespace)
        ("serving.model_server", "Rollout/ranker", "helm/rendered.yaml:37"),
        ("serving.progressive_delivery", "Rollout/ranker", "helm/rendered.yaml:45"),
        ("monitor.model_metrics", "ServiceMonitor/ranker", "helm/rendered.yaml:63"),
        # JSON
        ("retrain.scheduled", "ml-training/CronWorkflow/fraud-nightly", "json/pipeline.json:1"),
        ("pipeline.orchestrated", "ml-training/CronWorkflow/fraud-nightly", "json/pipeline.json:1"),
        ("pipeline.data_preparation", "ml-training/CronWorkflow/fraud-nightly", "json/pipeline.json:1"),
    }


def test_summaries_name_the_file_and_link_the_model() -> None:
    evidence, _ = scan(MANIFESTS)
    cron = next(e for e in evidence if e.subject == "k8s:deploy/ml-training/CronJob/churn-retrain")
    assert cron.summary == ("CronJob `churn-retrain` in training/schedules.yaml trains on schedule "
                            "`0 3 * * 1`: it runs train.py")
    assert (cron.path, cron.line) == ("training/schedules.yaml", 12)
    assert cron.attributes["model"] == "churn" and cron.links == ["model:churn"]
    rollout = [e for e in evidence if e.subject == "k8s:deploy/Rollout/ranker"]
    assert {e.attributes.get("model") for e in rollout} == {"ranker"}  # shared by both findings


def test_a_broken_file_is_a_warning_with_its_line_and_the_rest_is_read() -> None:
    _, status = scan(MANIFESTS)
    assert status.warnings == ["broken.yaml:6: invalid YAML, ignored: expected ',' or '}', but got ':'"]


def test_a_single_file_can_be_given(tmp_path: Path) -> None:
    evidence, status = scan(MANIFESTS / "training" / "schedules.yaml")
    assert status.status == SourceState.ok
    assert [(e.signal, e.locator) for e in evidence] == [("retrain.scheduled", "schedules.yaml:12")]


def test_a_missing_directory_fails_the_source(tmp_path: Path) -> None:
    evidence, status = scan(tmp_path / "deploy")
    assert evidence == []
    assert (status.status, status.reason) == (SourceState.failed,
                                              f"{tmp_path / 'deploy'}: no such file or directory")


def test_manifests_are_judged_like_the_repository_detectors_judge_them(make_repo: object,
                                                                      tmp_path: Path) -> None:
    """The same YAML in a repository and in `manifests:` gives the same findings."""
    root = tmp_path / "repo"
    for name in ("serving", "training", "helm"):
        shutil.copytree(MANIFESTS / name, root / name)
    repo_findings: list[Finding] = detect(root)
    evidence, _ = scan(root)
    for signal in ("serving.model_server", "serving.progressive_delivery", "serving.autoscaling",
                   "retrain.scheduled", "monitor.drift_alert_rule", "monitor.model_alert_rule",
                   "monitor.model_metrics"):
        from_repo = {(f.path, f.line, f.summary) for f in by_signal(repo_findings, signal)}
        from_manifests = {(e.path, e.line, e.summary) for e in evidence if e.signal == signal}
        assert from_manifests == from_repo, signal
