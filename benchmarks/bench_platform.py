"""Benchmark: a platform scan of 2,000 repositories and 1,000 models, sources read at once.

The platform runs on 127.0.0.1: the GitHub organisation of the collector tests' fake API
(a separate process, answering each request after an added latency) and a real `mlflow
server` whose SQLite store is seeded in bulk (each model has versions from CI runs of one
of the organisation's ML repositories, so systems correlate). Each scan runs in a fresh
process — `scan_config` as `scan --config` does, then the history store write — and
reports, measured in the same run:

- the wall time of the scan beside the slowest single source's time and the sum of all
  sources' times (what reading them one after the other would cost);
- peak memory (peak RSS) above the process's baseline while the sources are read, split
  into the evidence they return (its object graph, measured) and the working memory
  reading needed beyond it; then the peak with the finished assessment (per-system
  results included) and the peak of the store write;
- the time of the store write.

The platform is scanned at an eighth of its size, then at full size. Targets: wall time
within 1.3x of the slowest source; working memory flat in the number of subjects (at
most 1.5x while subjects grow 8x: raw API data is streamed, not accumulated); the store
write under 10% of the scan's wall time (not the bottleneck).

    .venv/bin/python benchmarks/bench_platform.py [--repos 2000] [--models 1000] [--latency 0.01]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "collectors"))
sys.path.insert(0, str(ROOT / "benchmarks"))

WALL_TARGET = 1.3
MEMORY_TARGET = 1.5
STORE_TARGET = 0.10
SMALL = 0.125  # the smaller platform, as a share of the full one
VERSIONS = 3
RATE_LIMIT = 10_000_000  # rate limits are the collector tests' business, not this benchmark's


# -- the platform ----------------------------------------------------------------------------------


def serve_github(count: int, latency: float, pipe: Connection) -> None:
    """The child process: the fake GitHub API over `count` generated repositories."""
    from github_server import GitHubServer, GitHubState
    from host_repos import generated_org

    server = GitHubServer(GitHubState(generated_org(count), latency=latency, rate_limit=RATE_LIMIT))
    pipe.send((server.state.api, server.state.token, sorted(server.state.repos)))
    server.serve_forever(poll_interval=0.1)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def seed_models(db: Path, experiment_id: int, names: list[str], repos: list[str], now: datetime) -> None:
    """Registered models `names`, each with VERSIONS versions from finished CI runs of one
    of `repos` (round robin), validated, the newest aliased production."""
    runs, tags, models, versions, version_tags, aliases = [], [], [], [], [], []
    for index, name in enumerate(names):
        repo = repos[index % len(repos)]
        models.append((name, ms(now - timedelta(days=60)), ms(now), f"Model {name}.", "default"))
        for number in range(1, VERSIONS + 1):
            ended = now - timedelta(days=7 * (VERSIONS - number), hours=2)
            run_id = uuid.uuid4().hex
            runs.append((run_id, f"train-{name}-{number}", "JOB", "train.py", "main", "github-actions",
                         "FINISHED", ms(ended - timedelta(hours=1)), ms(ended), run_id[:12], "active",
                         f"/bench/art/{run_id}", experiment_id, None))
            tags += [("mlflow.source.git.commit", uuid.uuid4().hex, run_id),
                     ("mlflow.source.git.repoURL", f"https://github.com/{repo}.git", run_id),
                     ("mlflow.source.type", "JOB", run_id), ("mlflow.user", "github-actions", run_id)]
            created = ms(ended + timedelta(minutes=30))
            versions.append((name, number, created, created, None, None, "None", f"runs:/{run_id}/model",
                             run_id, "READY", None, None, f"runs:/{run_id}/model", "default"))
            version_tags.append(("validation_status", "passed", name, number, "default"))
        aliases.append(("production", VERSIONS, name, "default"))
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.executemany("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
                         "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
                         "artifact_uri, experiment_id, deleted_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         runs)
        conn.executemany('INSERT INTO tags ("key", value, run_uuid) VALUES (?,?,?)', tags)
        conn.executemany("INSERT INTO registered_models (name, creation_time, last_updated_time, "
                         "description, workspace) VALUES (?,?,?,?,?)", models)
        conn.executemany("INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
                         "description, user_id, current_stage, source, run_id, status, status_message, "
                         "run_link, storage_location, workspace) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         versions)
        conn.executemany('INSERT INTO model_version_tags ("key", value, name, version, workspace) '
                         "VALUES (?,?,?,?,?)", version_tags)
        conn.executemany("INSERT INTO registered_model_aliases (alias, version, name, workspace) "
                         "VALUES (?,?,?,?)", aliases)


# -- one scan, in a fresh process --------------------------------------------------------------------


def rss_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> None:
    """Start measuring peak RSS afresh (Linux: clear_refs 5 resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


def deep_size(root: Any) -> int:
    """Bytes held by an object graph (each object counted once, however often referenced)."""
    from pydantic import BaseModel

    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, BaseModel):
            stack += [item.__dict__, item.__pydantic_fields_set__]
    return total


