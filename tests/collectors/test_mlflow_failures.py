"""The mlflow collector when the server is not there, hangs, is a proxy error page or asks
for credentials; and `scan --config` / `gate --config` around such a source."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mlflow_support import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    RunningMlflow,
    collect,
    repo_files_without_mlflow_practices,
)

from conftest import MakeRepo
from maturity_probe.assessment import Status
from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.mlflow_registry import (
    REGISTRY_SIGNALS,
    MlflowCollector,
    MlflowSource,
)
from maturity_probe.collectors.repo import RepoCollector, RepoSource
from maturity_probe.evidence import SourceState, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from support import send_body, serving

# The servers and failure doubles are fixtures of this plugin (one per session).
pytest_plugins = ["mlflow_server"]

RULES = load_rules()
FAST = {"timeout_seconds": 1, "max_retries": 1}


def assert_failed_quickly(status: object, started: float, *phrases: str) -> None:
    from maturity_probe.evidence import SourceStatus

    assert isinstance(status, SourceStatus)
    assert status.status == SourceState.failed
    assert "\n" not in status.reason and "Traceback" not in status.reason
    for phrase in phrases:
        assert phrase in status.reason, status.reason
    assert time.monotonic() - started < 15


def test_refused_connection_fails_the_source_in_seconds(refused_url: str) -> None:
    started = time.monotonic()
    evidence, status = collect(refused_url, **FAST)
    assert evidence == []
    assert_failed_quickly(status, started, f"cannot connect to {refused_url}", "connection refused")
    # experiments, registered models and model versions are asked at once: each fails
    assert status.requests == 3


def test_server_that_never_answers_times_out(silent_url: str) -> None:
    started = time.monotonic()
    _, status = collect(silent_url, timeout_seconds=1, max_retries=0)
    assert_failed_quickly(status, started, silent_url, "did not answer within 1 s")


def test_html_error_page_is_not_an_mlflow_api(error_page_url: str) -> None:
    started = time.monotonic()
    _, status = collect(error_page_url, **FAST)
    assert_failed_quickly(status, started, "HTTP 502", "not a working MLflow API")


def test_missing_credential_variable_is_named(monkeypatch: pytest.MonkeyPatch,
                                              refused_url: str) -> None:
    monkeypatch.delenv("PROBE_TEST_MLFLOW_TOKEN", raising=False)
    _, status = collect(refused_url, token_env="PROBE_TEST_MLFLOW_TOKEN")
    assert status.status == SourceState.failed
    assert status.reason == "environment variable PROBE_TEST_MLFLOW_TOKEN is not set (named in the config)"
    assert status.requests == 0


def test_basic_auth_401_without_or_with_wrong_credentials(
        mlflow_auth_server: RunningMlflow, monkeypatch: pytest.MonkeyPatch) -> None:
    url = mlflow_auth_server.url
    _, anonymous = collect(url, **FAST)
    assert anonymous.status == SourceState.failed
    assert "HTTP 401" in anonymous.reason and "\n" not in anonymous.reason

    monkeypatch.setenv("PROBE_MLFLOW_USER", ADMIN_USER)
    monkeypatch.setenv("PROBE_MLFLOW_PASSWORD", "not-the-password")
    _, wrong = collect(url, username_env="PROBE_MLFLOW_USER", password_env="PROBE_MLFLOW_PASSWORD",
                       **FAST)
    assert wrong.status == SourceState.failed
    assert "HTTP 401" in wrong.reason


def test_basic_auth_with_good_credentials_reads_the_registry(
        mlflow_auth_server: RunningMlflow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_MLFLOW_USER", ADMIN_USER)
    monkeypatch.setenv("PROBE_MLFLOW_PASSWORD", ADMIN_PASSWORD)
    source = MlflowSource(name="secured", tracking_uri=mlflow_auth_server.url,
                          username_env="PROBE_MLFLOW_USER", password_env="PROBE_MLFLOW_PASSWORD")
    collector = MlflowCollector(source, CollectContext(now=datetime.now(UTC),
                                                       secrets=[ADMIN_PASSWORD]))
    evidence, status = run_collector(collector)
    assert status.status == SourceState.ok, status.reason
    registered = [e for e in evidence if e.signal == "registry.model_registered"]
    assert [e.subject for e in registered] == ["mlflow:secured/auth-scoring"]
    assert registered[0].strength == Strength.active  # a version created just now
    assert registered[0].attributes["versions"] == 1
    # the credentials went with the requests only: not into the environment, not into output
    assert not any(k.startswith("MLFLOW_TRACKING_") for k in os.environ)
    assert ADMIN_PASSWORD not in json.dumps([e.model_dump(mode="json") for e in evidence])
    assert ADMIN_PASSWORD not in status.model_dump_json()


def test_sources_with_different_credentials_do_not_share_them(
        mlflow_auth_server: RunningMlflow, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source without credentials after one with them must still be refused."""
    monkeypatch.setenv("PROBE_MLFLOW_USER", ADMIN_USER)
    monkeypatch.setenv("PROBE_MLFLOW_PASSWORD", ADMIN_PASSWORD)
    _, good = collect(mlflow_auth_server.url, username_env="PROBE_MLFLOW_USER",
                      password_env="PROBE_MLFLOW_PASSWORD")
    _, anonymous = collect(mlflow_auth_server.url, **FAST)
    assert (good.status, anonymous.status) == (SourceState.ok, SourceState.failed)


