"""The prometheus collector against real Prometheus servers started by the tests.

`monitored` scrapes a model server (churn and fraud serve traffic, legacy only reports
accuracy) and loads serving, drift, quality, broken and infrastructure rules; alerts are
routed to an Alertmanager. `serving_only` scrapes a KServe-like job whose model label is
`ml_model` and has serving rules but no drift monitoring and no Alertmanager. `bare` has no
rules and no targets.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_server import (
    FIXTURES,
    RULES,
    ModelServer,
    PrometheusServer,
    Scan,
    ServedModel,
    free_port,
    running,
    scan,
)

from maturity_probe.assessment import Assessment, Status
from maturity_probe.evidence import Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules

SERVER = "prometheus:prod-prom"
CHURN, FRAUD, LEGACY = (f"{SERVER}/model/{m}" for m in ("churn", "fraud", "legacy"))
RULE_SET = load_rules()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PrometheusServer]]:
    root = tmp_path_factory.mktemp("prometheus")
    models = ModelServer(
        {
            "churn": ServedModel(requests_per_second=20, drift_share=0.62, accuracy=0.91, skew_ratio=0.4),
            "fraud": ServedModel(requests_per_second=5, accuracy=0.86),
            "legacy": ServedModel(accuracy=0.93),
        }
    )
    ranker = ModelServer({"ranker": ServedModel(requests_per_second=8, label="ml_model")})
    monitored = PrometheusServer(
        root / "monitored",
        rule_files=[RULES / f for f in ("serving.yml", "drift.yml", "quality.yml", "broken.yml", "node.yml")],
        targets={"model-server": [models.address]},
        alertmanager=True,
    )
    serving_only = PrometheusServer(
        root / "serving-only", rule_files=[RULES / "serving.yml"],
        # a Triton job whose only target is gone: nothing listens on a fresh free port
        targets={"kserve-ranker": [ranker.address], "triton-canary": [f"127.0.0.1:{free_port()}"]},
    )
    bare = PrometheusServer(root / "bare")
    with models, ranker, running(monitored, serving_only, bare):
        # the first scrape comes ~5 s after start; the drift alert fires at its next evaluation
        monitored.wait_for(
            lambda: monitored.rule("ChurnFeatureDrift").get("state") == "firing", "firing ChurnFeatureDrift"
        )
        monitored.wait_for(
            lambda: monitored.rule("ModelPredictionsStalled").get("health") == "err",
            "evaluating the broken rules",
        )
        for server in (monitored, serving_only):
            server.wait_for(
                lambda s=server: bool(s.query("rate(model_predictions_total[1m]) > 0")), "with a request rate"
            )
            server.wait_for(
                lambda s=server: bool(s.query("model:predictions:rate1m")), "with recorded series"
            )
        yield {"monitored": monitored, "serving_only": serving_only, "bare": bare}


@pytest.fixture(scope="module")
def monitored(servers: dict[str, PrometheusServer]) -> Scan:
    return scan(servers["monitored"].url)


def levels(result: Scan) -> Assessment:
    return assess(RULE_SET, result.evidence, [result.status], now=datetime.now(UTC), target="t")


# -- drift monitors ------------------------------------------------------------------------------


def test_a_drift_alert_that_fired_is_verified_and_linked_to_its_model(monitored: Scan) -> None:
    item = monitored.one("monitor.drift_alert_rule", CHURN, alert="ChurnFeatureDrift")
    assert item.strength == Strength.verified
    assert item.attributes["alerts_fired"] >= 1 and item.attributes["last_fired"]
    assert item.attributes["broken"] is False and item.attributes["routed"] is True
    assert item.attributes["model"] == "churn" and "model:churn" in item.links
    assert item.occurred_at is not None
    assert "firing now; fired 1 time in the last 30 days" in item.summary
    assert item.locator.endswith("/alerts?search=ChurnFeatureDrift#model-drift")


def test_a_drift_rule_on_a_metric_that_does_not_exist_is_declared_and_broken(monitored: Scan) -> None:
    item = monitored.one("monitor.drift_alert_rule", FRAUD, alert="FraudPredictionDrift")
    assert item.strength == Strength.declared
    assert item.attributes["broken"] is True
    assert item.attributes["missing_metrics"] == ["fraud_prediction_drift_psi"]
    assert "configured but not working" in item.summary
    assert any(
        "FraudPredictionDrift" in w and "fraud_prediction_drift_psi" in w for w in monitored.status.warnings
    )


def test_a_broken_drift_rule_does_not_count_as_drift_alerting(monitored: Scan) -> None:
    broken = monitored.one("monitor.drift_alert_rule", FRAUD, alert="FraudPredictionDrift")
    alone = Scan([broken], monitored.status)
    assert levels(alone).capabilities["drift_alerting"].status == Status.unmet
    assert levels(alone).capabilities["production_model_monitoring"].status == Status.unmet


def test_rules_that_fail_to_evaluate_are_reported_as_not_working(monitored: Scan) -> None:
    for alert, error in (
        ("ModelLatencyRatioHigh", "many-to-many matching not allowed"),
        ("ModelPredictionsStalled", "same labelset after applying alert labels"),
    ):
        items = monitored.of("monitor.model_alert_rule", alert=alert)
        assert {i.subject for i in items} == {CHURN, FRAUD}, alert
        for item in items:
            assert item.strength == Strength.declared
            assert item.attributes["broken"] is True and item.attributes["health"] == "err"
            assert error in item.attributes["problem"]
        assert any(alert in w and "evaluation fails" in w for w in monitored.status.warnings)


def test_quality_monitor_is_active_and_verified_where_the_model_serves_traffic(monitored: Scan) -> None:
    items = {i.subject: i for i in monitored.of("monitor.model_alert_rule", alert="ModelAccuracyLow")}
    assert set(items) == {CHURN, FRAUD, LEGACY}
    assert items[CHURN].strength == items[FRAUD].strength == Strength.verified
    assert items[LEGACY].strength == Strength.active  # evaluated on live series, no traffic
    assert items[LEGACY].attributes["category"] == "model_quality"
    assert items[LEGACY].attributes["recent_samples"] is True


def test_infrastructure_rules_are_not_model_monitors(monitored: Scan) -> None:
    alerts = {i.attributes.get("alert") for i in monitored.evidence}
    assert not alerts & {"TargetDown", "NodeClockSkewDetected"}
    assert "ChurnFeatureSkewHigh" not in alerts  # only a user pattern makes it drift


def test_user_patterns_extend_the_classification(servers: dict[str, PrometheusServer]) -> None:
    result = scan(servers["monitored"].url, drift_patterns=["skew"])
    item = result.one("monitor.drift_alert_rule", CHURN, alert="ChurnFeatureSkewHigh")
    assert item.strength == Strength.verified
    drift = result.one("monitor.drift_detection", CHURN)
    assert "feature_skew_ratio" in drift.attributes["metrics"]


# -- serving and model metrics ----------------------------------------------------------------------


def test_model_metrics_carry_the_request_rate_of_each_model(monitored: Scan) -> None:
    churn = monitored.one("monitor.model_metrics", CHURN)
    fraud = monitored.one("monitor.model_metrics", FRAUD)
    assert churn.strength == Strength.verified
    assert churn.attributes["request_metric"] == "model_predictions_total"
    assert churn.attributes["request_rate"] > fraud.attributes["request_rate"] > 0
    assert churn.attributes["kinds"] == ["serving", "quality"]
    assert churn.attributes["quality_metrics"] == ["model_accuracy"]
    assert churn.attributes["jobs"] == ["model-server"]
    assert "20" not in churn.summary or "requests/s" in churn.summary
    legacy = monitored.one("monitor.model_metrics", LEGACY)
    assert "request_rate" not in legacy.attributes and legacy.attributes["kinds"] == ["quality"]


def test_drift_series_show_drift_detection(monitored: Scan) -> None:
    item = monitored.one("monitor.drift_detection", CHURN)
    assert item.strength == Strength.verified
    assert item.attributes["metrics"] == ["evidently_drift_share"]
    assert item.attributes["libraries"] == ["evidently"]
    assert not monitored.of("monitor.drift_detection", FRAUD)


def test_the_scraped_model_server_is_live_serving(monitored: Scan) -> None:
    item = monitored.one("serving.model_server")
    assert item.subject == f"{SERVER}/job/model-server"
    assert item.strength == Strength.verified
    assert item.attributes["server"] == "custom" and item.attributes["targets_up"] == 1
    assert item.attributes["models"] == ["churn", "fraud"]
    assert {"model:churn", "model:fraud"} <= set(item.links)


def test_coverage_summary_and_kpis(monitored: Scan) -> None:
    summary = monitored.one("monitor.model_metrics", SERVER)
    assert summary.attributes["served_models"] == 2
    assert summary.attributes["drift_monitor_share"] == 50.0
    assert summary.attributes["quality_monitor_share"] == 100.0
    assert summary.attributes["models_without_drift_monitor"] == ["fraud"]
    assert summary.attributes["broken_monitor_rules"] == 3
    kpis = {(k.id, k.subject): k.value for k in levels(monitored).kpis}
    assert kpis[("drift_monitor_share", SERVER)] == 50.0
    assert kpis[("quality_monitor_share", SERVER)] == 100.0
    assert (kpis[("model_request_rate", CHURN)] or 0) > 0
    assert (kpis[("drift_alerts_fired", CHURN)] or 0) >= 1
    assert kpis[("drift_alerts_fired", FRAUD)] == 0


def test_live_monitoring_meets_the_monitoring_capabilities(monitored: Scan) -> None:
    capabilities = levels(monitored).capabilities
    for capability in (
        "drift_alerting",
        "production_model_monitoring",
        "post_deployment_metrics",
        "centralized_model_analytics",
        "managed_serving",
        "model_serving",
    ):
        assert capabilities[capability].status == Status.met, capability
    drift = monitored.one("monitor.drift_alert_rule", CHURN, alert="ChurnFeatureDrift")
    assert capabilities["drift_alerting"].evidence == [drift.id]


def test_requests_stay_bounded(monitored: Scan) -> None:
    assert monitored.status.status.value == "ok", monitored.status.reason
    # rules, targets, alertmanagers, runtime info, metadata, 3 metric-name listings, labels in
    # use, serving jobs, ALERTS range, request rates, and the models of the drift metric, the
    # quality metric and the serving metrics
    assert monitored.status.requests == 15


# -- other servers --------------------------------------------------------------------------------


def test_serving_metrics_without_drift_monitoring(servers: dict[str, PrometheusServer]) -> None:
    result = scan(servers["serving_only"].url, model_labels=["ml_model"])
    ranker = f"{SERVER}/model/ranker"
    summary = result.one("monitor.model_metrics", SERVER)
    assert summary.attributes["models"] == ["ranker"]
    assert summary.attributes["drift_monitor_share"] == 0.0
    assert summary.attributes["models_without_drift_monitor"] == ["ranker"]
    assert result.one("monitor.model_metrics", ranker).attributes["request_rate"] > 0
    assert result.one("serving.model_server", f"{SERVER}/job/kserve-ranker").attributes["server"] == "kserve"
    canary = result.one("serving.model_server", f"{SERVER}/job/triton-canary")
    assert canary.strength == Strength.declared and canary.summary.endswith("(triton): 0 of 1 target up")
    assert not result.of("monitor.drift_alert_rule") and not result.of("monitor.drift_detection")
    latency = result.one("monitor.model_alert_rule", ranker, alert="ModelLatencyP99High")
    assert latency.attributes["routed"] is False
    assert any("no Alertmanager" in w for w in result.status.warnings)
    assert any(w.startswith("model server job `triton-canary`: its target is down (")
               for w in result.status.warnings), result.status.warnings
    capabilities = levels(result).capabilities
    assert capabilities["drift_alerting"].status == Status.unmet
    assert capabilities["post_deployment_metrics"].status == Status.met


def test_without_the_model_label_series_stay_with_their_job(servers: dict[str, PrometheusServer]) -> None:
    result = scan(servers["serving_only"].url)
    job = result.one("monitor.model_metrics", f"{SERVER}/job/kserve-ranker")
    assert job.attributes["job"] == "kserve-ranker" and job.attributes["request_rate"] > 0
    assert not result.of("monitor.model_metrics", SERVER)  # no model: no coverage to report


def test_a_prometheus_without_rules_shows_no_monitoring(servers: dict[str, PrometheusServer]) -> None:
    result = scan(servers["bare"].url)
    assert result.status.status.value == "ok" and result.evidence == []
    capabilities = levels(result).capabilities
    for capability in ("production_model_monitoring", "drift_alerting", "managed_serving"):
        assert capabilities[capability].status == Status.unmet, capability
    # dashboards live in repositories: without a repo source that alternative is unknown
    post_deployment = capabilities["post_deployment_metrics"]
    assert post_deployment.status == Status.unknown
    assert "no repo source was scanned" in (post_deployment.reason or "")


def test_a_failed_reload_is_reported(tmp_path: Path) -> None:
    rule_file = tmp_path / "drift.yml"
    shutil.copy(RULES / "drift.yml", rule_file)
    server = PrometheusServer(tmp_path / "reload", rule_files=[rule_file])
    with running(server):
        server.wait_for(lambda: bool(server.rule("ChurnFeatureDrift")), "with its rules loaded")
        shutil.copy(FIXTURES / "invalid" / "bad_expression.yml", rule_file)
        server.reload()
        server.wait_for(
            lambda: server.get("/api/v1/status/runtimeinfo")["reloadConfigSuccess"] is False,
            "reporting the failed reload",
        )
        result = scan(server.url)
    assert any("configuration reload failed" in w for w in result.status.warnings)
    # the previous rules stay loaded and are still reported
    assert result.of("monitor.drift_alert_rule", alert="ChurnFeatureDrift")
