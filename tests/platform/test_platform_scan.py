"""A platform scan over real services: a real MLflow server, a real Prometheus, local git
repositories and Kubernetes manifests, correlated into ML systems; sources that refuse
connections, never answer or refuse credentials, all in one scan; canary secrets that must
never leave the process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from platform_world import Platform

from maturity_probe.assessment import Assessment, Status
from maturity_probe.config import load_config
from maturity_probe.evidence import SourceState
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import RENDERERS
from maturity_probe.run import scan_config

pytest_plugins = ["platform_services", "mlflow_server"]
pytestmark = pytest.mark.service

CHURN_REPO, FRAUD_REPO = "github:acme/churn-model", "github:acme/fraud-model"


def run_cli(platform: Platform, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """`maturity-probe ARGS` in a subprocess: real exit code, real (non-terminal) stderr."""
    return subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          text=True, env=env or platform.cli_env(), timeout=180, check=False)


def levels(maturity: dict[str, Any]) -> dict[str, tuple[int, bool]]:
    return {model: (result.level, result.at_least) for model, result in maturity.items()}


@pytest.fixture(scope="module")
def platform_scan(platform: Platform) -> Assessment:
    config = load_config(platform.config(systems={
        "recommendations": {"repos": ["github:acme/web-frontend"]},
    }))
    return scan_config(config, load_rules(), now=platform.now)


def test_every_source_of_the_platform_is_read(platform_scan: Assessment) -> None:
    statuses = {s.name: s for s in platform_scan.sources}
    assert set(statuses) == {"churn-model", "fraud-model", "web-frontend", "prod-mlflow",
                             "prod-prom", "prod-k8s"}
    assert {s.status for s in statuses.values()} == {SourceState.ok}
    assert statuses["prod-mlflow"].requests > 0 and statuses["prod-prom"].requests > 0
    assert all(s.duration_seconds > 0 for s in statuses.values())


def test_subjects_of_all_sources_join_into_ml_systems(platform_scan: Assessment) -> None:
    systems = platform_scan.systems
    # the repository, its registered model (lineage from the runs' git tags), the series and
    # alert rules labelled with the model, and the workloads that serve and retrain it
    assert systems["churn"].subjects == [
        CHURN_REPO,
        "k8s:prod-k8s/ml-serving/InferenceService/churn",
        "k8s:prod-k8s/ml-training/CronJob/churn-retrain",
        "k8s:prod-k8s/monitoring/PrometheusRule/churn-alerts",
        "mlflow:prod-mlflow/churn",
        "prometheus:prod-prom/model/churn",
    ]
    assert systems["fraud"].subjects == [FRAUD_REPO, "mlflow:prod-mlflow/fraud",
                                         "prometheus:prod-prom/model/fraud"]
    assert systems["sandbox"].subjects == ["mlflow:prod-mlflow/sandbox"]  # registered, nothing else
    # a declared system takes its repository under the chosen name
    assert systems["recommendations"].declared
    assert systems["recommendations"].subjects == ["github:acme/web-frontend"]
    assert "web-frontend" not in systems
    assert not systems["churn"].declared


def test_each_system_has_its_own_levels(platform_scan: Assessment) -> None:
    systems = platform_scan.systems
    # churn: tested, built, deployed from CI, data prepared by a DVC pipeline, runs tracked,
    # versions registered with lineage, served, monitored by Prometheus and retrained when
    # the drift alert calls -> Microsoft level 4; fraud lacks automated data pipelines and
    # releases -> level 0, but the five-stage model sees its registry (2)
    assert levels(systems["churn"].maturity) == {
        "microsoft": (4, False), "google": (0, False), "five_stage": (4, False), "seven_stage": (2, False)}
    assert levels(systems["fraud"].maturity) == {
        "microsoft": (0, False), "google": (0, False), "five_stage": (2, False), "seven_stage": (1, False)}
    assert levels(systems["sandbox"].maturity)["microsoft"] == (0, False)
    fraud_l1 = {r.id: r.status for r in systems["fraud"].maturity["microsoft"].requirements}
    assert fraud_l1["l1-automated-data-pipelines"] == Status.unmet
    assert levels(platform_scan.maturity)["microsoft"] == (4, False)
    assert platform_scan.system_levels["microsoft"] == {"0": 5, "4": 1}


def test_evidence_of_platform_wide_subjects_belongs_to_no_system(platform_scan: Assessment) -> None:
    evidence = platform_scan.evidence_by_id()
    unassigned = {evidence[i].subject for i in platform_scan.unassigned_evidence}
    # the MLflow server's experiments and the Prometheus server link every model: hubs
    assert {"mlflow:prod-mlflow", "prometheus:prod-prom"} <= unassigned
    assert not unassigned & {s for system in platform_scan.systems.values() for s in system.subjects}
    in_systems = {i for system in platform_scan.systems.values() for i in system.evidence}
    assert in_systems | set(platform_scan.unassigned_evidence) == set(evidence)


def test_a_scan_survives_a_silent_a_refused_and_a_refusing_source(
        platform: Platform, silent_url: str, refused_url: str, locked_prometheus: str,
        tmp_path: Path) -> None:
    config = platform.config([
        # the only MLflow: accepts the connection and never answers
        {"type": "mlflow", "name": "hung-mlflow", "tracking_uri": silent_url,
         "scan_timeout_seconds": 3, "timeout_seconds": 60},
        # the only Prometheus servers: nobody listens, or credentials are refused
        {"type": "prometheus", "name": "gone-prom", "url": refused_url},
        {"type": "prometheus", "name": "locked-prom", "url": locked_prometheus,
         "token_env": "LOCKED_PROM_TOKEN"},
    ], without=("prod-mlflow", "prod-prom"))
    out = tmp_path / "scan.json"

    started = time.monotonic()
    done = run_cli(platform, "scan", "--config", str(config), "--format", "json", "-o", str(out),
                   env=platform.cli_env(LOCKED_PROM_TOKEN="not-the-password"))
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert elapsed < 30  # the silent source was given up after 3 s, not after its 60 s timeout
    assessment = Assessment.model_validate_json(out.read_text())
    statuses = {s.name: s for s in assessment.sources}
    assert statuses["hung-mlflow"].status == SourceState.failed
    assert statuses["hung-mlflow"].reason == "timed out after 3s (scan_timeout_seconds)"
    assert statuses["gone-prom"].status == SourceState.failed
    assert statuses["gone-prom"].reason.startswith(f"cannot connect to {refused_url}")
    assert statuses["locked-prom"].status == SourceState.failed
    assert statuses["locked-prom"].reason == "authentication refused (HTTP 401): check LOCKED_PROM_TOKEN"
    assert all(s.status == SourceState.ok for n, s in statuses.items()
               if n not in ("hung-mlflow", "gone-prom", "locked-prom"))
    for status in statuses.values():
        assert "\n" not in status.reason

    # every failure is one plain log line naming the source
    lines = done.stderr.splitlines()
    assert "source hung-mlflow (mlflow): failed in 3.0s, 0 requests, 0 evidence: timed out after 3s " \
           "(scan_timeout_seconds)" in lines
    assert any(line.startswith("source gone-prom (prometheus): failed in ") for line in lines)
    assert any(line.startswith("source locked-prom (prometheus): failed in ")
               and line.endswith("authentication refused (HTTP 401): check LOCKED_PROM_TOKEN")
               for line in lines)
    assert any(line.startswith("source churn-model (repo): ok in ") for line in lines)
    assert any(line.startswith("stored scan ") for line in lines)

    # what only the failed sources could show is unknown, naming them; levels are lower bounds
    reasons = [r.reason or "" for m in assessment.maturity.values() for r in m.requirements
               if r.status == Status.unknown]
    assert any("source hung-mlflow failed: timed out after 3s" in r for r in reasons)
    assert any("source gone-prom failed" in r and "source locked-prom failed" in r for r in reasons)
    # Microsoft level 4 of churn waits only for what Prometheus would show: "at least 3"
    microsoft = assessment.maturity["microsoft"]
    assert (microsoft.level, microsoft.at_least) == (3, True)
    assert microsoft.next_level is not None
    assert [(g.requirement, g.status) for g in microsoft.next_level.gaps] == [
        ("l4-monitored-centralized-analytics", Status.unknown)]
    churn = assessment.systems["churn"].maturity["microsoft"]
    assert (churn.level, churn.at_least) == (3, True)


CANARY_TOKEN = "canary-token-7c1e0b9d2f"  # in the environment, named by token_env
CANARY_PASSWORD = "canary-password-4a8f3e"  # in the config: a password inside a source URL


def test_canary_secrets_never_appear_in_outputs_logs_or_the_store(
        platform: Platform, refused_url: str, locked_prometheus: str, isolated_store: str,
        tmp_path: Path) -> None:
    def with_password(url: str) -> str:
        return url.replace("http://", f"http://probe:{CANARY_PASSWORD}@")

    config = platform.config([
        {"type": "prometheus", "name": "locked-prom", "url": locked_prometheus,
         "token_env": "CANARY_TOKEN"},
        {"type": "mlflow", "name": "gone-mlflow", "max_retries": 0,
         "tracking_uri": with_password(refused_url)},
    ], changes={  # the MLflow server has no auth: it ignores both, but they are sent
        "prod-mlflow": {"tracking_uri": with_password(platform.mlflow_url), "token_env": "CANARY_TOKEN"},
    })
    assert CANARY_PASSWORD in config.read_text()

    env = platform.cli_env(CANARY_TOKEN=CANARY_TOKEN)
    done = run_cli(platform, "scan", "--config", str(config), "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assessment = Assessment.model_validate_json(done.stdout)
    statuses = {s.name: s for s in assessment.sources}
    assert statuses["prod-mlflow"].status == SourceState.ok
    assert statuses["locked-prom"].reason == "authentication refused (HTTP 401): check CANARY_TOKEN"
    assert "***" in statuses["gone-mlflow"].reason
    # prod-mlflow's locators are URLs of its UI: they would carry the password
    assert any(e.source == "prod-mlflow" and "://***@" in e.locator for e in assessment.evidence)

    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    for name, render in RENDERERS.items():
        outputs[name] = render(assessment, True)
    report = run_cli(platform, "report", "--format", "markdown", "--explain", env=env)
    outputs["report"] = report.stdout + report.stderr
    database = isolated_store.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        outputs["store"] = "\n".join(  # the compressed assessment JSON read decompressed
            repr(tuple(zlib.decompress(v).decode() if isinstance(v, bytes) else v for v in row))
            for table in tables for row in connection.execute(f"SELECT * FROM {table}"))
    assert "prod-mlflow" in outputs["store"] and "gone-mlflow" in outputs["store"]
    assert '"unavailable_signals":' in outputs["store"]  # the assessment JSON is searched too
    for where, text in outputs.items():
        assert CANARY_TOKEN not in text, where
        assert CANARY_PASSWORD not in text, where


def test_a_silent_mlflow_does_not_hold_up_another_one(platform: Platform, silent_url: str) -> None:
    config = load_config(platform.config([  # the silent one starts first
        {"type": "mlflow", "name": "hung-mlflow", "tracking_uri": silent_url, "scan_timeout_seconds": 3},
        {"type": "mlflow", "name": "prod-mlflow", "tracking_uri": platform.mlflow_url},
    ], without=("prod-mlflow", "prod-prom", "prod-k8s", "churn-model", "fraud-model", "web-frontend")))
    started = time.monotonic()
    assessment = scan_config(config, load_rules(), now=platform.now)
    assert time.monotonic() - started < 10
    statuses = {s.name: s for s in assessment.sources}
    assert statuses["hung-mlflow"].reason == "timed out after 3s (scan_timeout_seconds)"
    assert statuses["prod-mlflow"].status == SourceState.ok  # read meanwhile, with the same settings
    assert statuses["prod-mlflow"].duration_seconds < 3
