"""The kubernetes collector when the cluster cannot be read: the source fails (or is
partial) with a one-line reason, and the scan still completes."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from k8s_server import FIXTURES, TOKEN, RunningServer, recorded_state, serve

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.kubernetes import (
    KubernetesCollector,
    KubernetesSource,
    client_configuration,
)
from maturity_probe.config import load_config
from maturity_probe.evidence import Evidence, SourceState, SourceStatus
from maturity_probe.inference.rules import load_rules
from maturity_probe.run import scan_config
from support import NOW


def scan(config: KubernetesSource) -> tuple[list[Evidence], SourceStatus]:
    return run_collector(KubernetesCollector(config, CollectContext(now=NOW)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig_for(url: str, directory: Path, token: str = TOKEN) -> Path:
    return RunningServer(recorded_state(), url).kubeconfig(directory, token=token)


@pytest.fixture
def cluster() -> Iterator[RunningServer]:
    with serve(recorded_state()) as server:
        yield server


def test_refused_connection_fails_the_source_with_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    evidence, status = scan(KubernetesSource(name="prod", kubeconfig=kubeconfig_for(url, tmp_path),
                                             max_retries=1))
    assert evidence == []
    assert status.status == SourceState.failed
    assert status.reason == f"cannot connect to {url}: connection refused"
    assert status.requests == 2  # one retry


def test_refused_credentials_fail_the_source_without_showing_them(cluster: RunningServer,
                                                                  tmp_path: Path) -> None:
    wrong = "a-wrong-token-5d1e7"
    config = KubernetesSource(name="prod", kubeconfig=kubeconfig_for(cluster.url, tmp_path, wrong))
    evidence, status = scan(config)
    assert evidence == [] and status.status == SourceState.failed
    assert status.reason == (f"{cluster.url} refused the credentials (HTTP 401 Unauthorized): "
                             "check the kubeconfig user or service account")
    assert wrong not in status.reason
    assert status.requests == 1  # a 401 is not retried


def test_missing_or_wrong_kubeconfig_fails_the_source(cluster: RunningServer, tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config"
    _, status = scan(KubernetesSource(name="prod", kubeconfig=missing))
    assert (status.status, status.reason) == (SourceState.failed, f"{missing}: no such kubeconfig file")
    config = KubernetesSource(name="prod", kubeconfig=cluster.kubeconfig(tmp_path), context="staging")
    _, status = scan(config)
    assert status.status == SourceState.failed
    assert status.reason.startswith(f"cannot load kubeconfig {tmp_path / 'kubeconfig.yaml'}: ")
    assert "staging" in status.reason and "\n" not in status.reason


class _HtmlPage(BaseHTTPRequestHandler):
    """A web server that is not a Kubernetes API server (a login page, a proxy error)."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        body = b"<html><body><h1>Sign in</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Silent(BaseHTTPRequestHandler):
    """Accepts the request and never answers."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.server.stopped.wait(10)  # type: ignore[attr-defined]


@pytest.fixture
def odd_server(request: pytest.FixtureRequest) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    server.daemon_threads = True
    server.stopped = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopped.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("odd_server", [_HtmlPage], indirect=True)
def test_a_server_that_is_not_kubernetes_fails_the_source(odd_server: str, tmp_path: Path) -> None:
    _, status = scan(KubernetesSource(name="prod", kubeconfig=kubeconfig_for(odd_server, tmp_path)))
    assert status.status == SourceState.failed
    assert status.reason == (f"{odd_server} answered /apis with something that is not JSON: "
                             "not a Kubernetes API server")


@pytest.mark.parametrize("odd_server", [_Silent], indirect=True)
def test_a_server_that_does_not_answer_times_out(odd_server: str, tmp_path: Path) -> None:
    config = KubernetesSource(name="prod", kubeconfig=kubeconfig_for(odd_server, tmp_path),
                              timeout_seconds=1, max_retries=0)
    _, status = scan(config)
    assert status.status == SourceState.failed
    assert status.reason == f"{odd_server} did not answer /apis within 1 s (timeout)"


def test_an_expired_continue_token_restarts_the_listing(tmp_path: Path) -> None:
    state = recorded_state()
    state.expire_continue.add("/apis/batch/v1/cronjobs")
    with serve(state) as server:
        evidence, status = scan(KubernetesSource(name="prod", kubeconfig=server.kubeconfig(tmp_path),
                                                 page_size=4))
    assert status.status == SourceState.ok
    cronjobs = [r for r in state.requests if r.startswith("/apis/batch/v1/cronjobs")]
    assert len(cronjobs) == 4  # page 1, expired page 2, page 1 again, page 2
    scheduled = {e.subject for e in evidence if e.signal == "retrain.scheduled"}
    assert "k8s:prod/ml-training/CronJob/ltv-retrain" in scheduled  # on the second page


def test_in_a_pod_the_service_account_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes.config import incluster_config

    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("service-account-token-81c2")
    ca.write_text((FIXTURES / "discovery" / "api.json").read_text())  # any file: only its path is used
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    configuration = client_configuration(KubernetesSource(name="in-cluster"))
    assert configuration.host == "https://10.96.0.1:443"
    assert configuration.api_key["BearerToken"].lower() == "bearer service-account-token-81c2"
    assert configuration.ssl_ca_cert == str(ca)


def test_manifests_and_kubeconfig_do_not_go_together(tmp_path: Path) -> None:
    file = tmp_path / "platform.yaml"
    file.write_text("sources:\n  - type: kubernetes\n    name: k\n    manifests: deploy/\n"
                    "    kubeconfig: ~/.kube/config\n")
    with pytest.raises(Exception) as caught:
        load_config(file)
    assert f"{file}:2: sources.0: `manifests` reads files offline" in str(caught.value)


def test_a_failed_cluster_leaves_the_scan_complete(tmp_path: Path) -> None:
    manifests = FIXTURES / "manifests"
    file = tmp_path / "platform.yaml"
    file.write_text(json.dumps({"sources": [
        {"type": "kubernetes", "name": "prod-cluster", "max_retries": 0,
         "kubeconfig": str(kubeconfig_for(f"http://127.0.0.1:{free_port()}", tmp_path))},
        {"type": "kubernetes", "name": "deploy-manifests", "manifests": str(manifests)},
    ]}))
    assessment = scan_config(load_config(file), load_rules(), now=NOW)
    statuses = {s.name: s for s in assessment.sources}
    assert statuses["prod-cluster"].status == SourceState.failed
    assert statuses["prod-cluster"].reason.startswith("cannot connect to http://127.0.0.1:")
    assert statuses["deploy-manifests"].status == SourceState.ok
    assert {e.source for e in assessment.evidence} == {"deploy-manifests"}
    # the manifests declare serving; nothing could be verified live, which is not `unmet`
    assert assessment.capabilities["managed_serving"].status.value == "met"
