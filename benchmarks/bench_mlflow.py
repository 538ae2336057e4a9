"""Benchmark: the mlflow collector against a real `mlflow server` holding 1,000 models x 5 versions.

Prints the collector's time and request count beside a baseline measured in the same run
on the same server: the bare paginated listing of `search_registered_models` and
`search_model_versions` (MLflow's REST store, same page sizes as the collector). Each
version comes from its own finished training run (with git and automation tags), so the
collector also reads 5,000 runs. Measured at two sizes so that request growth shows.

Targets: collection within 1.5x of the baseline at the largest size; requests do not grow
per version (fewer than one extra request per 100 extra versions: pages, not N+1).

The server's SQLite store is seeded with bulk SQL inserts (the MLflow API writes ~10 rows
per second per call over HTTP, and cannot backdate version creation times).

    .venv/bin/python benchmarks/bench_mlflow.py [--models 1000] [--versions 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

TIME_TARGET = 1.5
REQUESTS_PER_VERSION_TARGET = 0.01
MODEL_PAGE = 1000
VERSION_PAGE = 10000


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def create_schema(root: Path) -> tuple[str, int]:
    """Let MLflow create (and migrate) its own tables, with one experiment for the runs."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("bench-training", artifact_location=str(root / "art"))
    return uri, int(experiment)


