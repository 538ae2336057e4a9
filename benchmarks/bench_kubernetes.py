"""Benchmark: the kubernetes collector on a cluster of 5,000 objects.

The recorded cluster of tests/fixtures/kubernetes (InferenceServices, Seldon, model-server
Deployments and StatefulSets, CronJobs and Jobs, Argo Workflows / CronWorkflows /
WorkflowTemplates / Rollouts / Sensors / Applications, KFP ScheduledWorkflows, Flagger
canaries, HPAs, PrometheusRules, ServiceMonitors) is copied into as many namespaces as
it takes to reach the size asked, and served on 127.0.0.1 by the tests' local API
server. Printed beside the collector: the bare paginated listing of the same kinds with
the same client and page size, measured in the same run. Targets: the collector within
1.5x of the bare listing; its requests are the listing's plus a constant (discovery),
so they grow with pages, never with objects.

    .venv/bin/python benchmarks/bench_kubernetes.py [--objects 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "collectors"))

import k8s_server  # noqa: E402

from maturity_probe.collectors import CollectContext, run_collector  # noqa: E402
from maturity_probe.collectors.kubernetes import (  # noqa: E402
    RESOURCES,
    KubernetesCollector,
    KubernetesSource,
    client_configuration,
)

TIME_TARGET = 1.5
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PAGE = 500


def recorded_lists() -> list[tuple[str, dict[str, Any]]]:
    return [(f.name.split(".", 1)[0], json.loads(f.read_text()))
            for f in sorted((k8s_server.FIXTURES / "cluster").glob("*.json"))]


def cluster(objects: int) -> k8s_server.ApiState:
    """The recorded cluster copied into numbered namespaces, names and references renamed."""
    lists = recorded_lists()
    per_copy = sum(len(doc["items"]) for _, doc in lists)
    copies = math.ceil(objects / per_copy)
    names = sorted({i["metadata"]["name"] for _, doc in lists for i in doc["items"]}
                   | {i["metadata"].get("namespace", "") for _, doc in lists for i in doc["items"]}
                   - {""}, key=len, reverse=True)
    state = k8s_server.ApiState()
    k8s_server.load_discovery(state)
    for plural, doc in lists:
        group, _, version = doc["apiVersion"].rpartition("/")
        items = []
        for copy in range(copies):
            for item in doc["items"]:
                text = json.dumps(item)
                for name in names:  # whole JSON strings only: references stay consistent
                    text = text.replace(f'"{name}"', f'"{name}-{copy}"')
                items.append(json.loads(text))
        k8s_server.add_items(state, group, version, plural, doc["kind"], items)
    return state


def listed_resources(state: k8s_server.ApiState) -> list[tuple[str, str, str]]:
    """(group, version, plural) of every kind the collector lists on this server."""
    found = []
    for resource in RESOURCES:
        for version in resource.versions:
            document = state.discovery.get(f"/apis/{resource.group}/{version}", {})
            if any(r["name"] == resource.plural for r in document.get("resources", [])):
                found.append((resource.group, version, resource.plural))
                break
    return found


def bare_listing(config: KubernetesSource, state: k8s_server.ApiState) -> tuple[float, int, int]:
    """The lists the collector makes, with the same client and page size, and nothing else."""
    from kubernetes import client

    api = client.ApiClient(client_configuration(config))
    custom = client.CustomObjectsApi(api)
    requests = items = 0
    started = time.perf_counter()
    for group, version, plural in listed_resources(state):
        token = None
        while True:
            response = custom.list_cluster_custom_object(
                group, version, plural, limit=PAGE, _continue=token, _preload_content=False)
            page = json.loads(response.data)
            requests += 1
            items += len(page["items"])
            token = page["metadata"].get("continue")
            if not token:
                break
    elapsed = time.perf_counter() - started
    api.close()
    return elapsed, requests, items


@contextmanager
def api_server(state: k8s_server.ApiState, directory: Path) -> Iterator[str]:
    """The local API server in its own process, like a real one; yields its URL."""
    saved = directory / "state.json"
    k8s_server.save_state(state, saved)
    process = subprocess.Popen([sys.executable, k8s_server.__file__, str(saved)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(objects: int, repeat: int) -> dict[str, Any]:
    state = cluster(objects)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        with api_server(state, directory) as url:
            running = k8s_server.RunningServer(state, url)
            config = KubernetesSource(name="bench", kubeconfig=running.kubeconfig(directory),
                                      page_size=PAGE)
            bare_listing(config, state)  # warm up: imports, connections
            run_collector(KubernetesCollector(config, CollectContext(now=NOW)))
            bare_wall, bare_cpu, wall, cpu = [], [], [], []
            for _ in range(repeat):
                gc.collect()
                started_cpu = time.process_time()
                seconds, bare_requests, items = bare_listing(config, state)
                bare_cpu.append(time.process_time() - started_cpu)
                bare_wall.append(seconds)
                gc.collect()
                started, started_cpu = time.perf_counter(), time.process_time()
                found, status = run_collector(KubernetesCollector(config, CollectContext(now=NOW)))
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                if status.status.value != "ok":
                    raise SystemExit(f"collector {status.status.value}: {status.reason}")
    # The best of the repeats: this machine is shared, and noise only ever adds time.
    return {"objects": items, "bare": min(bare_wall), "bare_cpu": min(bare_cpu),
            "collector": min(wall), "collector_cpu": min(cpu), "bare_requests": bare_requests,
            "requests": status.requests, "evidence": len(found)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = [run(size, args.repeat) for size in (args.objects // 5, args.objects)]
    print(f"{'objects':>8} {'listing s':>10} {'collector s':>12} {'ratio':>6} {'cpu ratio':>10} "
          f"{'list req':>9} {'collector req':>14} {'evidence':>9}")
    for row in rows:
        print(f"{row['objects']:>8} {row['bare']:>10.3f} {row['collector']:>12.3f} "
              f"{row['collector'] / row['bare']:>6.2f} {row['collector_cpu'] / row['bare_cpu']:>10.2f} "
              f"{row['bare_requests']:>9} {row['requests']:>14} {row['evidence']:>9}")
    small, large = rows
    ratio = large["collector"] / large["bare"]
    extra = large["requests"] - large["bare_requests"]
    constant = extra == small["requests"] - small["bare_requests"]
    print(f"time (best of {args.repeat}): collector {large['collector']:.3f} s vs bare listing "
          f"{large['bare']:.3f} s = {ratio:.2f}x at {large['objects']} objects (target {TIME_TARGET}x)")
    print(f"requests: the listing's {large['bare_requests']} + {extra} for discovery at "
          f"{large['objects']} objects, the same + {small['requests'] - small['bare_requests']} at "
          f"{small['objects']}: {'constant' if constant else 'NOT constant'}")
    ok = ratio <= TIME_TARGET and constant
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
