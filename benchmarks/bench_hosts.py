"""Benchmark: scan 500 repositories of a GitHub organisation and a GitLab group.

The fake GitHub and GitLab APIs of the collector tests run in a separate process on
127.0.0.1 and answer every request after an added latency (50 ms by default). For each
host the benchmark prints the requests per repository (for files and history, and for
host data, separately), the wall time, and beside it the lower bound measured in the same
run: requests x latency / concurrency. Targets: at most 6 requests for files and history
per repository on average; wall time within 1.5x the lower bound.

    .venv/bin/python benchmarks/bench_hosts.py [--repos 500] [--latency 0.05] [--concurrency 8]
        [--host github|gitlab|both] [--no-batch]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "collectors"))

# Rate limits are the tests' business; here they must not pace the scan (gitlab.com allows
# 2,000 requests a minute, GitHub 5,000 an hour: a real 500-repository scan may have to wait).
RATE_LIMIT = 10_000_000
FILE_REQUESTS_TARGET = 6.0
WALL_TIME_TARGET = 1.5


def serve(host: str, count: int, latency: float, pipe: Connection) -> None:
    """The child process: build the repositories and serve them until terminated."""
    if host == "github":
        from github_server import GitHubServer, GitHubState
        from host_repos import generated_org

        server: Any = GitHubServer(GitHubState(generated_org(count), latency=latency,
                                               rate_limit=RATE_LIMIT))
    else:
        from gitlab_server import GitLabServer, GitLabState
        from host_repos import generated_group

        server = GitLabServer(GitLabState(generated_group(count), latency=latency,
                                          rate_limit=RATE_LIMIT))
    pipe.send((server.state.api if host == "github" else server.state.web, server.state.token))
    server.serve_forever(poll_interval=0.1)


def server_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_stats", timeout=10) as response:
        stats: dict[str, Any] = json.loads(response.read())
    return stats


def run(host: str, count: int, latency: float, concurrency: int, batch: bool) -> bool:
    from host_repos import NOW

    from maturity_probe.collectors import CollectContext, run_collector
    from maturity_probe.collectors.github import GitHubCollector, GitHubSource
    from maturity_probe.collectors.gitlab import GitLabCollector, GitLabSource

    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=serve, args=(host, count, latency, child), daemon=True)
    process.start()
    try:
        url, token = parent.recv()
        os.environ["BENCH_HOST_TOKEN"] = token
        collector: GitHubCollector | GitLabCollector
        if host == "github":
            collector = GitHubCollector(GitHubSource(
                name="gh", base_url=url, orgs=["acme"], token_env="BENCH_HOST_TOKEN",
                max_concurrency=concurrency, batch_reads=batch), CollectContext(now=NOW))
        else:
            collector = GitLabCollector(GitLabSource(
                name="gl", url=url, groups=["acme"], token_env="BENCH_HOST_TOKEN",
                max_concurrency=concurrency, batch_reads=batch), CollectContext(now=NOW))
        started, cpu = time.monotonic(), time.process_time()
        evidence, status = run_collector(collector)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        served = server_stats(url)["requests"]
    finally:
        process.terminate()
        process.join(timeout=10)

    ledger = collector.ledger
    scanned = collector.scanned
    files, hosted, listing = ledger.total("files"), ledger.total("host"), ledger.total("listing")
    total = ledger.total()
    bound = total * latency / concurrency
    file_per_repo = files / scanned if scanned else float("inf")
    ratio = wall / bound if bound else float("inf")
    print(f"\n== {host}: {count} repositories, {latency * 1000:.0f} ms per request, "
          f"{concurrency} requests in flight, files read {'batched' if batch else 'one per request'} ==")
    print(f"status            {status.status.value}: {status.reason}")
    print(f"evidence          {len(evidence)} items from {scanned} repositories")
    print(f"requests          {total} (server answered {served}): {listing} listing, "
          f"{files} for files and history, {hosted} for host data")
    print(f"per repository    {file_per_repo:.2f} for files and history (target <= "
          f"{FILE_REQUESTS_TARGET:.0f}), {hosted / max(scanned, 1):.2f} for host data, "
          f"{collector.files_fetched / max(scanned, 1):.1f} files read")
    print(f"wall time         {wall:.1f} s; lower bound {total} x {latency:.3f} s / {concurrency} = "
          f"{bound:.1f} s; ratio {ratio:.2f} (target <= {WALL_TIME_TARGET})")
    print(f"machine           scanner CPU {cpu:.1f} s (detectors, client libraries); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    passed = (status.status.value == "ok" and scanned == count and served == total
              and file_per_repo <= FILE_REQUESTS_TARGET and ratio <= WALL_TIME_TARGET)
    print(f"{host}: {'PASS' if passed else 'FAIL'}")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--host", choices=["github", "gitlab", "both"], default="both")
    parser.add_argument("--no-batch", action="store_true",
                        help="read every file with its own REST request (batch_reads: false)")
    args = parser.parse_args()
    hosts = ["github", "gitlab"] if args.host == "both" else [args.host]
    results = [run(host, args.repos, args.latency, args.concurrency, not args.no_batch)
               for host in hosts]
    print(f"\noverall: {'PASS' if all(results) else 'FAIL'}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
