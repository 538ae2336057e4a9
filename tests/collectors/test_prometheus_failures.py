"""Failures of the prometheus source: the source fails or is partial with a one-line reason,
the requirements only it could show are unknown, and the scan completes.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from prometheus_server import FakeApi, Reply, free_port, scan, success

from conftest import MakeRepo
from maturity_probe.assessment import Status
from maturity_probe.config import ConfigError, load_config
from maturity_probe.evidence import SourceState, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.run import scan_config

RULES = load_rules()
TOKEN = "tok-9f8e7d6c5b4a"

DRIFT_RULES = {
    "groups": [
        {
            "name": "model-drift",
            "file": "/etc/prometheus/rules/drift.yml",
            "interval": 30,
            "rules": [
                {
                    "type": "alerting",
                    "name": "ChurnFeatureDrift",
                    "state": "inactive",
                    "query": 'evidently_drift_share{model="churn"} > 0.5',
                    "duration": 0,
                    "labels": {"severity": "warning"},
                    "annotations": {},
                    "alerts": [],
                    "health": "ok",
                    "lastError": "",
                    "lastEvaluation": "2026-06-01T11:59:30.123456789Z",
                    "evaluationTime": 0.0004,
                }
            ],
        }
    ],
}


def prometheus_like(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
    if path == "/api/v1/rules":
        return success(path, DRIFT_RULES)
    if path == "/api/v1/label/__name__/values":
        return success(path, ["evidently_drift_share", "up"])
    if path == "/api/v1/alertmanagers":
        return success(
            path,
            {
                "activeAlertmanagers": [{"url": "http://alertmanager:9093/api/v2/alerts"}],
                "droppedAlertmanagers": [],
            },
        )
    return success(path)


def test_unreachable_server_fails_the_source_with_one_line() -> None:
    port = free_port()
    result = scan(f"http://127.0.0.1:{port}")
    assert result.status.status == SourceState.failed
    assert result.status.reason.startswith(f"cannot connect to http://127.0.0.1:{port}")
    assert "\n" not in result.status.reason and result.evidence == []


def test_a_server_that_never_answers_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts connections, never answers
    try:
        started = time.monotonic()
        result = scan(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_seconds=0.5)
        assert time.monotonic() - started < 5
    finally:
        listener.close()
    assert result.status.status == SourceState.failed
    assert result.status.reason.startswith("no answer from http://127.0.0.1:")
    assert result.status.reason.endswith("/api/v1/rules within 0.5s")


def html_page(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
    return 200, {"Content-Type": "text/html"}, b"<html><body><h1>Grafana</h1></body></html>"


def json_without_status(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
    return 200, {"Content-Type": "application/json"}, json.dumps({"data": {"groups": []}}).encode()


@pytest.mark.parametrize(
    ("answer", "what"),
    [
        (html_page, "(HTTP 200, text/html)"),
        (json_without_status, "(HTTP 200, JSON without `status: success`)"),
    ],
)
def test_a_server_that_is_not_prometheus_fails_the_source(answer: object, what: str) -> None:
    with FakeApi(answer) as fake:  # type: ignore[arg-type]
        result = scan(fake.url)
    assert result.status.status == SourceState.failed
    assert result.status.reason == (f"{fake.url}/api/v1/rules did not answer like a Prometheus API {what}")


def test_rate_limited_requests_are_retried_after_retry_after() -> None:
    refused: set[str] = set()
    lock = threading.Lock()

    def answer(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
        with lock:
            first = path not in refused
            refused.add(path)
        if first and path in ("/api/v1/rules", "/api/v1/metadata"):
            return 429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"slow down"
        return prometheus_like(path, handler)

    with FakeApi(answer) as fake:
        started = time.monotonic()
        result = scan(fake.url)
        elapsed = time.monotonic() - started
    assert result.status.status == SourceState.ok, result.status.reason
    assert elapsed >= 1.0  # Retry-After was honoured
    assert result.status.requests == len(fake.requests)
    assert [p for _, p, _ in fake.requests].count("/api/v1/rules") == 2
    drift = result.one("monitor.drift_alert_rule")
    assert drift.attributes["model"] == "churn"


def test_unavailable_server_fails_after_bounded_retries() -> None:
    def answer(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
        return 503, {"Retry-After": "0", "Content-Type": "text/plain"}, b"upstream unavailable"

    with FakeApi(answer) as fake:
        result = scan(fake.url, max_retries=2)
    assert result.status.status == SourceState.failed
    assert result.status.reason == f"{fake.url}/api/v1/rules answered HTTP 503 after 2 retries"
    assert [p for _, p, _ in fake.requests].count("/api/v1/rules") == 3


def test_retry_after_beyond_the_limit_is_not_waited_for() -> None:
    def answer(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
        return 429, {"Retry-After": "3600", "Content-Type": "text/plain"}, b"quota exceeded"

    with FakeApi(answer) as fake:
        result = scan(fake.url, max_retry_wait_seconds=5)
    assert result.status.status == SourceState.failed
    assert "asks to retry after 3600s" in result.status.reason


def test_a_failing_query_makes_the_source_partial() -> None:
    def answer(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
        if path in ("/api/v1/query", "/api/v1/query_range"):
            body = {
                "status": "error",
                "errorType": "timeout",
                "error": "query timed out in expression evaluation",
            }
            return 503, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return prometheus_like(path, handler)

    with FakeApi(answer) as fake:
        result = scan(fake.url, max_retries=0)
    status = result.status
    assert status.status == SourceState.partial
    assert "query timed out in expression evaluation" in status.reason
    assert {"monitor.drift_alert_rule", "monitor.model_alert_rule"} <= set(status.unavailable_signals)
    # the rule is still reported, live (the label index shows its metric) but not known to fire
    drift = result.one("monitor.drift_alert_rule")
    assert drift.strength == Strength.active and "alerts_fired" not in drift.attributes
    capabilities = assess(RULES, result.evidence, [status], now=drift.observed_at, target="t").capabilities
    assert capabilities["drift_alerting"].status == Status.met  # declared is enough there
    assert capabilities["centralized_model_analytics"].status == Status.unknown


def bearer_only(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
    if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
        return 401, {"Content-Type": "text/plain"}, b"Unauthorized"
    return prometheus_like(path, handler)


def test_bearer_token_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROM_TOKEN", TOKEN)
    with FakeApi(bearer_only) as fake:
        result = scan(fake.url, token_env="PROM_TOKEN")
    assert result.status.status == SourceState.ok
    assert all(headers.get("Authorization") == f"Bearer {TOKEN}" for _, _, headers in fake.requests)
    assert TOKEN not in result.status.model_dump_json()
    assert all(TOKEN not in item.model_dump_json() for item in result.evidence)


def test_a_refused_token_names_the_variable_never_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROM_TOKEN", "tok-wrong-0000")
    with FakeApi(bearer_only) as fake:
        result = scan(fake.url, token_env="PROM_TOKEN")
    assert result.status.status == SourceState.failed
    assert result.status.reason == "authentication refused (HTTP 401): check PROM_TOKEN"


def test_an_unset_token_variable_fails_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROM_TOKEN", raising=False)
    result = scan("http://127.0.0.1:9", token_env="PROM_TOKEN")
    assert result.status.status == SourceState.failed
    assert result.status.reason == "environment variable PROM_TOKEN (token_env) is not set"
    assert result.status.requests == 0


def test_a_scan_with_a_failed_prometheus_completes_with_unknown_requirements(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    repo = make_repo(
        {
            "src/train.py": "import sklearn.linear_model\n\nmodel = sklearn.linear_model."
            "LogisticRegression().fit([[0], [1]], [0, 1])\n"
        }
    )
    port = free_port()
    config = tmp_path / "platform.yaml"
    config.write_text(f"""\
