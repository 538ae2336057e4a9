"""The kubernetes collector against a local API server serving recorded responses.

The real `kubernetes` client talks over HTTP to tests/collectors/k8s_server.py, which
answers discovery and paginated lists at the paths the client requests, from the
recorded cluster in tests/fixtures/kubernetes (KServe, Seldon, model-server workloads,
CronJobs and their Jobs, Argo Workflows / CronWorkflows / WorkflowTemplates / Rollouts
/ Sensors / Applications, a KFP ScheduledWorkflow, a Flagger canary, HPAs,
PrometheusRules, ServiceMonitors). The scan clock is 2026-06-01 12:00 UTC, the
lookback 90 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from k8s_server import RunningServer, forbidden, internal_error, recorded_state, remove_group, serve

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.kubernetes import KubernetesCollector, KubernetesSource
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from support import NOW

SERVING = ["serving.autoscaling", "serving.model_server", "serving.progressive_delivery"]


@pytest.fixture
def cluster() -> Iterator[RunningServer]:
    with serve(recorded_state()) as server:
        yield server


def scan(server: RunningServer, tmp_path: Path, **options: object
         ) -> tuple[list[Evidence], SourceStatus]:
    config = KubernetesSource(name="prod-cluster", kubeconfig=server.kubeconfig(tmp_path),
                              **options)  # type: ignore[arg-type]
    return run_collector(KubernetesCollector(config, CollectContext(now=NOW)))


def found(evidence: list[Evidence]) -> dict[tuple[str, str], Evidence]:
    return {(e.signal, e.subject.removeprefix("k8s:prod-cluster/")): e for e in evidence}


def strengths(evidence: list[Evidence]) -> dict[tuple[str, str], str]:
    return {key: e.strength.value for key, e in found(evidence).items()}


EXPECTED = {
    # serving: Ready / available replicas make it active; not Ready stays declared
    ("serving.model_server", "ml-serving/InferenceService/churn"): "active",
    ("serving.model_server", "ml-serving/InferenceService/sentiment"): "declared",
    ("serving.model_server", "ml-serving/SeldonDeployment/credit-risk"): "active",
    ("serving.model_server", "ml-serving/Deployment/fraud-triton"): "active",
    ("serving.model_server", "ml-serving/Deployment/recsys-torchserve"): "declared",
    ("serving.model_server", "ml-serving/StatefulSet/llm-vllm"): "active",
    ("serving.model_server", "ml-serving/Rollout/ranker"): "active",
    # traffic splitting: a canary analysis or rollout that completed recently is verified
    ("serving.progressive_delivery", "ml-serving/Canary/fraud-triton"): "verified",
    ("serving.progressive_delivery", "ml-serving/Rollout/ranker"): "verified",
    ("serving.progressive_delivery", "ml-serving/InferenceService/churn"): "active",
    ("serving.progressive_delivery", "ml-serving/SeldonDeployment/credit-risk"): "active",
    ("serving.autoscaling", "ml-serving/HorizontalPodAutoscaler/fraud-triton"): "active",
    ("serving.autoscaling", "ml-serving/HorizontalPodAutoscaler/llm-vllm"): "declared",
    ("serving.autoscaling", "ml-serving/InferenceService/churn"): "active",
    # schedules: last success in the window verified, scheduled only active, stale declared
    ("retrain.scheduled", "ml-training/CronJob/churn-retrain"): "verified",
    ("retrain.scheduled", "ml-training/CronJob/fraud-retrain-weekly"): "active",
    ("retrain.scheduled", "ml-training/CronJob/legacy-scorer-retrain"): "verified",
    ("retrain.scheduled", "ml-training/CronJob/ltv-retrain"): "declared",
    ("retrain.scheduled", "ml-training/CronWorkflow/churn-pipeline-nightly"): "verified",
    ("retrain.scheduled", "kubeflow-user/ScheduledWorkflow/recsys-weekly"): "verified",
    ("retrain.on_alert", "ml-training/Sensor/drift-retrain"): "verified",
    ("pipeline.orchestrated", "ml-training/CronWorkflow/churn-pipeline-nightly"): "verified",
    ("pipeline.orchestrated", "ml-training/WorkflowTemplate/fraud-training-pipeline"): "verified",
    ("pipeline.orchestrated", "kubeflow-user/Workflow/sentiment-train-pipeline"): "active",
    ("pipeline.data_preparation", "ml-training/CronWorkflow/churn-pipeline-nightly"): "verified",
    ("pipeline.data_preparation", "ml-training/WorkflowTemplate/fraud-training-pipeline"): "verified",
    ("pipeline.data_preparation", "kubeflow-user/Workflow/sentiment-train-pipeline"): "active",
    # the template registers only when the evaluation's AUC clears 0.91 (`when`)
    ("quality.model_validation", "ml-training/WorkflowTemplate/fraud-training-pipeline"): "verified",
    ("ci.model_deployment_job", "argocd/Application/churn-serving"): "verified",
    ("monitor.drift_alert_rule", "monitoring/PrometheusRule/model-alerts"): "declared",
    ("monitor.model_alert_rule", "monitoring/PrometheusRule/model-alerts"): "declared",
    ("monitor.model_metrics", "monitoring/ServiceMonitor/fraud-triton"): "declared",
}


def test_recorded_cluster_gives_evidence_with_live_strengths(cluster: RunningServer,
                                                             tmp_path: Path) -> None:
    evidence, status = scan(cluster, tmp_path)
    assert status.status == SourceState.ok, status.reason
    assert status.unavailable_signals == []
    assert strengths(evidence) == EXPECTED


def test_what_is_not_ml_or_not_automated_gives_no_evidence(cluster: RunningServer,
                                                           tmp_path: Path) -> None:
    evidence, _ = scan(cluster, tmp_path)
    subjects = {e.subject for e in evidence}
    for absent in ("kube-system/CronJob/etcd-backup",            # backs up etcd, trains nothing
                   "ml-training/CronJob/feature-backfill-train",  # suspended
                   "kserve/Deployment/kserve-controller-manager",  # control plane, not a server
                   "monitoring/Deployment/grafana",
                   "ml-serving/Deployment/fraud-api",              # an API image, no known server
                   "ml-serving/Deployment/churn-predictor-00007-deployment",  # owned by KServe
                   "ci/Workflow/ci-build-frontend",                # a CI workflow, no ML step
                   "argocd/Application/fraud-serving",             # manual sync
                   "argocd/Application/monitoring-stack",          # deploys no model server
                   "monitoring/PrometheusRule/kubernetes-apps",
                   "monitoring/ServiceMonitor/node-exporter"):
        assert f"k8s:prod-cluster/{absent}" not in subjects, absent


def test_evidence_says_why_and_links_models_and_repositories(cluster: RunningServer,
                                                             tmp_path: Path) -> None:
    evidence = found(scan(cluster, tmp_path)[0])
    cron = evidence[("retrain.scheduled", "ml-training/CronJob/churn-retrain")]
    assert cron.summary.startswith("CronJob `churn-retrain` in namespace ml-training trains on "
                                   "schedule `0 3 * * 1`")
    assert cron.summary.endswith("a run succeeded on 2026-05-25")
    assert cron.attributes["cron"] == "0 3 * * 1"
    assert cron.attributes["last_success"] == "2026-05-25T03:41:12+00:00"
    assert cron.occurred_at is not None and cron.occurred_at.isoformat() == "2026-05-25T03:41:12+00:00"
    assert cron.locator.endswith("/apis/batch/v1/namespaces/ml-training/cronjobs/churn-retrain")
    assert cron.path is None and cron.line is None
    assert cron.attributes["model"] == "churn" and "model:churn" in cron.links

    failing = evidence[("retrain.scheduled", "ml-training/CronJob/fraud-retrain-weekly")]
    assert failing.attributes["last_run_phase"] == "Failed"
    assert "no success in the last 90 days" in failing.summary

    isvc = evidence[("serving.model_server", "ml-serving/InferenceService/churn")]
    assert isvc.attributes["storage_uri"] == "s3://acme-ml-models/models/churn/7"
    assert isvc.attributes["model"] == "churn"
    triton = evidence[("serving.model_server", "ml-serving/Deployment/fraud-triton")]
    assert triton.attributes["model"] == "fraud-detector"  # the `model` label
    assert triton.attributes["server"] == "triton"

    argocd = evidence[("ci.model_deployment_job", "argocd/Application/churn-serving")]
    assert argocd.links == ["github:acme/churn-serving"]
    assert argocd.attributes["deploys"] == ["InferenceService `churn`"]
    assert argocd.occurred_at is not None and argocd.occurred_at.date().isoformat() == "2026-05-31"

    adhoc = evidence[("pipeline.orchestrated", "kubeflow-user/Workflow/sentiment-train-pipeline")]
    assert adhoc.attributes["framework"] == "kubeflow"
    assert "train" in adhoc.attributes["steps"]  # type: ignore[operator]


def test_lists_are_paginated_and_requests_do_not_grow_per_object(cluster: RunningServer,
                                                                 tmp_path: Path) -> None:
    evidence, status = scan(cluster, tmp_path, page_size=2)
    assert strengths(evidence) == EXPECTED  # nothing lost across pages
    requests = cluster.state.requests
    continued = [r for r in requests if r.startswith("/apis/apps/v1/deployments?")]
    assert len(continued) == 3  # six Deployments, two a page
    assert "continue=" in continued[1] and "continue=" in continued[2]
    assert status.requests == len(requests)
    # one discovery request, then only list pages: never a request per object
    assert requests[0] == "/apis/"
    assert all("limit=2" in r for r in requests[1:])


def test_missing_crds_are_absent_not_failures(tmp_path: Path) -> None:
    state = recorded_state()
    for group in ("serving.kserve.io", "machinelearning.seldon.io", "flagger.app", "kubeflow.org"):
        remove_group(state, group)
    with serve(state) as server:
        evidence, status = scan(server, tmp_path)
    assert status.status == SourceState.ok and status.unavailable_signals == []
    kinds = {e.subject.split("/")[2] for e in evidence}
    assert "InferenceService" not in kinds and "Canary" not in kinds
    assert "CronJob" in kinds and "Rollout" in kinds
    assert not [r for r in state.requests if "kserve" in r or "flagger" in r]


def test_a_403_on_one_kind_makes_its_signals_unknown_and_keeps_the_rest(tmp_path: Path) -> None:
    state = recorded_state()
    path = "/apis/machinelearning.seldon.io/v1/seldondeployments"
    state.failures[path] = forbidden("seldondeployments", "machinelearning.seldon.io")
    with serve(state) as server:
        evidence, status = scan(server, tmp_path)
    assert status.status == SourceState.partial
    assert status.reason.startswith("HTTP 403 Forbidden listing "
                                    "seldondeployments.machinelearning.seldon.io in all namespaces: ")
    assert "\n" not in status.reason
    assert status.unavailable_signals == SERVING
    assert [r for r in state.requests if r.startswith(path)] == [f"{path}?limit=500"]  # no retry
    got = strengths(evidence)
    assert ("serving.model_server", "ml-serving/SeldonDeployment/credit-risk") not in got
    assert got[("serving.model_server", "ml-serving/InferenceService/churn")] == "active"
    assert got[("retrain.scheduled", "ml-training/CronJob/churn-retrain")] == "verified"


def test_a_500_is_retried_then_the_kind_is_unknown(tmp_path: Path) -> None:
    state = recorded_state()
    canaries = "/apis/flagger.app/v1beta1/canaries"
    workflows = "/apis/argoproj.io/v1alpha1/workflowtemplates"
    state.failures[canaries] = internal_error()          # for good
    state.failures[workflows] = internal_error(times=1)  # once, then answers
    with serve(state) as server:
        evidence, status = scan(server, tmp_path, max_retries=2)
    assert status.status == SourceState.partial
    assert status.reason == ("HTTP 500 Internal Server Error listing canaries.flagger.app in all "
                             "namespaces: Internal error occurred: etcdserver: request timed out")
    assert status.unavailable_signals == ["serving.progressive_delivery"]
    assert len([r for r in state.requests if r.startswith(canaries)]) == 3  # 1 + 2 retries
    assert len([r for r in state.requests if r.startswith(workflows)]) == 2
    got = strengths(evidence)
    assert got[("pipeline.orchestrated", "ml-training/WorkflowTemplate/fraud-training-pipeline")] \
        == "verified"
    assert ("serving.progressive_delivery", "ml-serving/Canary/fraud-triton") not in got


def test_servers_without_aggregated_discovery_are_asked_group_by_group(tmp_path: Path) -> None:
    state = recorded_state()
    state.aggregated = False
    state.failures["/apis/flagger.app/v1beta1"] = forbidden("", "flagger.app")
    with serve(state) as server:
        evidence, status = scan(server, tmp_path)
    discovery = [r for r in state.requests if "limit=" not in r]
    assert "/apis/serving.kserve.io/v1beta1" in discovery
    assert "/apis/networking.k8s.io/v1" not in discovery  # only the groups it reads
    assert status.status == SourceState.partial
    assert status.reason.startswith("HTTP 403 Forbidden /apis/flagger.app/v1beta1")
    assert status.unavailable_signals == ["serving.progressive_delivery"]
    expected = {k: v for k, v in EXPECTED.items() if k[1] != "ml-serving/Canary/fraud-triton"}
    assert strengths(evidence) == expected


def test_a_stale_aggregated_group_is_asked_directly(tmp_path: Path) -> None:
    state = recorded_state()
    state.stale = {"serving.kserve.io/v1beta1"}
    with serve(state) as server:
        evidence, status = scan(server, tmp_path)
    assert "/apis/serving.kserve.io/v1beta1" in state.requests
    assert status.status == SourceState.ok
    assert strengths(evidence) == EXPECTED


def test_configured_namespaces_are_listed_one_by_one(cluster: RunningServer,
                                                     tmp_path: Path) -> None:
    evidence, status = scan(cluster, tmp_path, namespaces=["ml-serving"])
    assert status.status == SourceState.ok
    lists = [r.split("?")[0] for r in cluster.state.requests[1:]]
    assert "/apis/serving.kserve.io/v1beta1/namespaces/ml-serving/inferenceservices" in lists
    assert "/apis/argoproj.io/v1alpha1/clusterworkflowtemplates" in lists  # cluster-scoped
    assert {e.subject.split("/")[1] for e in evidence} == {"ml-serving"}


def test_levels_rise_with_the_cluster_and_are_unknown_when_it_fails(cluster: RunningServer,
                                                                    tmp_path: Path) -> None:
    rules = load_rules()
    evidence, status = scan(cluster, tmp_path)
    result = assess(rules, evidence, [status], now=NOW, target="prod-cluster")
    met = {c for c, r in result.capabilities.items() if r.status.value == "met"}
    assert {"managed_serving", "progressive_delivery", "scalable_serving", "retraining_trigger",
            "scheduled_jobs", "orchestrated_pipeline", "automated_training", "pipeline_deployment",
            "automated_model_deployment", "automated_data_pipeline", "production_model_monitoring",
            "drift_alerting", "retraining_on_production_metrics", "post_deployment_metrics",
            "ml_metadata", "model_validation"} <= met
    # what only a repository shows is unknown here, not absent
    assert result.capabilities["code_review"].status.value == "unknown"

    config = KubernetesSource(name="prod-cluster", kubeconfig=tmp_path / "missing.yaml")
    failed_evidence, failed = run_collector(KubernetesCollector(config, CollectContext(now=NOW)))
    assert failed.status == SourceState.failed and failed_evidence == []
    blind = assess(rules, [], [failed], now=NOW, target="prod-cluster")
    assert blind.capabilities["managed_serving"].status.value == "unknown"
    assert "prod-cluster failed" in (blind.capabilities["managed_serving"].reason or "")
    google = blind.maturity["google"]
    assert google.level == 0 and google.at_least


def test_verified_evidence_needs_a_recent_success(cluster: RunningServer, tmp_path: Path) -> None:
    later = NOW.replace(year=2027)  # every run is now older than the lookback window
    config = KubernetesSource(name="prod-cluster", kubeconfig=cluster.kubeconfig(tmp_path))
    evidence, _ = run_collector(KubernetesCollector(config, CollectContext(now=later)))
    assert {e.strength for e in evidence} == {Strength.declared, Strength.active}
    got = strengths(evidence)
    assert got[("retrain.scheduled", "ml-training/CronJob/churn-retrain")] == "declared"
    assert got[("retrain.on_alert", "ml-training/Sensor/drift-retrain")] == "active"  # deployed