def test_registry_down_makes_the_source_partial(mlflow_auth_server: RunningMlflow,
                                                refused_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_MLFLOW_USER", ADMIN_USER)
    monkeypatch.setenv("PROBE_MLFLOW_PASSWORD", ADMIN_PASSWORD)
    evidence, status = collect(mlflow_auth_server.url, registry_uri=refused_url,
                               username_env="PROBE_MLFLOW_USER",
                               password_env="PROBE_MLFLOW_PASSWORD", max_retries=0)
    assert status.status == SourceState.partial, status.reason
    assert status.reason.startswith("registry: cannot connect to")
    assert set(REGISTRY_SIGNALS) <= set(status.unavailable_signals)
    assert evidence == []  # the tracking side holds no runs, the registry was not read
    assessment = assess(RULES, evidence, [status], now=datetime.now(UTC), target="t")
    registry = assessment.capabilities["model_registry"]
    assert registry.status == Status.unknown
    assert registry.reason is not None and "source prod-mlflow: registry:" in registry.reason
    # the tracking side was read: only the (unscanned) repository could still show tracking
    tracking = assessment.capabilities["experiment_tracking"]
    assert tracking.reason is not None and "no repo source was scanned" in tracking.reason
    assert "prod-mlflow" not in tracking.reason


# -- the CLI: scan completes, gate exits with its codes ------------------------------------------


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})})


def write_config(path: Path, repo: Path, mlflow_fields: str) -> Path:
    path.write_text(
        "sources:\n"
        "  - type: repo\n"
        "    name: churn-repo\n"
        f"    path: {repo}\n"
        "  - type: mlflow\n"
        "    name: prod-mlflow\n"
        + "".join(f"    {line}\n" for line in mlflow_fields.strip().splitlines())
    )
    return path


