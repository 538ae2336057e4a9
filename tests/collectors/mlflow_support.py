"""Helpers of the mlflow collector tests: start and stop a real `mlflow server`, populate
it with the test scenarios, run the collector. The fixtures built on them are in
mlflow_server.py (a pytest plugin: `pytest_plugins = ["mlflow_server"]`).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.mlflow_registry import MlflowCollector, MlflowSource
from maturity_probe.evidence import Evidence, SourceStatus
from support import send_body

ADMIN_USER = "admin"
ADMIN_PASSWORD = "s3cret-Admin-pw-42"
HEALTH_TIMEOUT = 90.0


def mlflow_executable() -> str:
    """The `mlflow` next to this interpreter; a missing server fails the tests, never skips."""
    candidate = Path(sys.executable).with_name("mlflow")
    if candidate.exists():
        return str(candidate)
    pytest.fail("the `mlflow` command is not installed next to the test interpreter "
                "(pip install 'maturity-probe[test]')")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningMlflow:
    url: str
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def db(self) -> Path:
        return self.root / "mlflow.db"


def start_mlflow(root: Path, *, app_name: str | None = None,
                 extra_env: dict[str, str] | None = None) -> RunningMlflow:
    """Start `mlflow server` in its own session and wait until /health answers."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir(exist_ok=True)
    port = free_port()
    command = [
        mlflow_executable(), "server",
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--default-artifact-root", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]
    if app_name:
        command += ["--app-name", app_name]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    env.update({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "TMPDIR": str(root / "tmp")})
    env.update(extra_env or {})
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (root / "server.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"mlflow server exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return RunningMlflow(url, root, process)
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    stop_mlflow(process)
    pytest.fail(f"mlflow server did not answer /health within {HEALTH_TIMEOUT:.0f} s")


def stop_mlflow(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group (gunicorn/uvicorn workers included)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def client_credentials(username: str, password: str) -> Iterator[None]:
    """Basic-auth credentials for MlflowClient while seeding (the collector never uses env)."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ["MLFLOW_TRACKING_USERNAME"] = username
    os.environ["MLFLOW_TRACKING_PASSWORD"] = password
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def collect(url: str, *, name: str = "prod-mlflow", now: datetime | None = None,
            **fields: Any) -> tuple[list[Evidence], SourceStatus]:
    """Run the collector once against `url`."""
    source = MlflowSource(name=name, tracking_uri=url, **fields)
    collector = MlflowCollector(source, CollectContext(now=now or datetime.now(UTC)))
    return run_collector(collector)


# -- the scenarios ---------------------------------------------------------------------------

CHURN_REPO = "https://github.com/acme/churn.git"
DEMAND_REPO = "git@github.com:acme/demand-forecast.git"
CHURN_DESCRIPTION = (
    "Predicts the probability that a subscriber cancels within 30 days. Trained weekly on "
    "the billing and support-ticket features of the last 12 months; scores all active "
    "subscribers nightly. Not suitable for B2B accounts (different churn dynamics)."
)


@dataclass
class World:
    """What the populated server holds, for the tests' expectations."""

    url: str
    now: datetime
    run_ids: dict[str, list[str]] = field(default_factory=dict)
    commits: dict[str, str] = field(default_factory=dict)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _run(client: Any, experiment_id: str, *, start: datetime, end: datetime | None,
         status: str, tags: dict[str, str], metrics: dict[str, float] | None = None) -> str:
    run = client.create_run(experiment_id, start_time=_ms(start), tags=tags)
    run_id = str(run.info.run_id)
    for key, value in (metrics or {}).items():
        client.log_metric(run_id, key, value, timestamp=_ms(start))
    if end is not None:
        client.set_terminated(run_id, status=status, end_time=_ms(end))
    return run_id


def _backdate_versions(db: Path, model: str, created: dict[int, datetime]) -> None:
    """Model versions get the server's clock on creation; set past creation times."""
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        for version, moment in created.items():
            conn.execute(
                "UPDATE model_versions SET creation_time = ?, last_updated_time = ? "
                "WHERE name = ? AND version = ?",
                (_ms(moment), _ms(moment), model, version),
            )


def populate_tracked(client: Any, world: World) -> None:
    """Tracked runs, nothing registered: a person's sweeps, two of them from a git commit,
    plus an experiment whose runs are all older than the lookback window."""
    now = world.now
    experiment = client.create_experiment("tracked-sweeps")
    person = {"mlflow.user": "alice", "mlflow.source.type": "LOCAL",
              "mlflow.source.name": "notebooks/sweep.ipynb"}
    commit = "4f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e"
    world.commits["tracked"] = commit
    ids = []
    for day, status in [(20, "FINISHED"), (12, "FINISHED"), (5, "FAILED"), (2, "FINISHED")]:
        tags = dict(person)
        if day <= 12 and status == "FINISHED":
            tags.update({"mlflow.source.git.commit": commit, "mlflow.source.git.repoURL": CHURN_REPO})
        start = now - timedelta(days=day)
        ids.append(_run(client, experiment, start=start, end=start + timedelta(minutes=25),
                        status=status, tags=tags, metrics={"auc": 0.8 + day / 1000}))
    world.run_ids["tracked"] = ids
    stale = client.create_experiment("tracked-stale")
    start = now - timedelta(days=200)
    _run(client, stale, start=start, end=start + timedelta(minutes=5), status="FINISHED", tags=person)


def populate_unlinked(client: Any, world: World) -> None:
    """Registered models without lineage: versions from plain artifact paths, no runs."""
    client.create_registered_model("unlinked-fraud", description="Fraud model.")
    for _ in range(2):
        client.create_model_version("unlinked-fraud", "s3://acme-models/fraud/model.pkl",
                                    await_creation_for=0)
    client.create_registered_model("unlinked-empty")


def populate_lineage(client: Any, world: World, db: Path) -> None:
    """Models with lineage: CI runs from a commit with logged data sets, validated versions,
    `champion` and `staging` aliases, the last run's model also registered as an export;
    plus a legacy model promoted with the Production stage whose run was killed."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    now = world.now
    experiment = client.create_experiment("lineage-churn")
    commit = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
    world.commits["lineage"] = commit
    client.create_registered_model("lineage-churn", description=CHURN_DESCRIPTION)
    ids = []
    created = {}
    for number, day in enumerate([40, 25, 10], start=1):
        start = now - timedelta(days=day, hours=3)
        end = start + timedelta(hours=1)
        run_id = _run(client, experiment, start=start, end=end, status="FINISHED", tags={
            "mlflow.user": "github-actions", "mlflow.source.type": "PROJECT",
            "mlflow.source.name": CHURN_REPO, "mlflow.project.entryPoint": "train",
            "mlflow.source.git.commit": commit, "mlflow.source.git.repoURL": CHURN_REPO,
            "ci": "github-actions",
        }, metrics={"auc": 0.85})
        if number == 3:  # what MLflow 2.x clients record about the models a run logged
            client.set_tag(run_id, "mlflow.log-model.history", json.dumps([{
                "run_id": run_id, "artifact_path": "model", "flavors": {"sklearn": {}},
                "signature": {"inputs": '[{"type": "double", "name": "tenure"}]',
                              "outputs": '[{"type": "long"}]'},
                "saved_input_example_info": {"artifact_path": "input_example.json", "type": "dataframe"},
            }]))
        dataset = Dataset(name="churn-features", digest=f"d{number}e5f6a7", source_type="s3",
                          source='{"uri": "s3://acme/features/churn.parquet"}')
        client.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])])
        version = client.create_model_version(
            "lineage-churn", f"runs:/{run_id}/model", run_id=run_id, await_creation_for=0,
            tags={"validation_status": "passed"}, description=f"Weekly retrain #{number}.")
        created[int(version.version)] = end + timedelta(hours=2)
        ids.append(run_id)
    _backdate_versions(db, "lineage-churn", created)
    client.set_registered_model_alias("lineage-churn", "champion", "3")
    client.set_registered_model_alias("lineage-churn", "staging", "3")
    world.run_ids["lineage"] = ids
    # the last run's model registered a second time, as an export: one run behind two models
    client.create_registered_model("lineage-churn-onnx")
    client.create_model_version("lineage-churn-onnx", f"runs:/{ids[-1]}/onnx", run_id=ids[-1],
                                await_creation_for=0)

    legacy_run = _run(client, experiment, start=now - timedelta(days=3), status="KILLED",
                      end=now - timedelta(days=3) + timedelta(minutes=7), tags={
                          "mlflow.user": "bob", "mlflow.source.type": "NOTEBOOK"})
    client.create_registered_model("lineage-legacy")
    client.create_model_version("lineage-legacy", f"runs:/{legacy_run}/model", run_id=legacy_run,
                                await_creation_for=0)
    with warnings.catch_warnings():  # stages are deprecated, but older servers use them
        warnings.simplefilter("ignore", FutureWarning)
        client.transition_model_version_stage("lineage-legacy", "1", "Production")


def populate_weekly(client: Any, world: World, db: Path) -> None:
    """A model retrained weekly by a scheduled job for three months (13 versions in the
    window, each an hour after its run ended), plus one version from 120 days ago whose
    run only the batch lookup by run id can find."""
    now = world.now
    experiment = client.create_experiment("weekly-demand")
    client.create_registered_model("weekly-demand", description="Weekly demand forecast.")
    ids = []
    created = {}
    days = [120, *range(84, -1, -7)]  # 120, 84, 77, ..., 7, 0
    for number, day in enumerate(days, start=1):
        commit = f"{number:02d}" + "c0ffee" * 6 + "00"
        start = now - timedelta(days=day, hours=6)
        end = start + timedelta(hours=2)
        run_id = _run(client, experiment, start=start, end=end, status="FINISHED", tags={
            "mlflow.user": "airflow", "mlflow.source.type": "JOB",
            "mlflow.source.name": "dags/retrain_demand.py", "mlflow.source.git.commit": commit,
            "mlflow.source.git.repoURL": DEMAND_REPO,
        })
        version = client.create_model_version("weekly-demand", f"runs:/{run_id}/model",
                                              run_id=run_id, await_creation_for=0)
        created[int(version.version)] = end + timedelta(hours=1)
        ids.append(run_id)
    _backdate_versions(db, "weekly-demand", created)
    client.set_registered_model_alias("weekly-demand", "production", str(len(days)))
    world.run_ids["weekly"] = ids


# -- a repository beside the registry ---------------------------------------------------------

# Practices of Microsoft level 2 that an MLflow server can show on its own.
MLFLOW_SHOWS = {"experiment_tracking", "model_versioning", "automated_training"}


def repo_files_without_mlflow_practices() -> dict[str, str]:
    """A realistic repository with every Microsoft level-1 and level-2 practice except
    the three MLflow can show (tests/capability_fragments.py)."""
    from capability_fragments import files_for
    from maturity_probe.inference.rules import load_rules

    model = load_rules().models["microsoft"]
    wanted = {r.capability for lv in model.levels if lv.level <= 2 for r in lv.requirements
              if r.capability and r.blocking} - MLFLOW_SHOWS
    return files_for(wanted)


class ErrorPage(http.server.BaseHTTPRequestHandler):
    """A proxy in front of a dead upstream: every request gets an HTML 502 page."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b"<html><head><title>502 Bad Gateway</title></head><body>" \
               b"<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
        send_body(self, 502, body, "text/html")

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return
