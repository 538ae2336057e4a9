"""The README's demo end to end: examples/demo_platform/demo.py starts a real MLflow server,
a real Prometheus and the exporter on 127.0.0.1, seeds them, scans the platform with the
real command line and writes the HTML report; afterwards, and when it is interrupted or
fails half-way, no process it started is left running.

Every process the demo starts carries MATURITY_PROBE_DEMO=<its directory> in its
environment, which is how these tests find leftovers (children included).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from maturity_probe.store import Store

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo_platform" / "demo.py"
MARKER = "MATURITY_PROBE_DEMO"
SERVICES = ("mlflow", "prometheus", "exporter.py")
Finished = tuple[Path, subprocess.CompletedProcess[str]]  # the demo's directory, how it ended


def started_by(out: Path) -> list[str]:
    """Command lines of the live processes the demo writing to `out` started."""
    wanted = f"{MARKER}={out}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if wanted not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended while we looked
            continue
        if state != "Z":
            found.append(command)
    return found


def demo(out: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(DEMO), "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    out = tmp_path_factory.mktemp("demo") / "run"
    process = demo(out)
    try:
        stdout, stderr = process.communicate(timeout=420)
    finally:
        if process.poll() is None:
            process.kill()
    return out, subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_demo_writes_the_report_and_says_where(finished: Finished) -> None:
    out, done = finished
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = out / "report.html"
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"Report: {report}" in done.stdout
    assert "$ maturity-probe scan --config platform.yaml" in done.stdout
    with Store.open(f"sqlite:///{out / 'store.db'}") as store:  # the throwaway store holds the scan
        assert [record.config_key for record in store.scans()] == ["demo-platform"]


def test_the_platform_has_systems_at_every_microsoft_level(finished: Finished) -> None:
    out, _ = finished
    assessment = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in assessment["sources"]] == ["ok"] * 7
    source_of = {e["id"]: e["source"] for e in assessment["evidence"]}
    systems = {name: ({m: r["level"] for m, r in s["maturity"].items()},
                      {source_of[e] for e in s["evidence"]})
               for name, s in assessment["systems"].items()}
    assert {name: levels["microsoft"] for name, (levels, _) in systems.items()} == {
        "fraud-detector": 4, "churn-classifier": 3, "demand-forecast": 2, "used-car-price": 1,
        "late-delivery-pilot": 0}
    # each system joins its repository with what MLflow and Prometheus show of its model
    assert systems["fraud-detector"][1] == {"fraud-platform", "mlflow", "prometheus"}
    assert systems["churn-classifier"][1] == {"churn-model", "mlflow", "prometheus"}
    assert systems["used-car-price"][1] == {"flask-scoring", "mlflow"}
    live = {e["signal"]: e["strength"] for e in assessment["evidence"]
            if e["subject"] == "prometheus:prometheus/model/fraud-detector"}
    assert live["monitor.drift_alert_rule"] == "verified"  # the repository's rules, live


def test_the_demo_talks_to_loopback_only_and_stops_everything(finished: Finished) -> None:
    out, done = finished
    config = yaml.safe_load((out / "platform.yaml").read_text(encoding="utf-8"))
    urls = [s.get("tracking_uri") or s.get("url") for s in config["sources"] if s["type"] != "repo"]
    assert len(urls) == 2 and all(u.startswith("http://127.0.0.1:") for u in urls), urls
    prometheus_config = (out / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    assert "targets: ['127.0.0.1:" in prometheus_config
    assert started_by(out) == []
    assert done.stdout.index("Stopping the services") < done.stdout.index("Report:")


def wait_for_services(process: subprocess.Popen[str], out: Path) -> list[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        running = started_by(out)
        if all(any(name in command for command in running) for name in SERVICES):
            return running
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"the demo did not start its services (exit {process.returncode})")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_demo_stops_every_service(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "run"
    process = demo(out)
    try:
        wait_for_services(process, out)
        process.send_signal(signum)  # Ctrl-C, or `kill` / a CI job's cancellation
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == (130 if signum == signal.SIGINT else 128 + signum), stderr
    assert started_by(out) == []
    assert not (out / "report.html").exists()


def test_a_service_that_fails_to_start_ends_the_demo_cleanly(tmp_path: Path) -> None:
    """A Prometheus that dies at start: a one-line reason, and MLflow and the exporter,
    already started, are stopped too."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "prometheus").write_text(
        "#!/bin/sh\necho 'err: opening storage failed: read-only file system' >&2\nsleep 1\nexit 1\n")
    (fake / "prometheus").chmod(0o755)
    out = tmp_path / "run"
    process = demo(out, env={"PATH": f"{fake}:{os.environ['PATH']}"})
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert stderr.startswith("demo: error: prometheus exited with status 1:")
    assert "read-only file system" in stderr
    assert started_by(out) == []
