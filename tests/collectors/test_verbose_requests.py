"""`--verbose` shows each source's HTTP requests on stderr, and never a secret.

End to end: `maturity-probe --verbose scan` with a real Prometheus (the prometheus collector,
httpx) and the local GitHub API (the github collector, PyGithub over requests and urllib3),
each with a canary token. Then the request log alone, fed by real requests of both
libraries whose URLs carry secrets (a token as a path segment, credential-like query
parameters), to show the redaction is not vacuous.
"""

from __future__ import annotations

import http.server
import io
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from github_server import GitHubState, running
from host_repos import github_org
from mlflow_support import RunningMlflow
from prometheus_server import PrometheusServer

from maturity_probe import requestlog
from maturity_probe.collectors.prometheus import PrometheusSource
from support import serving

PROM_CANARY = "prom-canary-7Qx9v2LmZt"
GITHUB_CANARY = "ghp_canaryT0kenZ8w1Nq4Rk"
pytest_plugins = ["mlflow_server"]  # a real MLflow server; a socket that never answers
LINE = re.compile(r"^\+\d+\.\d{3}s (?P<source>\S+) (?P<method>[A-Z]+) (?P<url>\S+) (?P<status>\d{3})$")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[PrometheusServer]:
    server = PrometheusServer(tmp_path / "prometheus").start()
    try:
        yield server
    finally:
        server.stop()


def test_verbose_scan_lists_every_request_and_no_token(prometheus: PrometheusServer, tmp_path: Path) -> None:
    state = GitHubState(github_org(), token=GITHUB_CANARY)
    with running(state) as api:
        config = tmp_path / "platform.yaml"
        config.write_text(
            "sources:\n"
            "  - type: prometheus\n    name: prod-prom\n"
            f"    url: {prometheus.url}\n    token_env: PROM_TOKEN\n"
            "  - type: github\n    name: acme-github\n"
            f"    base_url: {api}\n    token_env: ACME_GITHUB_TOKEN\n    repos: [acme/churn-model]\n")
        env = {**os.environ, "PROM_TOKEN": PROM_CANARY, "ACME_GITHUB_TOKEN": GITHUB_CANARY}
        done = subprocess.run(
            [sys.executable, "-m", "maturity_probe", "--verbose", "scan", "--config", str(config),
             "--no-store", "--format", "json"], capture_output=True, text=True, timeout=180, env=env)
        served = len(state.log)
    assert done.returncode == 0, done.stderr[-3000:]
    requests_seen = [m.groupdict() for m in map(LINE.match, done.stderr.splitlines()) if m]
    by_source = {name: [r for r in requests_seen if r["source"] == name]
                 for name in ("prod-prom", "acme-github")}
    assert {(r["method"], r["url"], r["status"]) for r in by_source["prod-prom"]} >= {
        ("GET", f"{prometheus.url}/api/v1/rules", "200"),
        ("GET", f"{prometheus.url}/api/v1/targets?state=active", "200"),
        ("GET", f"{prometheus.url}/api/v1/alertmanagers", "200"),
    }
    assert ("GET", f"{api}/repos/acme/churn-model", "200") in {
        (r["method"], r["url"], r["status"]) for r in by_source["acme-github"]}
    assert len(by_source["acme-github"]) == served  # one line per request the API answered
    assert all(r["source"] in by_source for r in requests_seen), requests_seen
    for canary in (PROM_CANARY, GITHUB_CANARY):
        assert canary not in done.stderr and canary not in done.stdout


