"""Basic auth against a real Prometheus started with `--web.config.file`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_server import (
    AUTH_PASSWORD,
    AUTH_USER,
    FIXTURES,
    RULES,
    ModelServer,
    PrometheusServer,
    ServedModel,
    running,
    scan,
)

from maturity_probe.evidence import SourceState, Strength


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    models = ModelServer({"churn": ServedModel(requests_per_second=10, drift_share=0.2)})
    server = PrometheusServer(
        tmp_path_factory.mktemp("guarded"),
        rule_files=[RULES / "drift.yml"],
        targets={"model-server": [models.address]},
        web_config=FIXTURES / "web-config.yml",
    )
    with models, running(server):
        server.wait_for(lambda: bool(server.query("rate(model_predictions_total[1m]) > 0")), "scraping")
        yield server


def test_without_credentials_the_source_fails_with_the_http_status(guarded: PrometheusServer) -> None:
    result = scan(guarded.url)
    assert result.status.status == SourceState.failed
    assert result.status.reason == (
        "authentication refused (HTTP 401): set token_env or username_env / password_env"
    )


def test_wrong_credentials_name_the_variables_not_the_values(
    guarded: PrometheusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROM_USER", AUTH_USER)
    monkeypatch.setenv("PROM_PASSWORD", "not-the-Password-1")
    result = scan(guarded.url, username_env="PROM_USER", password_env="PROM_PASSWORD")
    assert result.status.status == SourceState.failed
    assert result.status.reason == "authentication refused (HTTP 401): check PROM_USER / PROM_PASSWORD"
    assert "not-the-Password-1" not in result.status.model_dump_json()


def test_good_credentials_read_the_monitors(
    guarded: PrometheusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROM_USER", AUTH_USER)
    monkeypatch.setenv("PROM_PASSWORD", AUTH_PASSWORD)
    result = scan(guarded.url, username_env="PROM_USER", password_env="PROM_PASSWORD")
    assert result.status.status == SourceState.ok, result.status.reason
    drift = result.one(
        "monitor.drift_alert_rule", "prometheus:prod-prom/model/churn", alert="ChurnFeatureDrift"
    )
    assert drift.strength == Strength.verified  # healthy, live series, churn serves traffic
    assert drift.attributes["alerts_fired"] == 0 and drift.attributes["routed"] is False
    assert AUTH_PASSWORD not in result.status.model_dump_json()
    assert all(AUTH_PASSWORD not in item.model_dump_json() for item in result.evidence)
