"""The concurrent source runner: limits per type and overall, deadlines, config order, the
thread names request logs rely on, progress lines, and secrets scrubbed from evidence."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import ClassVar, Literal

from rich.console import Console

from maturity_probe.collectors import CollectContext, Collector, SourceConfig, scrubbed
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.progress import LineProgress, RichProgress
from maturity_probe.runner import Limits, abandoned_sources, run_sources

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Watch:
    """Counts how many sources (of each type) run at the same moment."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: list[str] = []
        self.most: dict[str, int] = {}
        self.most_total = 0
        self.threads: dict[str, str] = {}

    def enter(self, name: str, kind: str) -> None:
        with self.lock:
            self.running.append(kind)
            self.threads[name] = threading.current_thread().name
            self.most[kind] = max(self.most.get(kind, 0), self.running.count(kind))
            self.most_total = max(self.most_total, len(self.running))

    def leave(self, kind: str) -> None:
        with self.lock:
            self.running.remove(kind)


class SleepySource(SourceConfig):
    type: Literal["sleepy", "drowsy"] = "sleepy"
    seconds: float = 0.0
    items: int = 2


class Sleepy(Collector):
    """Sleeps, then yields `items` evidence items (a stand-in for a slow API)."""

    type: ClassVar[str] = "sleepy"
    config_model = SleepySource
    watch: ClassVar[Watch | None] = None

    def collect(self) -> Iterator[Evidence]:
        watch = self.watch
        if watch is not None:
            watch.enter(self.config.name, self.type)
        try:
            time.sleep(self.config.seconds)
        finally:
            if watch is not None:
                watch.leave(self.type)
        self.status.requests = 3
        for number in range(self.config.items):
            yield self.evidence(signal="ci.pipeline", subject=f"repo:{self.config.name}",
                                locator=f"ci.yml:{number + 1}", strength=Strength.declared)


class Drowsy(Sleepy):
    type: ClassVar[str] = "drowsy"


def sources(*specs: tuple[str, str, float]) -> list[Collector]:
    context = CollectContext(now=NOW)
    kinds = {"sleepy": Sleepy, "drowsy": Drowsy}
    return [kinds[kind](SleepySource(type=kind, name=name, seconds=seconds), context)
            for name, kind, seconds in specs]


def test_sources_run_at_once_within_the_limits_per_type_and_overall() -> None:
    watch = Watch()
    Sleepy.watch = watch
    try:
        collectors = sources(*[(f"s{i}", "sleepy", 0.3) for i in range(3)],
                             *[(f"d{i}", "drowsy", 0.3) for i in range(4)])
        started = time.monotonic()
        evidence, statuses = run_sources(collectors, Limits(total=3, per_type={"sleepy": 1}))
        elapsed = time.monotonic() - started
    finally:
        Sleepy.watch = None
    assert watch.most["sleepy"] == 1  # the per-type limit
    assert watch.most_total == 3  # the overall limit, reached
    assert elapsed < 7 * 0.3  # not one after the other
    assert [s.name for s in statuses] == ["s0", "s1", "s2", "d0", "d1", "d2", "d3"]  # config order
    assert all(s.status == SourceState.ok and s.requests == 3 for s in statuses)
    assert len(evidence) == 14
    assert watch.threads == {name: f"source:{name}" for name in watch.threads}  # for request logs


def test_results_do_not_depend_on_which_source_finishes_first() -> None:
    fast_first = run_sources(sources(("a", "sleepy", 0.2), ("b", "sleepy", 0.0), ("c", "drowsy", 0.1)))
    slow_first = run_sources(sources(("a", "sleepy", 0.0), ("b", "sleepy", 0.2), ("c", "drowsy", 0.0)))
    assert [e.id for e in fast_first[0]] == [e.id for e in slow_first[0]]
    assert [e.subject for e in fast_first[0]] == ["repo:a", "repo:a", "repo:b", "repo:b", "repo:c", "repo:c"]
    assert [s.name for s in fast_first[1]] == [s.name for s in slow_first[1]] == ["a", "b", "c"]


class Stuck(Collector):
    """Yields one item, then waits until released, then yields another."""

    type: ClassVar[str] = "sleepy"
    config_model = SleepySource
    release = threading.Event()

    def collect(self) -> Iterator[Evidence]:
        self.status.requests = 1
        yield self.evidence(signal="ci.pipeline", subject="repo:stuck", locator="early",
                            strength=Strength.declared)
        self.release.wait(timeout=30)
        self.status.status = SourceState.partial
        yield self.evidence(signal="ci.pipeline", subject="repo:stuck", locator="late",
                            strength=Strength.declared)


