"""Fixtures (a pytest plugin) with the real services of the platform-scan tests: test
modules load it with `pytest_plugins = ["platform_services"]`; the session's services are
started once and stopped at its end. See platform_world.py for what they hold.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collectors"))  # the collectors' servers

from mlflow_support import RunningMlflow, start_mlflow, stop_mlflow
from platform_world import FIXTURES, Platform, make_repos, seed_mlflow
from prometheus_server import RULES, ModelServer, PrometheusServer, ServedModel

# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    root = tmp_path_factory.mktemp("platform")
    models = ModelServer({
        "churn": ServedModel(requests_per_second=20, drift_share=0.62, accuracy=0.91),
        "fraud": ServedModel(requests_per_second=5, accuracy=0.86),
    })
    prometheus = PrometheusServer(root / "prometheus",
                                  rule_files=[RULES / "serving.yml", RULES / "drift.yml"],
                                  targets={"model-server": [models.address]})
    with models:
        prometheus.start()  # its first scrape comes ~5 s later: meanwhile MLflow starts
        try:
            repos = make_repos(root / "repos")
            mlflow: RunningMlflow = start_mlflow(root / "mlflow")
            try:
                seed_mlflow(mlflow.url)
                # steady state: the drift alert fires and request rates are recorded
                prometheus.wait_for(lambda: prometheus.rule("ChurnFeatureDrift").get("state") == "firing",
                                    "firing ChurnFeatureDrift")
                prometheus.wait_for(lambda: bool(prometheus.query("model:predictions:rate1m")),
                                    "with recorded request rates")
                now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
                yield Platform(root, repos, mlflow.url, prometheus.url, now)
            finally:
                stop_mlflow(mlflow.process)
        finally:
            prometheus.stop()


@pytest.fixture(scope="session")
def locked_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus behind basic auth: any other credential gets HTTP 401."""
    server = PrometheusServer(tmp_path_factory.mktemp("locked-prometheus"),
                              web_config=FIXTURES / "prometheus" / "web-config.yml")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
