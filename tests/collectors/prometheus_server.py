"""Real Prometheus servers for the prometheus collector tests, and the doubles around them.

`ModelServer` is a small HTTP server exposing model metrics the way a model server and
an Evidently job would (prediction counters and latency histograms per model label, a
drift share, accuracy). `PrometheusServer` runs `/usr/bin/prometheus` on 127.0.0.1 with
1 s scrape and evaluation intervals, the rule files of tests/fixtures/prometheus/ and the
model server as scrape target. `FakeApi` answers like the Prometheus HTTP API (or not:
HTML pages, slow answers, 429) for the failure tests.

A missing Prometheus binary fails the tests (`apt-get install prometheus`), never skips.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.prometheus import PrometheusCollector, PrometheusSource
from maturity_probe.evidence import Evidence, SourceStatus

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prometheus"
RULES = FIXTURES / "rules"
AUTH_USER = "probe"
AUTH_PASSWORD = "probe-Pa55word"  # its bcrypt hash is in tests/fixtures/prometheus/web-config.yml
READY_TIMEOUT = 30.0


def prometheus_binary() -> str:
    """The Prometheus server; its absence is a failure, in CI and elsewhere."""
    for candidate in ("/usr/bin/prometheus", "/usr/local/bin/prometheus"):
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Prometheus is not installed (apt-get install prometheus): the prometheus "
        "collector tests need a real server"
    )


def promtool_binary() -> str:
    for candidate in ("/usr/bin/promtool", "/usr/local/bin/promtool"):
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("promtool is not installed (apt-get install prometheus)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a model server ---------------------------------------------------------------------


@dataclass
class ServedModel:
    """One model as its server and monitoring jobs expose it."""

    requests_per_second: float = 0.0
    drift_share: float | None = None
    accuracy: float | None = None
    skew_ratio: float | None = None
    label: str = "model"  # the label naming the model on its series


class ModelServer:
    """`/metrics` of a model server: counters grow with time at each model's request rate."""

    def __init__(self, models: dict[str, ServedModel]) -> None:
        self.models = models
        self.started = time.monotonic()
        self.port = free_port()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> ModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def exposition(self) -> str:
        elapsed = time.monotonic() - self.started
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: list[str]) -> None:
            if samples:
                lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples])

        served = {n: m for n, m in self.models.items() if m.requests_per_second > 0}
        family(
            "model_predictions_total",
            "counter",
            "Predictions served by the model server.",
            [
                f'model_predictions_total{{{m.label}="{n}"}} {int(elapsed * m.requests_per_second)}'
                for n, m in served.items()
            ],
        )
        family(
            "model_request_errors_total",
            "counter",
            "Prediction requests that failed.",
            [
                f'model_request_errors_total{{{m.label}="{n}"}} {int(elapsed * m.requests_per_second / 200)}'
                for n, m in served.items()
            ],
        )
        buckets = []
        for name, model in served.items():
            count = int(elapsed * model.requests_per_second)
            for le, share in (("0.05", 0.6), ("0.1", 0.9), ("0.5", 0.99), ("+Inf", 1.0)):
                buckets.append(
                    f'model_request_duration_seconds_bucket{{{model.label}="{name}",'
                    f'le="{le}"}} {int(count * share)}'
                )
            buckets.append(f'model_request_duration_seconds_sum{{{model.label}="{name}"}} {count * 0.04:.3f}')
            buckets.append(f'model_request_duration_seconds_count{{{model.label}="{name}"}} {count}')
        family("model_request_duration_seconds", "histogram", "Latency of prediction requests.", buckets)
        family(
            "evidently_drift_share",
            "gauge",
            "Share of drifted columns (Evidently DataDriftPreset) over the last day.",
            [
                f'evidently_drift_share{{{m.label}="{n}"}} {m.drift_share}'
                for n, m in self.models.items()
                if m.drift_share is not None
            ],
        )
        family(
            "model_accuracy",
            "gauge",
            "Accuracy on labelled production samples.",
            [
                f'model_accuracy{{{m.label}="{n}"}} {m.accuracy}'
                for n, m in self.models.items()
                if m.accuracy is not None
            ],
        )
        family(
            "feature_skew_ratio",
            "gauge",
            "Ratio of serving to training feature means.",
            [
                f'feature_skew_ratio{{{m.label}="{n}"}} {m.skew_ratio}'
                for n, m in self.models.items()
                if m.skew_ratio is not None
            ],
        )
        family("process_open_fds", "gauge", "Open file descriptors.", ["process_open_fds 12"])
        return "\n".join(lines) + "\n"


# -- a real Prometheus --------------------------------------------------------------------