def test_scan_and_gate_when_the_server_goes_down(
        make_repo: MakeRepo, tmp_path: Path, refused_url: str,
        mlflow_auth_server: RunningMlflow) -> None:
    repo = make_repo(repo_files_without_mlflow_practices())
    env = {"PROBE_MLFLOW_USER": ADMIN_USER, "PROBE_MLFLOW_PASSWORD": ADMIN_PASSWORD}
    credentials = "username_env: PROBE_MLFLOW_USER\npassword_env: PROBE_MLFLOW_PASSWORD\n"
    up = write_config(tmp_path / "up.yaml", repo,
                      f"tracking_uri: {mlflow_auth_server.url}\n{credentials}")
    down = write_config(tmp_path / "down.yaml", repo,
                        f"tracking_uri: {refused_url}\n{credentials}timeout_seconds: 1\nmax_retries: 0")

    # A nightly scan while the server is up: the registry shows model versioning.
    baseline = tmp_path / "baseline.json"
    done = cli("scan", "--config", str(up), "--format", "json", "--output", str(baseline), env=env)
    assert done.returncode == 0, done.stderr
    before = json.loads(baseline.read_text())
    assert before["capabilities"]["model_versioning"]["status"] == "met"
    assert before["maturity"]["microsoft"]["level"] == 1

    # The server goes down: the scan completes, the source is failed with a one-line reason,
    # what only it could show is unknown, and the level is reported as `at least`.
    done = cli("scan", "--config", str(down), "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout)
    mlflow = next(s for s in after["sources"] if s["name"] == "prod-mlflow")
    assert mlflow["status"] == "failed"
    assert mlflow["reason"] == f"cannot connect to {refused_url}: connection refused"
    assert after["capabilities"]["model_versioning"]["status"] == "unknown"
    assert "source prod-mlflow failed" in after["capabilities"]["model_versioning"]["reason"]
    assert (after["maturity"]["microsoft"]["level"], after["maturity"]["microsoft"]["at_least"]) == (1, True)
    assert ADMIN_PASSWORD not in done.stdout + done.stderr

    table = cli("scan", "--config", str(down), env=env)
    assert table.returncode == 0, table.stderr
    assert "connection refused" in table.stdout

    # The gate: no level dropped (exit 0); with --strict the lost requirement fails (exit 1)
    # and says it could not be checked, and why.
    gate = cli("gate", "--config", str(down), "--baseline", str(baseline), env=env)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    strict = cli("gate", "--config", str(down), "--baseline", str(baseline), "--strict", env=env)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "could not be checked" in strict.stdout
    assert f"source prod-mlflow failed: cannot connect to {refused_url}" in strict.stdout


def test_config_errors_name_the_line(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text(
        "sources:\n"
        "  - type: mlflow\n"
        "    name: prod-mlflow\n"
        "    tracking_uri: 127.0.0.1:5000\n"
        "  - type: mlflow\n"
        "    name: staging-mlflow\n"
        "    tracking_uri: https://mlflow.staging.example.com\n"
        "    username_env: MLFLOW_USER\n"
        "    lookback_days: 0\n"
    )
    done = cli("scan", "--config", str(config))
    assert done.returncode == 2
    assert f"{config}:4: sources.0.tracking_uri: must be an http:// or https:// URL" \
        in done.stderr
    assert f"{config}:9: sources.1.lookback_days: Input should be greater than or equal to 1" \
        in done.stderr


def test_config_schema_describes_the_mlflow_source() -> None:
    done = cli("config", "schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    mlflow = schema["$defs"]["source_mlflow"]
    assert {"tracking_uri", "registry_uri", "token_env", "username_env", "password_env",
            "lookback_days", "validation_tags", "automation_users"} <= set(mlflow["properties"])
    assert "tracking_uri" in mlflow["required"]


def test_repo_source_and_failed_mlflow_report_at_least(make_repo: MakeRepo,
                                                        refused_url: str) -> None:
    """Requirements only the registry could show are unknown; the level is `at least`."""
    root = make_repo(repo_files_without_mlflow_practices())
    now = datetime.now(UTC)
    repo = run_collector(RepoCollector(RepoSource(name="churn-repo", path=root), CollectContext(now=now)))
    _, failed = collect(refused_url, **FAST)
    assessment = assess(RULES, repo[0], [repo[1], failed], now=now, target="t")
    microsoft = assessment.maturity["microsoft"]
    assert (microsoft.level, microsoft.at_least) == (1, True)
    assert microsoft.next_level is not None
    gaps = {g.requirement: g.status for g in microsoft.next_level.gaps}
    assert gaps["l2-experiments-tracked"] == Status.unknown
    assert gaps["l2-models-versioned"] == Status.unknown
    assert gaps["l2-automated-training"] == Status.unknown


# -- answers in MLflow's JSON, but not MLflow's ------------------------------------------------


def answering(status: int, body: dict[str, object]) -> type[http.server.BaseHTTPRequestHandler]:
    """A server answering every request with `status` and the JSON `body` (a proxy, an auth
    plugin, something else on MLflow's port)."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            send_body(self, status, json.dumps(body).encode())

        do_GET = do_POST = answer

        def log_message(self, format: str, *args: object) -> None:
            return

    return Answer


@pytest.mark.parametrize(("status", "reason"), [
    (401, "refused the request: HTTP 401 unauthenticated (check token_env or username_env/password_env)"),
    (403, "refused the request: HTTP 403 permission denied for these credentials"),
    (404, "has no such MLflow API endpoint (HTTP 404)"),
])
def test_a_refusal_without_an_mlflow_error_code_keeps_its_http_status(status: int, reason: str) -> None:
    with serving(answering(status, {"message": "nope"})) as url:
        _, failed = collect(url, max_retries=0)
    assert (failed.status, failed.reason) == (SourceState.failed, f"{url} {reason}")


def test_an_error_without_an_mlflow_error_code_names_its_status_and_message() -> None:
    with serving(answering(409, {"message": "locked by the gateway\nsecond line"})) as url:
        _, failed = collect(url, max_retries=0)
    assert failed.reason == f"{url}: HTTP 409: locked by the gateway"
    with serving(answering(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad filter"})) as url:
        _, failed = collect(url, max_retries=0)
    assert failed.reason == f"{url}: INVALID_PARAMETER_VALUE: bad filter"  # MLflow's own error


def test_json_of_another_shape_is_not_an_mlflow_api() -> None:
    with serving(answering(200, {"runs": 5, "registered_models": "x", "experiments": 7})) as url:
        evidence, failed = collect(url, max_retries=0)
    assert evidence == []
    assert (failed.status, failed.reason) == (
        SourceState.failed,
        f"{url} did not answer experiments/search like an MLflow API (`experiments` is not a list)")
    with serving(answering(200, {"experiments": [], "next_page_token": 3})) as url:
        _, failed = collect(url, max_retries=0)
    assert failed.reason == (f"{url} did not answer experiments/search like an MLflow API "
                             "(`next_page_token` is not a string)")
    # the same page over and over would never end
    with serving(answering(200, {"registered_models": [], "next_page_token": "again"})) as url:
        _, failed = collect(url, max_retries=0)
    assert failed.status == SourceState.failed
    assert failed.reason.endswith("like an MLflow API (the same page token twice)"), failed.reason


def test_one_side_of_another_shape_makes_the_source_partial(mlflow_server: RunningMlflow) -> None:
    registry = answering(200, {"registered_models": {"name": "churn"}, "model_versions": []})
    with serving(registry) as url:
        _, status = collect(mlflow_server.url, registry_uri=url, max_retries=0)
    assert status.status == SourceState.partial
    assert status.reason == (f"registry: {url} did not answer registered-models/search like an "
                             "MLflow API (`registered_models` is not a list)")
    assert set(REGISTRY_SIGNALS) <= set(status.unavailable_signals)