class SourcesDone:
    """Progress that notes when the last source finished (the rest of the scan is inference)
    and the peak memory until then; then it measures the peak afresh."""

    def __init__(self, sources: int) -> None:
        self.left = sources
        self.at = 0.0
        self.peak_kib = 0

    def started(self, name: str, kind: str) -> None:
        return

    def finished(self, status: Any, evidence: int) -> None:
        self.left -= 1
        if self.left == 0:
            self.at = time.monotonic()
            self.peak_kib = rss_kib("VmHWM")
            reset_peak()

    def skipped(self, name: str, kind: str, why: str) -> None:
        return

    def close(self) -> None:
        return


def child(config_file: str, store_url: str) -> None:
    """Scan the platform, store it, print the measurements as one JSON line."""
    import github  # noqa: F401  the client libraries, imported before the baseline
    import mlflow.store.model_registry.rest_store  # noqa: F401

    from maturity_probe.collectors import collector_types
    from maturity_probe.config import load_config
    from maturity_probe.inference.rules import load_rules
    from maturity_probe.run import scan_config
    from maturity_probe.store import Store

    collector_types()
    rules = load_rules()
    config = load_config(Path(config_file))
    gc.collect()
    baseline = rss_kib("VmRSS")
    reset_peak()

    started = time.monotonic()
    sources_done = SourcesDone(len(config.sources))
    assessment = scan_config(config, rules, progress=sources_done)
    wall = time.monotonic() - started
    inference = time.monotonic() - sources_done.at
    inference_peak = rss_kib("VmHWM")

    before_store = rss_kib("VmRSS")
    reset_peak()
    started = time.monotonic()
    with Store.open(store_url) as store:
        store.save(assessment, config_key="bench-platform")
    store_seconds = time.monotonic() - started
    store_peak = rss_kib("VmHWM")

    # what the result itself holds
    assessment_bytes = deep_size(assessment)
    evidence_bytes = deep_size(assessment.evidence)
    json_bytes = len(assessment.model_dump_json())

    print(json.dumps({
        "wall": wall,
        "sources": [s.model_dump(mode="json", include={"name", "type", "status", "reason",
                                                        "duration_seconds", "requests"})
                    for s in assessment.sources],
        "evidence": len(assessment.evidence),
        "systems": len(assessment.systems),
        "baseline_kib": baseline,
        "sources_peak_kib": sources_done.peak_kib,
        "scan_peak_kib": max(sources_done.peak_kib, inference_peak),
        "store_added_kib": store_peak - before_store,
        "evidence_kib": evidence_bytes // 1024,
        "assessment_kib": assessment_bytes // 1024,
        "assessment_json_kib": json_bytes // 1024,
        "inference": inference,
        "store_seconds": store_seconds,
    }))


