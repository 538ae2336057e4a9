"""Benchmark of the prometheus collector against a loaded real Prometheus.

Starts /usr/bin/prometheus on 127.0.0.1 scraping a generated exposition of >= 50,000 series
(model-serving, drift and quality series of 1,000 models, plus infrastructure series) with
2,000 alerting rules (drift, quality, serving and infrastructure). In the same run it times
the bare baseline - `GET /api/v1/rules` then `GET /api/v1/label/__name__/values`, JSON
decoded - and the whole collector, and prints both with their request counts.
Target: the collector within 1.5x of the baseline.

    .venv/bin/python benchmarks/bench_prometheus.py [--models 1000] [--rules 2000] [--runs 7]
"""

from __future__ import annotations

import argparse
import http.server
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.prometheus import (
    PrometheusCollector,
    PrometheusSource,
    PromHttp,
    _gc_paused,
)

TARGET_RATIO = 1.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exposition(models: int, infra_series: int, started: float) -> str:
    """Model series (14 per model) and infrastructure series; counters grow with time."""
    tick = int(time.monotonic() - started)
    out: list[str] = ["# TYPE model_predictions_total counter"]
    out += [f'model_predictions_total{{model="m{i}"}} {tick * (i % 7 + 1)}' for i in range(models)]
    out.append("# TYPE model_request_errors_total counter")
    out += [f'model_request_errors_total{{model="m{i}"}} {tick // 50}' for i in range(models)]
    out.append("# TYPE model_request_duration_seconds histogram")
    for i in range(models):
        for le in ("0.01", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"):
            out.append(f'model_request_duration_seconds_bucket{{model="m{i}",le="{le}"}} {tick}')
        out.append(f'model_request_duration_seconds_sum{{model="m{i}"}} {tick * 0.03:.2f}')
        out.append(f'model_request_duration_seconds_count{{model="m{i}"}} {tick}')
    out.append("# TYPE evidently_drift_share gauge")
    out += [f'evidently_drift_share{{model="m{i}"}} {(i % 10) / 10}' for i in range(models)]
    out.append("# TYPE model_accuracy gauge")
    out += [f'model_accuracy{{model="m{i}"}} 0.9' for i in range(models)]
    per_family = 120
    for family in range(infra_series // per_family + 1):
        name = f"node_subsystem{family}_operations_total"
        out.append(f"# TYPE {name} counter")
        out += [f'{name}{{device="dev{d}",mode="m{d % 4}"}} {tick * d}' for d in range(per_family)]
    return "\n".join(out) + "\n"


def rules_yaml(models: int, rules: int, ml_share: float) -> str:
    """`rules` alerting rules in groups of 50; `ml_share` of them watch models (drift 40%,
    quality 20%, serving 40%), the others watch infrastructure."""
    lines = ["groups:"]
    ml_rules = round(rules * ml_share)
    for index in range(rules):
        if index % 50 == 0:
            lines += [f"  - name: group-{index // 50}", "    interval: 15s", "    rules:"]
        model = f"m{index % models}"
        kind = (index * 10 // max(ml_rules, 1)) % 10 if index < ml_rules else 99
        if kind < 4:
            rule = (
                f"ModelDrift{index}",
                f'evidently_drift_share{{model="{model}"}} > 0.85',
                "Data drift of the model inputs",
            )
        elif kind < 6:
            rule = (
                f"ModelAccuracyLow{index}",
                f'model_accuracy{{model="{model}"}} < 0.8',
                "Accuracy on labelled traffic is low",
            )
        elif kind < 10:
            rule = (
                f"ModelLatencyHigh{index}",
                f"histogram_quantile(0.99, sum by (le) (rate(model_request_duration_seconds_bucket"
                f'{{model="{model}"}}[5m]))) > 2',
                "p99 latency of the model is high",
            )
        else:
            rule = (
                f"NodeSubsystemErrors{index}",
                f"rate(node_subsystem{index % 300}_operations_total[5m]) > 1e9",
                "A node subsystem is saturated",
            )
        name, expr, summary = rule
        lines += [
            f"      - alert: {name}",
            f"        expr: '{expr}'",
            "        for: 10m",
            "        labels: {severity: warning, team: platform}",
            f"        annotations: {{summary: '{summary}', runbook_url: 'https://runbooks.invalid/{name}'}}",
        ]
    return "\n".join(lines) + "\n"


class Exposition:
    def __init__(self, models: int, infra_series: int) -> None:
        self.started = time.monotonic()
        self.models, self.infra = models, infra_series
        self.body = b""
        self.refreshed = 0.0
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = owner.current()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def current(self) -> bytes:
        with self.lock:
            if time.monotonic() - self.refreshed > 4:
                self.body = exposition(self.models, self.infra, self.started).encode()
                self.refreshed = time.monotonic()
            return self.body


def get(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    response.raise_for_status()
    return response.json()["data"]


def count_series(client: httpx.Client) -> int:
    response = client.get("/api/v1/query", params={"query": 'count({__name__=~".+"})'})
    result = response.json()["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def rule_groups(client: httpx.Client) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/rules").json()["data"]["groups"])


def wait(
    client: httpx.Client, condition: str, check: Callable[[httpx.Client], bool], timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check(client):
                return
        except (httpx.HTTPError, KeyError, ValueError, IndexError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"Prometheus not {condition} within {timeout:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--rules", type=int, default=2000)
    parser.add_argument("--ml-share", type=float, default=0.25, help="share of rules watching models")
    parser.add_argument("--series", type=int, default=50_000, help="minimum number of series")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print a profile of one collector run")
    args = parser.parse_args()
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    infra = max(0, args.series - 14 * args.models) + 120
    target = Exposition(args.models, infra)
    root = Path(tempfile.mkdtemp(prefix="bench-prometheus-"))
    (root / "rules.yml").write_text(rules_yaml(args.models, args.rules, args.ml_share))
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 5s, scrape_timeout: 5s, evaluation_interval: 15s}\n"
        f"rule_files: [{root / 'rules.yml'}]\n"
        "alerting: {alertmanagers: [{static_configs: [{targets: ['127.0.0.1:1']}]}]}\n"
        "scrape_configs: [{job_name: model-servers, static_configs: [{targets: "
        f"['127.0.0.1:{target.port}']}}]}}]\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            wait(client, "ready", lambda c: c.get("/-/ready").status_code == 200)
            wait(client, f"holding {args.series} series", lambda c: count_series(c) >= args.series)
            wait(
                client,
                "evaluating every rule group",
                lambda c: all(not g["lastEvaluation"].startswith("0001") for g in rule_groups(c)),
            )
            wait(
                client,
                "with request rates",
                lambda c: bool(
                    c.get("/api/v1/query", params={"query": "rate(model_predictions_total[1m]) > 0"}).json()[
                        "data"
                    ]["result"]
                ),
            )
            series = count_series(client)
            rules = sum(len(g["rules"]) for g in rule_groups(client))
            names = len(client.get("/api/v1/label/__name__/values").json()["data"])

            def baseline() -> float:
                started = time.perf_counter()
                get(client, "/api/v1/rules")
                get(client, "/api/v1/label/__name__/values")
                return time.perf_counter() - started

            source = PrometheusSource(name="bench", url=url, lookback_days=30)

            def collector() -> tuple[float, int, int, str]:
                started = time.perf_counter()
                evidence, status = run_collector(
                    PrometheusCollector(source, CollectContext(now=datetime.now(UTC)))
                )
                return time.perf_counter() - started, status.requests, len(evidence), status.status.value

            def reading() -> float:
                """The API part alone: every request, the rule classification between them
                (with cyclic GC paused, as the collector reads)."""
                probe = PrometheusCollector(source, CollectContext(now=datetime.now(UTC)))
                http = PromHttp(source, probe.status)
                started = time.perf_counter()
                try:
                    with _gc_paused():
                        probe._read(http)
                finally:
                    http.close()
                return time.perf_counter() - started

            baseline(), collector()  # warm both paths once
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.runcall(collector)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            base_times, runs, reads = [], [], []
            for _ in range(args.runs):  # interleaved, so all see the same server load
                base_times.append(baseline())
                runs.append(collector())
                reads.append(reading())
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        target.httpd.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    base = statistics.median(base_times)
    took = statistics.median(r[0] for r in runs)
    _, requests, evidence, state = runs[-1]
    ratio = took / base
    print(
        f"prometheus: {series} series, {names} metric names, {rules} rules "
        f"({args.ml_share:.0%} on models), {args.models} models"
    )
    print(f"baseline  GET /api/v1/rules + /api/v1/label/__name__/values: {base * 1000:7.1f} ms, 2 requests")
    read = statistics.median(reads)
    print(
        f"collector {state}: {took * 1000:7.1f} ms, {requests} requests, {evidence} evidence items "
        f"(median of {args.runs}); reading the API: {read * 1000:.1f} ms ({read / base:.2f}x)"
    )
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(f"{verdict}: collector / baseline = {ratio:.2f} (target <= {TARGET_RATIO})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