sources:
  - type: repo
    name: churn-repo
    path: {repo}
  - type: prometheus
    name: prod-prom
    url: http://127.0.0.1:{port}
    lookback_days: 30
""")
    assessment = scan_config(load_config(config), RULES)
    statuses = {s.name: s for s in assessment.sources}
    assert statuses["churn-repo"].status == SourceState.ok
    assert statuses["prod-prom"].status == SourceState.failed
    assert statuses["prod-prom"].reason.startswith(f"cannot connect to http://127.0.0.1:{port}")
    analytics = assessment.capabilities["centralized_model_analytics"]
    assert analytics.status == Status.unknown
    assert "source prod-prom failed: cannot connect" in (analytics.reason or "")
    assert assessment.capabilities["ml_work_present"].status == Status.met


def test_alone_a_failed_prometheus_leaves_every_level_at_least(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text(
        f"sources:\n  - type: prometheus\n    name: prod-prom\n    url: http://127.0.0.1:{free_port()}\n"
    )
    assessment = scan_config(load_config(config), RULES, models=["microsoft"])
    microsoft = assessment.maturity["microsoft"]
    assert (microsoft.level, microsoft.at_least) == (0, True)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("    url: ftp://prom:9090\n", "sources.0.url: must be an http:// or https:// URL"),
        (
            "    url: http://admin:pw@prom:9090\n",
            "sources.0.url: must not hold credentials: name them with username_env",
        ),
        (
            "    url: http://prom:9090\n    drift_patterns: ['drift(']\n",
            "sources.0.drift_patterns: invalid regular expression 'drift('",
        ),
        (
            "    url: http://prom:9090\n    token_env: PROM_TOKEN\n    username_env: PROM_USER\n"
            "    password_env: PROM_PASSWORD\n",
            "sources.0: use token_env or username_env / password_env, not both",
        ),
        (
            "    url: http://prom:9090\n    model_labels: [model-name]\n",
            "sources.0.model_labels: 'model-name' is not a Prometheus label name",
        ),
        (
            "    url: http://prom:9090\n    rate_window: 1 hour\n",
            "sources.0.rate_window: String should match",
        ),
    ],
)
def test_config_errors_name_the_line(tmp_path: Path, entry: str, message: str) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text("sources:\n  - type: prometheus\n    name: prod-prom\n" + entry)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    problem = caught.value.problems[0]
    assert problem.startswith(f"{config}:") and message in problem, problem


def test_endpoints_that_thanos_and_mimir_lack_are_not_failures() -> None:
    def answer(path: str, handler: http.server.BaseHTTPRequestHandler) -> Reply:
        if path in ("/api/v1/alertmanagers", "/api/v1/status/runtimeinfo"):
            return 404, {"Content-Type": "text/plain"}, b"404 page not found"
        return prometheus_like(path, handler)

    with FakeApi(answer) as fake:
        result = scan(fake.url)
    assert result.status.status == SourceState.ok, result.status.reason
    drift = result.one("monitor.drift_alert_rule")
    assert "routed" not in drift.attributes  # unknown, so it does not block drift alerting