def test_a_source_past_its_deadline_fails_and_nothing_it_finds_later_leaks_in() -> None:
    context = CollectContext(now=NOW)
    stuck = Stuck(SleepySource(name="stuck", scan_timeout_seconds=0.3), context)
    quick = sources(("quick", "drowsy", 0.0))[0]
    lines = io.StringIO()
    started = time.monotonic()
    evidence, statuses = run_sources([stuck, quick], progress=LineProgress(lines))
    assert time.monotonic() - started < 2
    assert statuses[0].status == SourceState.failed
    assert statuses[0].reason == "timed out after 0.3s (scan_timeout_seconds)"
    assert statuses[0].requests == 1 and 0.3 <= statuses[0].duration_seconds < 1.5
    assert statuses[1].status == SourceState.ok
    assert {e.subject for e in evidence} == {"repo:quick"}  # not even what it found early
    assert "source:stuck" in abandoned_sources()
    assert "source stuck (sleepy): failed in 0.3s, 1 request, 0 evidence: timed out after 0.3s " \
           "(scan_timeout_seconds)\n" in lines.getvalue()

    Stuck.release.set()  # the abandoned thread finishes: its results go nowhere
    deadline = time.monotonic() + 5
    while abandoned_sources() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not abandoned_sources()
    assert statuses[0].status == SourceState.failed and stuck.status.status == SourceState.partial
    assert {e.subject for e in evidence} == {"repo:quick"}


def test_progress_lines_say_how_each_source_went() -> None:
    lines = io.StringIO()
    progress = LineProgress(lines)
    progress.finished(SourceStatus(name="prod-mlflow", type="mlflow", status=SourceState.ok,
                                   duration_seconds=1.234, requests=14), 40)
    progress.finished(SourceStatus(name="gh", type="github", status=SourceState.partial,
                                   reason="acme/x: not found (HTTP 404)", duration_seconds=3,
                                   requests=1), 0)
    progress.skipped("prom", "prometheus", "scanned by shard 2/4")
    assert lines.getvalue().splitlines() == [
        "source prod-mlflow (mlflow): ok in 1.2s, 14 requests, 40 evidence",
        "source gh (github): partial in 3.0s, 1 request, 0 evidence: acme/x: not found (HTTP 404)",
        "source prom (prometheus): scanned by shard 2/4",
    ]


def test_a_terminal_gets_a_live_display_of_every_source() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, no_color=True)
    progress = RichProgress(console, total=2)
    progress.started("prod-mlflow", "mlflow")
    progress.finished(SourceStatus(name="prod-mlflow", type="mlflow", status=SourceState.failed,
                                   reason="[bold]cannot connect", duration_seconds=0.5), 0)
    progress.skipped("prom", "prometheus", "scanned by shard 1/2")
    progress.close()
    shown = screen.getvalue()
    assert "prod-mlflow (mlflow)" in shown
    assert "failed in 0.5s, 0 requests, 0 evidence: [bold]cannot connect" in shown  # not markup
    assert "scanned by shard 1/2" in shown


def test_secrets_and_url_credentials_are_scrubbed_from_evidence() -> None:
    context = CollectContext(now=NOW, secrets=["s3cr3t-token-value"])
    collector = Sleepy(SleepySource(name="src"), context)
    clean = collector.evidence(signal="ci.pipeline", subject="repo:x", locator="https://host/ci.yml",
                               strength=Strength.declared, attributes={"repos": ["git@github.com:a/b"]})
    assert scrubbed(clean, context.secrets) is clean
    dirty = collector.evidence(
        signal="ci.pipeline", subject="repo:x", locator="https://bob:hunter22@mlflow.example/#/models",
        strength=Strength.declared, summary="token s3cr3t-token-value used",
        attributes={"urls": ["https://bob:hunter22@mlflow.example"], "n": 3})
    cleaned = scrubbed(dirty, context.secrets)
    assert cleaned.locator == "https://***@mlflow.example/#/models"
    assert cleaned.summary == "token *** used"
    assert cleaned.attributes == {"urls": ["https://***@mlflow.example"], "n": 3}
    assert cleaned.id == dirty.id  # the id is a hash: stable, and it reveals nothing


HEAP_PROBE = """
import sys, threading
from maturity_probe.runner import keep_heap_compact

def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

if sys.argv[1] == "compact":
    keep_heap_compact()
left = []
def source():  # a source thread: pages of JSON read and dropped while small results stay
    first = bytearray(1 << 20)
    del first
    kept, pages = [], []
    before = rss_kib()
    for _ in range(40):
        pages.append(bytearray(1 << 20))
        kept.append(bytearray(4096))
    del pages
    left.append(rss_kib() - before)
thread = threading.Thread(target=source)
thread.start()
thread.join()
print(left[0])
"""


def test_large_answers_a_source_drops_leave_the_process_memory() -> None:
    def left_kib(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", HEAP_PROBE, mode], capture_output=True,
                              text=True, check=True, timeout=60)
        return int(done.stdout)

    # glibc's default: the pages land in the thread's heap, and their 40 MiB stay resident
    assert left_kib("default") > 30 * 1024
    assert left_kib("compact") < 2 * 1024


class Broken(Sleepy):
    """A collector with a bug whose exception message runs over several lines."""

    type: ClassVar[str] = "sleepy"

    def collect(self) -> Iterator[Evidence]:
        raise ValueError("Attempted to parse the answer\nThis likely indicates a malformed response.")
        yield  # pragma: no cover  (a generator, like every collector)


def test_an_unexpected_error_is_one_line_and_the_other_sources_go_on() -> None:
    context = CollectContext(now=NOW)
    broken = Broken(SleepySource(name="broken"), context)
    evidence, statuses = run_sources([broken, *sources(("fine", "sleepy", 0.0))], Limits(4, {}))
    failed, fine = statuses
    assert failed.status == SourceState.failed
    assert failed.reason == "internal error: ValueError: Attempted to parse the answer"
    assert fine.status == SourceState.ok and len(evidence) == 2
