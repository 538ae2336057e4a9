"""Secrets a server echoes back never leave the process.

A local server repeats the Authorization header it received (and the credential alone) in
the body of its refusal, as some proxies and misconfigured APIs do. It stands in for a
Kubernetes API server (reached with a kubeconfig's token, or its user and password) and an
MLflow server (basic auth from username_env / password_env). None of those credentials, nor
the base64 form they travel in, may appear in the reasons, any output format, the --verbose
request log, a later report, or the rows of the store.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from maturity_probe.assessment import Assessment
from maturity_probe.collectors import scrubbed
from maturity_probe.collectors.kubernetes import KubernetesSource, client_configuration, loaded_credentials
from maturity_probe.evidence import Evidence, SourceState, Strength
from maturity_probe.outputs import RENDERERS
from maturity_probe.redact import basic_credentials, mentions_credentials, redact
from support import send_body, serving

KUBE_TOKEN = "KUBETOKENSECRET123"
KUBE_USER, KUBE_PASSWORD = "cluster-admin", "kube-pass-5e1d77"
MLFLOW_USER, MLFLOW_PASSWORD = "alice", "hunter2-secret"


class EchoingServer(http.server.BaseHTTPRequestHandler):
    """Refuses everything, repeating the credentials it was sent: a Kubernetes Status (403)
    for Kubernetes paths, an MLflow error (400) for MLflow's."""

    def answer(self) -> None:
        header = self.headers.get("Authorization", "")
        credential = header.partition(" ")[2]
        message = f"bad credentials: {header} (credential {credential})"
        if self.path.startswith("/api/2.0/mlflow/"):
            status, body = 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": message}
        else:
            status, body = 403, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                 "message": message, "reason": "Forbidden", "code": 403}
        send_body(self, status, json.dumps(body).encode())

    do_GET = do_POST = answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def echoing_url() -> Iterator[str]:
    with serving(EchoingServer) as url:
        yield url