def scan(config: Path, store_url: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", str(config), store_url],
                          capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        sys.exit(f"the scan failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the run -----------------------------------------------------------------------------------


def platform_at(size: float, args: argparse.Namespace, root: Path, mlflow: Any) -> tuple[Path, Any]:
    """Start the GitHub API with `size` of the repositories, seed MLflow up to `size` of the
    models, write the platform config. Returns it and the GitHub server process."""
    repos, models = int(args.repos * size), int(args.models * size)
    context = multiprocessing.get_context("fork")
    parent, child_end = context.Pipe()
    process = context.Process(target=serve_github, args=(repos, args.latency, child_end), daemon=True)
    process.start()
    url, token, names = parent.recv()
    ml_repos = [name for name in names if name.startswith("acme/ml-")]
    seeded = mlflow["seeded"]
    seed_models(mlflow["db"], mlflow["experiment"], [f"model-{i:04d}" for i in range(seeded, models)],
                ml_repos, mlflow["now"])
    mlflow["seeded"] = models
    os.environ["BENCH_GITHUB_TOKEN"] = token
    config = root / f"platform-{repos}.yaml"
    config.write_text(json.dumps({
        "name": "bench-platform",
        "sources": [
            {"type": "github", "name": "acme-github", "base_url": url, "orgs": ["acme"],
             "token_env": "BENCH_GITHUB_TOKEN", "max_concurrency": args.concurrency},
            {"type": "mlflow", "name": "prod-mlflow", "tracking_uri": mlflow["url"]},
        ],
    }))
    return config, process


def report(label: str, repos: int, models: int, result: dict[str, Any]) -> tuple[float, int]:
    """Print one scan's figures; return wall / slowest source and the sources' working memory."""
    durations = {s["name"]: s["duration_seconds"] for s in result["sources"]}
    slowest_name = max(durations, key=lambda name: durations[name])
    slowest, total, wall = durations[slowest_name], sum(durations.values()), result["wall"]
    mib, baseline = 1024, result["baseline_kib"]
    reading = result["sources_peak_kib"] - baseline
    working = reading - result["evidence_kib"]
    print(f"\n== {label}: {repos} repositories, {models} models ==")
    for source in result["sources"]:
        print(f"source {source['name']:<12} {source['status']:<7} {source['duration_seconds']:7.1f} s "
              f"{source['requests']:>6} requests  {source['reason'][:90]}")
    print(f"evidence          {result['evidence']} items, {result['systems']} ML systems")
    print(f"wall time         {wall:.1f} s; slowest source ({slowest_name}) {slowest:.1f} s; "
          f"sum of sources {total:.1f} s; wall / slowest {wall / slowest:.2f} "
          f"(inference after the last source: {result['inference']:.1f} s)")
    print(f"memory, sources   peak {reading / mib:.0f} MiB above the baseline "
          f"({baseline / mib:.0f} MiB) while reading = evidence {result['evidence_kib'] / mib:.0f} MiB "
          f"+ working memory {working / mib:.0f} MiB")
    per_system = (result["assessment_kib"] - result["evidence_kib"]) / max(result["systems"], 1)
    print(f"memory, result    peak {(result['scan_peak_kib'] - baseline) / mib:.0f} MiB above the "
          f"baseline; the assessment holds {result['assessment_kib'] / mib:.0f} MiB "
          f"({per_system:.0f} KiB per ML system besides the evidence), "
          f"{result['assessment_json_kib'] / mib:.0f} MiB as JSON")
    print(f"store write       {result['store_seconds']:.2f} s "
          f"({result['store_seconds'] / wall:.1%} of the scan), "
          f"{result['store_added_kib'] / mib:.0f} MiB more at its peak")
    return wall / slowest, working


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.01, help="seconds per GitHub request")
    parser.add_argument("--concurrency", type=int, default=8, help="GitHub requests in flight")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    from bench_mlflow import create_schema, start_server, stop_server

    root = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    server = None
    github = None
    try:
        _, experiment = create_schema(root)
        server, url = start_server(root, workers=2)
        mlflow = {"db": root / "mlflow.db", "experiment": experiment, "url": url,
                  "now": datetime.now(UTC), "seeded": 0}
        results = []
        for label, size in (("an eighth", SMALL), ("full", 1.0)):
            config, github = platform_at(size, args, root, mlflow)
            result = scan(config, f"sqlite:///{root / f'store-{label}.db'}")
            github.terminate()
            github.join(timeout=10)
            github = None
            results.append(report(label, int(args.repos * size), int(args.models * size), result))
            if label == "full":
                full = result
        (_, small_working), (ratio, working) = results
        growth = working / max(small_working, 1)
        extra_subjects = (args.repos + args.models) * (1 - SMALL)
        per_subject = (working - small_working) / max(extra_subjects, 1)
        store_share = full["store_seconds"] / full["wall"]
        print()
        verdicts = [
            (ratio <= WALL_TARGET, f"wall time {ratio:.2f}x the slowest source (target <= {WALL_TARGET}x)"),
            (growth <= MEMORY_TARGET, f"working memory {growth:.2f}x for {1 / SMALL:.0f}x the subjects, "
                                      f"{per_subject:.1f} KiB per extra subject "
                                      f"(target <= {MEMORY_TARGET}x)"),
            (store_share <= STORE_TARGET, f"store write {store_share:.1%} of the scan's wall time "
                                          f"(target <= {STORE_TARGET:.0%})"),
        ]
        for passed, text in verdicts:
            print(f"{'PASS' if passed else 'FAIL'}: {text}")
        return 0 if all(passed for passed, _ in verdicts) else 1
    finally:
        if github is not None:
            github.terminate()
            github.join(timeout=10)
        if server is not None:
            stop_server(server)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