@dataclass
class PrometheusServer:
    """`/usr/bin/prometheus` on 127.0.0.1 with its own config, rules and TSDB directory."""

    root: Path
    rule_files: list[Path] = field(default_factory=list)
    targets: dict[str, list[str]] = field(default_factory=dict)  # job -> host:port
    alertmanager: bool = False
    web_config: Path | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.root / "prometheus.yml"

    def write_config(self) -> None:
        lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s", "  evaluation_interval: 1s"]
        if self.rule_files:
            lines += ["rule_files:", *(f"  - {path}" for path in self.rule_files)]
        if self.alertmanager:  # an Alertmanager nobody runs: Prometheus still routes to it
            lines += [
                "alerting:",
                "  alertmanagers:",
                "    - static_configs:",
                f"        - targets: ['127.0.0.1:{free_port()}']",
            ]
        if self.targets:
            lines.append("scrape_configs:")
        for job, addresses in self.targets.items():
            lines += [
                f"  - job_name: {job}",
                "    static_configs:",
                f"      - targets: [{', '.join(repr(a) for a in addresses)}]",
            ]
        self.config_file.write_text("\n".join(lines) + "\n")

    def start(self) -> PrometheusServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_config()
        command = [
            prometheus_binary(),
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        if self.web_config:
            command.append(f"--web.config.file={self.web_config}")
        log = (self.root / "prometheus.log").open("wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        self.wait_for(lambda: self.get("/-/ready", raw=True) is not None, "ready")
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def reload(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def get(self, path: str, raw: bool = False) -> Any:
        """GET with the test credentials; None while the server does not answer."""
        request = urllib.request.Request(self.url + path)
        if self.web_config:
            token = base64.b64encode(f"{AUTH_USER}:{AUTH_PASSWORD}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                body = response.read()
        except (urllib.error.URLError, OSError):
            return None
        return body if raw else json.loads(body).get("data")

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        return list((data or {}).get("result", []))

    def rule(self, name: str) -> dict[str, Any]:
        for group in (self.get("/api/v1/rules") or {}).get("groups", []):
            for rule in group["rules"]:
                if rule["name"] == name:
                    return dict(rule)
        return {}

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            with contextlib.suppress(Exception):
                if condition():
                    return
            time.sleep(0.2)
        log = (self.root / "prometheus.log").read_text(errors="replace")[-2000:]
        self.stop()
        pytest.fail(f"Prometheus on port {self.port} not {what} within {timeout:.0f}s:\n{log}")


@contextlib.contextmanager
def running(*servers: PrometheusServer) -> Iterator[tuple[PrometheusServer, ...]]:
    """Start servers together (their first scrapes overlap) and always stop them."""
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


# -- running the collector -------------------------------------------------------------------


@dataclass
class Scan:
    evidence: list[Evidence]
    status: SourceStatus

    def of(self, signal: str, subject: str | None = None, alert: str | None = None) -> list[Evidence]:
        return [
            e
            for e in self.evidence
            if e.signal == signal
            and (subject is None or e.subject == subject)
            and (alert is None or e.attributes.get("alert") == alert)
        ]

    def one(self, signal: str, subject: str | None = None, alert: str | None = None) -> Evidence:
        found = self.of(signal, subject, alert)
        assert len(found) == 1, (signal, subject, alert, [(e.subject, e.summary) for e in self.evidence])
        return found[0]


def scan(url: str, name: str = "prod-prom", **settings: Any) -> Scan:
    source = PrometheusSource(name=name, url=url, **{"lookback_days": 30, **settings})
    collector = PrometheusCollector(source, CollectContext(now=datetime.now(UTC)))
    evidence, status = run_collector(collector)
    return Scan(evidence, status)


# -- doubles of the HTTP API --------------------------------------------------------------------

EMPTY_DATA: dict[str, Any] = {
    "/api/v1/rules": {"groups": []},
    "/api/v1/label/__name__/values": [],
    "/api/v1/metadata": {},
    "/api/v1/targets": {"activeTargets": [], "droppedTargets": []},
    "/api/v1/alertmanagers": {"activeAlertmanagers": [], "droppedAlertmanagers": []},
    "/api/v1/status/runtimeinfo": {"reloadConfigSuccess": True},
    "/api/v1/query": {"resultType": "vector", "result": []},
    "/api/v1/query_range": {"resultType": "matrix", "result": []},
}

Reply = tuple[int, dict[str, str], bytes]


def success(path: str, data: Any = None) -> Reply:
    payload = {"status": "success", "data": EMPTY_DATA.get(path, {}) if data is None else data}
    return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()


class FakeApi:
    """An HTTP server whose `answer(path, handler)` decides each reply; records requests."""

    def __init__(self, answer: Callable[[str, http.server.BaseHTTPRequestHandler], Reply | None]) -> None:
        self.answer = answer
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.port = free_port()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self) -> None:
                path = self.path.split("?", 1)[0]
                fake.requests.append((self.command, path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                reply = fake.answer(path, self)
                if reply is None:  # the handler took care of the connection
                    return
                code, headers, body = reply
                self.send_response(code)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = handle_any

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