def kubeconfig(path: Path, server: str, user: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "ml",
        "clusters": [{"name": "ml", "cluster": {"server": server}}],
        "users": [{"name": "probe", "user": user}],
        "contexts": [{"name": "ml", "context": {"cluster": "ml", "user": "probe"}}],
    }))
    return path


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def test_echoed_credentials_appear_in_no_output_and_not_in_the_store(
        echoing_url: str, isolated_store: str, tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text(yaml.safe_dump({"name": "echoes", "sources": [
        {"type": "kubernetes", "name": "k403", "max_retries": 0,
         "kubeconfig": str(kubeconfig(tmp_path / "token.kubeconfig", echoing_url, {"token": KUBE_TOKEN}))},
        {"type": "kubernetes", "name": "k403-basic", "max_retries": 0,
         "kubeconfig": str(kubeconfig(tmp_path / "basic.kubeconfig", echoing_url,
                                      {"username": KUBE_USER, "password": KUBE_PASSWORD}))},
        {"type": "mlflow", "name": "mlflow-basic", "tracking_uri": echoing_url, "max_retries": 0,
         "username_env": "MLFLOW_USER", "password_env": "MLFLOW_PASSWORD"},
    ]}))
    env = {**os.environ, "MLFLOW_USER": MLFLOW_USER, "MLFLOW_PASSWORD": MLFLOW_PASSWORD, "NO_COLOR": "1"}
    done = run_cli("--verbose", "scan", "--config", str(config), "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assessment = Assessment.model_validate_json(done.stdout)
    statuses = {s.name: s for s in assessment.sources}
    assert {s.status for s in statuses.values()} == {SourceState.failed}
    # the echo reached the reasons, hidden
    assert statuses["k403"].reason == (
        "HTTP 403 Forbidden /apis: bad credentials: Bearer *** (credential ***)")
    assert statuses["k403-basic"].reason == (
        "HTTP 403 Forbidden /apis: bad credentials: Basic *** (credential ***)")
    assert statuses["mlflow-basic"].reason == (
        f"{echoing_url}: INVALID_PARAMETER_VALUE: bad credentials: Basic *** (credential ***)")
    assert f"k403 GET {echoing_url}/apis/ 403" in done.stderr, done.stderr  # the request log ran
    assert f"mlflow-basic POST {echoing_url}/api/2.0/mlflow/experiments/search 400" in done.stderr

    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    for name, render in RENDERERS.items():
        outputs[name] = render(assessment, True)
    report = run_cli("report", "--format", "markdown", "--explain", env=env)
    assert report.returncode == 0, report.stderr
    outputs["report"] = report.stdout + report.stderr
    with sqlite3.connect(isolated_store.removeprefix("sqlite:///")) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        outputs["store"] = "\n".join(
            repr(tuple(zlib.decompress(v).decode() if isinstance(v, bytes) else v for v in row))
            for table in tables for row in connection.execute(f"SELECT * FROM {table}"))
    assert "mlflow-basic" in outputs["store"] and "Basic ***" in outputs["store"]
    secrets = {
        "kubeconfig token": KUBE_TOKEN,
        "kubeconfig password": KUBE_PASSWORD,
        "kubeconfig basic pair": basic_credentials(KUBE_USER, KUBE_PASSWORD),
        "mlflow password": MLFLOW_PASSWORD,
        "mlflow basic pair": base64.b64encode(b"alice:hunter2-secret").decode(),
    }
    for where, text in outputs.items():
        for what, secret in secrets.items():
            assert secret not in text, f"{what} in {where}"


def test_the_credentials_a_kubeconfig_loads_are_known_in_every_form(tmp_path: Path) -> None:
    key = (b"-----BEGIN PRIVATE KEY-----\n"
           b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n")
    certificate = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"
    path = kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:6443", {
        "token": "tok-8c0a9b7d66",
        "client-certificate-data": base64.b64encode(certificate).decode(),
        "client-key-data": base64.b64encode(key).decode(),
    })
    found = loaded_credentials(client_configuration(KubernetesSource(name="k", kubeconfig=path)))
    assert "tok-8c0a9b7d66" in found
    assert base64.b64encode(key).decode() in found  # as written in the kubeconfig
    assert key.decode().strip() in found  # as the PEM the client wrote out
    assert not any("CERTIFICATE" in value or "MIIBszCC" in value for value in found)  # not a secret

    basic = kubeconfig(tmp_path / "basic", "https://127.0.0.1:6443",
                       {"username": KUBE_USER, "password": KUBE_PASSWORD})
    found = loaded_credentials(client_configuration(KubernetesSource(name="k", kubeconfig=basic)))
    assert KUBE_PASSWORD in found and basic_credentials(KUBE_USER, KUBE_PASSWORD) in found


def test_bearer_and_basic_credentials_are_hidden_wherever_they_stand() -> None:
    pair = basic_credentials(MLFLOW_USER, MLFLOW_PASSWORD)
    assert redact(f"403: bad credentials: Bearer {KUBE_TOKEN}.") == "403: bad credentials: Bearer ***."
    assert redact("echo: bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln-_x") == "echo: bearer ***"
    assert redact(f"401 from proxy (Basic {pair})") == "401 from proxy (Basic ***)"
    # prose around the words stays as it is
    for prose in ("the API expects a Bearer token.", "HTTP Basic auth is not enabled",
                  'WWW-Authenticate: Basic realm="mlflow"', "Basic authentication failed"):
        assert redact(prose) == prose


def test_evidence_quoting_an_auth_header_is_scrubbed() -> None:
    item = Evidence(
        id="e1", signal="monitor.model_alert_rule", subject="k8s:prod/ml/churn", source="prod-k8s",
        locator="https://k8s.example/apis/monitoring.coreos.com/v1/prometheusrules/churn",
        strength=Strength.declared, observed_at=datetime(2026, 1, 5, tzinfo=UTC),
        summary=f"webhook receiver called with Bearer {KUBE_TOKEN}",
        attributes={"headers": [f"Authorization=Basic {basic_credentials('svc', 'pw-77a1')}"]})
    clean = scrubbed(item, [])
    assert clean.summary == "webhook receiver called with Bearer ***"
    assert clean.attributes == {"headers": ["Authorization=***"]}


@pytest.mark.parametrize("text", [
    "https://alice:hunter2@mlflow.example.com/api", "HTTPS://BOB@host/x", "see https://host/x",
    "url?access_token=abc123&page=2", "?API_KEY=xyz", "password=", "tokenizer=bert-base",
    "Authorization: Bearer abc.def.ghi", "X-API-Key = 123", "PRIVATE-TOKEN: glpat-1",
    "bad credentials: Bearer KUBETOKENSECRET123", "Basic YWxpY2U6aHVudGVyMg==", "HTTP Basic auth",
    "a bearer token.", "nothing to see: ruff check . && pytest -q", "mail me@example.com",
])
def test_the_quick_credentials_check_agrees_with_the_patterns(text: str) -> None:
    """`mentions_credentials` skips patterns whose words are absent: it must never skip one
    that would have matched (scrubbing relies on it for every evidence item)."""
    from maturity_probe import redact as module

    patterns = (module._URL_CREDENTIALS, module._TOKEN_PARAMS, module._AUTH_HEADER,
                module._SCHEME_CREDENTIAL)
    assert mentions_credentials(text) == any(p.search(text) for p in patterns)
    assert mentions_credentials(text) == (redact(text) != text or "Basic auth" in text
                                          or "bearer token" in text)
