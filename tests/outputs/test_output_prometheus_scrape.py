"""`maturity-probe serve` scraped by a real Prometheus, values queried back over its API.

Also: every expression of the Grafana dashboard (deploy/grafana/maturity-probe.json)
evaluates against that Prometheus and returns data, and the dashboard uses only metric
families the exposition writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from outputs_support import NOW, full_assessment

from maturity_probe.outputs import metrics
from maturity_probe.store import Store

pytestmark = pytest.mark.service
DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "maturity-probe.json"
METRIC = re.compile(r"\bmaturity_probe_[a-z_]+\b")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str) -> tuple[int, str, str]:
    """(status, content type, body); status 0 while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()
    except (urllib.error.URLError, OSError):
        return 0, "", ""


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(0.25)
    pytest.fail(f"{what} not within {timeout:.0f}s")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def serving(store_url: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "maturity_probe", "serve", "--store", store_url, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_get(url + "/healthz")[0] == 200, "serve answering /healthz")
        yield url, process
    finally:
        stop(process)


def prometheus_binary() -> str:
    for candidate in ("/usr/bin/prometheus", "/usr/local/bin/prometheus"):
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("Prometheus is not installed (apt-get install prometheus)")


@contextlib.contextmanager
def prometheus(root: Path, target: str) -> Iterator[str]:
    port = free_port()
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                      "scrape_configs:\n  - job_name: maturity-probe\n"
                      f"    static_configs:\n      - targets: ['{target}']\n")
    log = (root / "prometheus.log").open("w")
    process = subprocess.Popen(
        [prometheus_binary(), f"--config.file={config}", f"--storage.tsdb.path={root / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=log, text=True, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


def query(prom: str, expr: str) -> list[dict[str, Any]]:
    status, _, body = http_get(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert status == 200, (expr, body)
    answer = json.loads(body)
    assert answer["status"] == "success", (expr, answer)
    return list(answer["data"]["result"])


def one(prom: str, expr: str) -> float:
    result = query(prom, expr)
    assert len(result) == 1, (expr, result)
    return float(result[0]["value"][1])


def dashboard_expressions() -> list[str]:
    document = json.loads(DASHBOARD.read_text())
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "definition") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(document)
    return found


def test_dashboard_is_valid_and_uses_only_exported_metrics() -> None:
    document = json.loads(DASHBOARD.read_text())
    assert document["uid"] and document["title"] and document["schemaVersion"] >= 30
    expressions = dashboard_expressions()
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert used <= set(metrics.metric_names()), used - set(metrics.metric_names())
    # every family of the exposition is shown somewhere
    assert used == set(metrics.metric_names())
    ids = [p["id"] for p in document["panels"]]
    assert len(ids) == len(set(ids))
    for panel in document["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])


def test_prometheus_scrapes_serve_and_reads_the_assessment_back(tmp_path: Path) -> None:
    assessment = full_assessment()
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store.open(store_url) as store:
        store.save(assessment, config_key="platform.yaml")
    with serving(store_url) as (url, _), prometheus(tmp_path, url.removeprefix("http://")) as prom:
        status, content_type, body = http_get(url + "/metrics")
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        assert body == metrics.render(assessment)
        wait_for(lambda: bool(query(prom, "maturity_probe_scan_info")), "the first scrape")
        assert one(prom, 'up{job="maturity-probe"}') == 1
        assert one(prom, 'maturity_probe_level{model="alpha",scope="platform"}') == 2
        assert one(prom, 'maturity_probe_level_at_least{model="beta",scope="platform"}') == 1
        assert one(prom, 'maturity_probe_level{model="alpha",system="fraud"}') == 1
        assert one(prom, 'maturity_probe_systems{model="beta",level="1"}') == 2
        statuses = query(prom, 'sum by (requirement) (maturity_probe_requirement_status{model="alpha"})')
        assert len(statuses) == 7 and all(float(s["value"][1]) == 1 for s in statuses)
        assert one(prom, 'maturity_probe_requirement_status{model="alpha",requirement="deploy",'
                         'status="unmet"}') == 1
        assert one(prom, 'maturity_probe_kpi{kpi="out_training_runs",subject="repo:churn"}') == 4
        assert one(prom, 'maturity_probe_kpi{subject="repo:odd \\"name\\" \\\\ here"}') == 2.5
        assert one(prom, 'maturity_probe_source_up{source="prod-mlflow",type="mlflow"}') == 0
        assert one(prom, 'maturity_probe_source_duration_seconds{source="prom"}') == 1.25
        assert one(prom, 'maturity_probe_source_requests{source="prom"}') == 12
        assert one(prom, "maturity_probe_scan_timestamp_seconds") == NOW.timestamp()
        # the dashboard's queries all answer with data from this scrape
        for expr in dashboard_expressions():
            if expr.startswith("label_values("):
                metric = expr.removeprefix("label_values(").split(",")[0]
                assert query(prom, metric), expr
                continue
            assert query(prom, expr.replace("$model", "alpha")), expr


def test_empty_store_answers_503_until_a_scan_is_stored(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with serving(store_url) as (url, process):
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first == ("warning: the store is empty: run `maturity-probe scan` first; /metrics "
                         "answers 503 until a scan is stored\n")
        status, _, body = http_get(url + "/metrics")
        assert status == 503
        assert body == "the store is empty: run `maturity-probe scan` first\n"
        assert http_get(url + "/nothing")[0] == 404
        with Store.open(store_url) as store:  # a scan lands while serve runs: no restart needed
            store.save(full_assessment(), config_key="platform.yaml")
        status, _, body = http_get(url + "/metrics")
        assert status == 200 and 'maturity_probe_level{model="alpha",scope="platform"} 2' in body


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "maturity_probe", "serve", "--store",
             f"sqlite:///{tmp_path / 'store.db'}", "--port", str(port)],
            capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert re.fullmatch(r"error: cannot listen on 127\.0\.0\.1:\d+: .+\n", done.stderr), done.stderr


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path: Path, port: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "maturity_probe", "serve", "--store",
         f"sqlite:///{tmp_path / 'store.db'}", "--port", port],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Invalid value for '--port'" in done.stderr
