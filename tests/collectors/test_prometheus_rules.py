"""The rule fixtures are what Prometheus accepts (promtool), and the pieces of the collector
that read PromQL, metric names and target labels.
"""

from __future__ import annotations

import subprocess

import pytest
from prometheus_server import FIXTURES, RULES, promtool_binary

from maturity_probe.collectors.prometheus import (
    expression_metrics,
    metric_kind,
    request_counter_rank,
    server_of_labels,
)
from maturity_probe.detectors.monitoring import classify_alert_rule


@pytest.mark.parametrize("rule_file", sorted(p.name for p in RULES.glob("*.yml")))
def test_rule_fixtures_are_valid_prometheus_rules(rule_file: str) -> None:
    done = subprocess.run(
        [promtool_binary(), "check", "rules", str(RULES / rule_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@pytest.mark.parametrize(
    ("rule_file", "error"),
    [
        ("bad_expression.yml", "could not parse expression"),
        ("bad_label.yml", "invalid label name: model-name"),
    ],
)
def test_invalid_rule_files_are_rejected_by_promtool(rule_file: str, error: str) -> None:
    done = subprocess.run(
        [promtool_binary(), "check", "rules", str(FIXTURES / "invalid" / rule_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert error in done.stdout + done.stderr


def test_web_config_fixture_is_valid() -> None:
    done = subprocess.run(
        [promtool_binary(), "check", "web-config", str(FIXTURES / "web-config.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("expr", "metrics"),
    [
        ('evidently_drift_share{model="churn"} > 0.5', ["evidently_drift_share"]),
        (
            "histogram_quantile(0.99, sum by (le, model) (rate(model_request_duration_seconds_bucket[5m])))"
            " > 0.5",
            ["model_request_duration_seconds_bucket"],
        ),
        (
            "sum(rate(a_total[5m])) by (job) / ignoring(code) group_left sum(rate(b_total[5m] offset 1h))",
            ["a_total", "b_total"],
        ),
        (
            '{__name__="model_accuracy", model=~"churn|fraud"} < 0.8 and on(model) model:up:bool == 1',
            ["model_accuracy", "model:up:bool"],
        ),
        ('label_replace(up{job="x"}, "a", "$1", "b", "(.*)") == bool 0 or vector(1e3) @ start()', ["up"]),
        (
            "time() - training_last_success_timestamp_seconds > 86400 unless absent(x)",
            ["training_last_success_timestamp_seconds", "x"],
        ),
        ("max_over_time(fraud_prediction_drift_psi[1h:5m]) > -inf", ["fraud_prediction_drift_psi"]),
    ],
)
def test_expression_metrics_are_the_selected_series(expr: str, metrics: list[str]) -> None:
    assert expression_metrics(expr) == metrics


@pytest.mark.parametrize(
    ("name", "help_text", "kind"),
    [
        ("evidently_drift_share", "", "drift"),
        ("nannyml_cbpe_roc_auc", "", "drift"),
        ("churn_input_stats", "Population stability index of the churn inputs", "drift"),
        ("model_accuracy", "", "quality"),
        ("model_request_duration_seconds_bucket", "", "serving"),
        ("model_predictions_total", "", "serving"),
        ("nv_inference_request_success", "", "serving"),
        ("seldon_api_executor_server_requests_seconds_count", "", "serving"),
        ("http_requests_total", "", None),
        ("node_timex_offset_seconds", "clock drift", None),
        ("node_cpu_info", "", None),
        ("training_last_success_timestamp_seconds", "", None),
    ],
)
def test_metric_kinds(name: str, help_text: str, kind: str | None) -> None:
    assert metric_kind(name, help_text, {}) == kind


def test_user_patterns_apply_to_metric_names_too() -> None:
    assert metric_kind("feature_skew_ratio", "", {}) is None
    assert metric_kind("feature_skew_ratio", "", {"drift": ["skew"]}) == "drift"
    assert metric_kind("fraud_chargeback_rate", "", {"model_quality": ["^fraud_chargeback"]}) == "quality"


@pytest.mark.parametrize(
    ("name", "rank"),
    [
        ("model_predictions_total", 0),
        ("ts_inference_requests_total", 0),
        (":tensorflow:serving:request_count", 0),
        ("nv_inference_request_success", 0),
        ("model_request_duration_seconds_count", 1),
        ("model_request_errors_total", None),
        ("model_request_duration_seconds_bucket", None),
        ("model_accuracy", None),
    ],
)
def test_request_counters(name: str, rank: int | None) -> None:
    assert request_counter_rank(name) == rank


@pytest.mark.parametrize(
    ("values", "server"),
    [
        (["kserve-ranker"], "kserve"),
        (["models", "seldon-core-system"], "seldon"),
        (["inference", "tritonserver"], "triton"),
        (["tensorflow-serving"], "tf-serving"),
        (["node-exporter", "monitoring"], None),
    ],
)
def test_model_servers_from_target_labels(values: list[str], server: str | None) -> None:
    assert server_of_labels(values) == server


def test_extra_patterns_decide_first_and_keep_the_default_otherwise() -> None:
    rule = ("ChurnFeatureSkewHigh", "max by (model) (feature_skew_ratio) > 1.5", {}, {})
    assert classify_alert_rule(*rule) == "other"
    assert classify_alert_rule(*rule, {"drift": ["skew"]}) == "drift"
    assert classify_alert_rule(*rule, {"drift": [], "model_quality": ["^nothing$"]}) == "other"
    latency = ("ModelLatencyHigh", "model_latency_seconds > 1", {}, {})
    assert classify_alert_rule(*latency, {"pipeline_freshness": ["latency"]}) == "pipeline_freshness"