def seed(db: Path, experiment_id: int, first: int, last: int, versions: int, now: datetime) -> None:
    """Models first..last-1, each with `versions` versions from their own finished run."""
    runs, tags, models, model_versions, version_tags, aliases = [], [], [], [], [], []
    for index in range(first, last):
        name = f"model-{index:04d}"
        created = now - timedelta(days=7 * versions + 1)
        models.append((name, ms(created), ms(now), f"Forecast model {index}.", "default"))
        for number in range(1, versions + 1):
            ended = now - timedelta(days=7 * (versions - number), hours=2)
            started = ended - timedelta(hours=1)
            run_id = uuid.uuid4().hex
            commit = uuid.uuid4().hex + uuid.uuid4().hex[:8]
            runs.append((run_id, f"train-{name}-{number}", "JOB", "dags/train.py", "main", "airflow",
                         "FINISHED", ms(started), ms(ended), commit, "active",
                         f"/bench/art/{run_id}/artifacts", experiment_id, None))
            tags.extend([
                ("mlflow.source.git.commit", commit, run_id),
                ("mlflow.source.git.repoURL", f"https://github.com/acme/{name}.git", run_id),
                ("mlflow.source.type", "JOB", run_id),
                ("mlflow.user", "airflow", run_id),
                ("mlflow.runName", f"train-{name}-{number}", run_id),
            ])
            version_created = ended + timedelta(minutes=30)
            model_versions.append((name, number, ms(version_created), ms(version_created), None, None,
                                   "None", f"runs:/{run_id}/model", run_id, "READY", None, None,
                                   f"runs:/{run_id}/model", "default"))
            version_tags.append(("validation_status", "passed", name, number, "default"))
        aliases.append(("production", versions, name, "default"))
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.executemany("INSERT INTO runs (run_uuid, name, source_type, source_name, "
                         "entry_point_name, user_id, status, start_time, end_time, source_version, "
                         "lifecycle_stage, artifact_uri, experiment_id, deleted_time) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        conn.executemany('INSERT INTO tags ("key", value, run_uuid) VALUES (?,?,?)', tags)
        conn.executemany("INSERT INTO registered_models (name, creation_time, last_updated_time, "
                         "description, workspace) VALUES (?,?,?,?,?)", models)
        conn.executemany("INSERT INTO model_versions (name, version, creation_time, "
                         "last_updated_time, description, user_id, current_stage, source, run_id, "
                         "status, status_message, run_link, storage_location, workspace) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", model_versions)
        conn.executemany('INSERT INTO model_version_tags ("key", value, name, version, workspace) '
                         "VALUES (?,?,?,?,?)", version_tags)
        conn.executemany("INSERT INTO registered_model_aliases (alias, version, name, workspace) "
                         "VALUES (?,?,?,?)", aliases)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    env.update({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "TMPDIR": str(root)})
    command = [str(Path(sys.executable).with_name("mlflow")), "server",
               "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
               "--default-artifact-root", str(root / "art"),
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with (root / "server.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"mlflow server exited:\n{(root / 'server.log').read_text()[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            if response.status == 200:
                return process, url
        time.sleep(0.3)
    stop_server(process)
    sys.exit("mlflow server did not answer /health within 90 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def baseline(url: str) -> tuple[int, int, int]:
    """The bare listing: (models, versions, requests). It calls MLflow's REST store directly,
    as the collector does: MlflowClient.search_registered_models would add a server-side
    filter that hides prompts, which makes the listing slower (a baseline too easy to beat)."""
    from mlflow.store.model_registry.rest_store import RestStore
    from mlflow.utils.rest_utils import MlflowHostCreds

    store = RestStore(lambda: MlflowHostCreds(host=url))
    requests = 0
    models = versions = 0
    token = None
    while True:
        page = store.search_registered_models(max_results=MODEL_PAGE, page_token=token)
        requests += 1
        models += len(page)
        token = page.token
        if not token:
            break
    token = None
    while True:
        listing = store.search_model_versions(max_results=VERSION_PAGE, page_token=token)
        requests += 1
        versions += len(listing)
        token = listing.token
        if not token:
            break
    return models, versions, requests


def collector(url: str) -> tuple[int, int, int]:
    """The collector: (evidence items, per-model KPI rows, requests)."""
    from maturity_probe.collectors import CollectContext, run_collector
    from maturity_probe.collectors.mlflow_registry import MlflowCollector, MlflowSource

    source = MlflowSource(name="bench", tracking_uri=url)
    evidence, status = run_collector(MlflowCollector(source, CollectContext(now=datetime.now(UTC))))
    if status.status != "ok":
        sys.exit(f"collector failed: {status.reason}")
    registered = sum(1 for e in evidence if e.signal == "registry.model_registered")
    return len(evidence), registered, status.requests


def measure(url: str, repeat: int) -> tuple[float, float, float, tuple[int, int, int],
                                             tuple[int, int, int]]:
    """Baseline and collector timed in alternation (after one warm-up of each), so that a
    busy machine slows both alike: median times, median of the per-pair ratios, results."""
    base_result, probe_result = baseline(url), collector(url)
    base_times, probe_times, ratios = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        base_result = baseline(url)
        base_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        probe_result = collector(url)
        probe_times.append(time.perf_counter() - started)
        ratios.append(probe_times[-1] / base_times[-1])
    return (statistics.median(base_times), statistics.median(probe_times), statistics.median(ratios),
            base_result, probe_result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4,
                        help="server worker processes (4 is `mlflow server`'s default)")
    args = parser.parse_args()
    small = max(args.models // 10, 1)

    root = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
    process = None
    try:
        started = time.perf_counter()
        _, experiment_id = create_schema(root)
        now = datetime.now(UTC)
        seed(root / "mlflow.db", experiment_id, 0, small, args.versions, now)
        process, url = start_server(root, args.workers)
        print(f"server ({args.workers} workers) up and seeded in {time.perf_counter() - started:.1f} s")

        rows = []
        for size in (small, args.models):
            if size != small:
                seed(root / "mlflow.db", experiment_id, small, size, args.versions, now)
            base_time, probe_time, ratio, base_result, probe_result = measure(url, args.repeat)
            (models, versions, base_requests), (items, registered, requests) = base_result, probe_result
            assert models == registered == size and versions == size * args.versions
            rows.append((size, versions, base_time, base_requests, probe_time, requests, items, ratio))

        print(f"{'models':>7} {'versions':>8} | {'baseline s':>10} {'requests':>8} | "
              f"{'collector s':>11} {'requests':>8} {'evidence':>8} | ratio (median of pairs)")
        for size, versions, base_time, base_requests, probe_time, requests, items, pair in rows:
            print(f"{size:>7} {versions:>8} | {base_time:>10.3f} {base_requests:>8} | "
                  f"{probe_time:>11.3f} {requests:>8} {items:>8} | {pair:.2f}x")
        first, last = rows[0], rows[-1]
        ratio = last[7]
        growth = (last[5] - first[5]) / max(last[1] - first[1], 1)
        print(f"request growth: {last[5] - first[5]} more requests for {last[1] - first[1]} more "
              f"versions ({growth:.4f} per version; baseline {last[3] - first[3]})")
        ok = ratio <= TIME_TARGET and growth < REQUESTS_PER_VERSION_TARGET
        verdict = "PASS" if ok else "FAIL"
        print(f"{verdict}: collection {ratio:.2f}x the bare listing (target <= {TIME_TARGET}x); "
              f"{growth:.4f} requests per extra version (target < {REQUESTS_PER_VERSION_TARGET})")
        return 0 if ok else 1
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