def test_without_verbose_no_request_is_shown(prometheus: PrometheusServer, tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text(f"sources:\n  - type: prometheus\n    name: prod-prom\n    url: {prometheus.url}\n")
    done = subprocess.run([sys.executable, "-m", "maturity_probe", "scan", "--config", str(config),
                           "--no-store", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "/api/v1/rules" not in done.stderr


# -- the request log alone, with secrets in the URLs --------------------------------------------


class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404 if "missing" in self.path else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def local_api() -> Iterator[str]:
    with serving(Answer) as url:
        yield url


@pytest.fixture
def request_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    requestlog.enable(stream)
    try:
        yield stream
    finally:
        requestlog.disable()


def in_thread(name: str, work: Any) -> None:
    thread = threading.Thread(target=work, name=name)
    thread.start()
    thread.join()


def test_secrets_in_urls_are_redacted(local_api: str, request_log: io.StringIO) -> None:
    secret = "s3cr3t-Path-Token-91"
    requestlog.watch(PrometheusSource(name="edge-prom", url=local_api), [secret])
    with_secrets = [
        f"{local_api}/t/{secret}/api/v1/rules",  # a proxy that takes its key in the path
        f"{local_api}/api/v4/projects?private_token=glpat-abcdef123456&page=2",
        f"{local_api}/bucket/model.tar.gz?X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=f00dfeed",
        f"{local_api}/missing?client_secret=hush-hush&sig=az-sas-signature",
    ]
    in_thread("source:edge-prom", lambda: [requests.get(url, timeout=5) for url in with_secrets[:2]])
    in_thread("source:edge-prom", lambda: [httpx.get(url, timeout=5) for url in with_secrets[2:]])
    lines = request_log.getvalue().splitlines()
    assert [LINE.match(line).group("method", "status") for line in lines] == [  # type: ignore[union-attr]
        ("GET", "200"), ("GET", "200"), ("GET", "200"), ("GET", "404")]
    assert lines[0].endswith(f"edge-prom GET {local_api}/t/***/api/v1/rules 200")
    assert lines[1].endswith(f"{local_api}/api/v4/projects?private_token=***&page=2 200")
    assert lines[2].endswith(f"{local_api}/bucket/model.tar.gz?X-Amz-Credential=***&X-Amz-Signature=*** 200")
    assert lines[3].endswith(f"{local_api}/missing?client_secret=***&sig=*** 404")
    text = request_log.getvalue()
    for leaked in (secret, "glpat-abcdef123456", "AKIAEXAMPLE", "f00dfeed", "hush-hush", "az-sas-signature"):
        assert leaked not in text


def test_worker_threads_are_named_by_the_origin_of_their_source(local_api: str,
                                                                request_log: io.StringIO) -> None:
    """A collector's own pool threads are not named after the source: the URL tells."""
    requestlog.watch(PrometheusSource(name="edge-prom", url=local_api), [])
    in_thread("ThreadPoolExecutor-3_0", lambda: requests.get(f"{local_api}/api/v1/metadata", timeout=5))
    other = local_api.replace("127.0.0.1", "localhost")  # the same server, an origin no source uses
    in_thread("ThreadPoolExecutor-3_1", lambda: requests.get(f"{other}/api/v1/metadata", timeout=5))
    first, second = request_log.getvalue().splitlines()
    assert " edge-prom GET " in first
    assert " ThreadPoolExecutor-3_1 GET " in second


def test_requests_of_a_collectors_worker_threads_are_named_by_their_source(
        mlflow_server: RunningMlflow, silent_url: str, tmp_path: Path) -> None:
    """Two MLflow sources on one server (its origin cannot tell them apart) read with their
    own pools of threads; a third one's requests time out and are retried."""
    config = tmp_path / "platform.yaml"
    config.write_text("sources:\n" + "".join(
        f"  - type: mlflow\n    name: {name}\n    tracking_uri: {url}\n"
        "    timeout_seconds: 1\n    max_retries: 1\n"
        for name, url in (("mlflow-a", mlflow_server.url), ("mlflow-b", mlflow_server.url),
                          ("mlflow-silent", silent_url))))
    done = subprocess.run(
        [sys.executable, "-m", "maturity_probe", "--verbose", "scan", "--config", str(config),
         "--no-store", "--format", "json"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    logged = [line for line in done.stderr.splitlines() if re.match(r"^\+\d+\.\d{3}s ", line)]
    requests_seen = [m.groupdict() for m in map(LINE.match, logged) if m]
    for name in ("mlflow-a", "mlflow-b"):
        made = {(r["method"], r["url"].removeprefix(mlflow_server.url), r["status"])
                for r in requests_seen if r["source"] == name}
        assert made >= {  # runs are searched by the pool of the tracking side's thread
            ("POST", "/api/2.0/mlflow/experiments/search", "200"),
            ("POST", "/api/2.0/mlflow/runs/search", "200"),
            ("GET", "/api/2.0/mlflow/registered-models/search?max_results=1000", "200"),
            ("GET", "/api/2.0/mlflow/model-versions/search?max_results=10000", "200"),
        }, made
    retries = [line for line in logged if " RETRY " in line]
    assert retries and all(re.fullmatch(
        rf"\+\d+\.\d{{3}}s mlflow-silent RETRY {silent_url}/api/2\.0/mlflow/\S+ ReadTimeoutError "
        r"\(0 retries left\)", line) for line in retries), retries
    assert {line.split()[1] for line in logged} == {"mlflow-a", "mlflow-b", "mlflow-silent"}, logged


def test_two_github_sources_on_one_host_are_told_apart(tmp_path: Path) -> None:
    """The host scan's own pools (repositories, file fetches) are named by their source, so
    two sources on one GitHub (the origin cannot tell them apart) keep their requests."""
    state = GitHubState(github_org(), token=GITHUB_CANARY)
    with running(state) as api:
        config = tmp_path / "platform.yaml"
        config.write_text("sources:\n" + "".join(
            f"  - type: github\n    name: {name}\n    base_url: {api}\n"
            f"    token_env: ACME_GITHUB_TOKEN\n    repos: [{repo}]\n"
            for name, repo in (("gh-churn", "acme/churn-model"), ("gh-web", "acme/web-frontend"))))
        env = {**os.environ, "ACME_GITHUB_TOKEN": GITHUB_CANARY}
        done = subprocess.run(
            [sys.executable, "-m", "maturity_probe", "--verbose", "scan", "--config", str(config),
             "--no-store", "--format", "json"], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    requests_seen = [m.groupdict() for m in map(LINE.match, done.stderr.splitlines()) if m]
    assert requests_seen and {r["source"] for r in requests_seen} == {"gh-churn", "gh-web"}
    for name, repo, other in (("gh-churn", "churn-model", "web-frontend"),
                              ("gh-web", "web-frontend", "churn-model")):
        urls = [r["url"] for r in requests_seen if r["source"] == name]
        assert f"{api}/repos/acme/{repo}" in urls
        assert not any(f"/acme/{other}" in url for url in urls), urls
