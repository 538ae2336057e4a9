"""Progress of a scan on stderr: a live display on a terminal, one line per source otherwise.

Lines name the source and say how it went, e.g.

    source prod-mlflow (mlflow): ok in 1.2s, 14 requests, 40 evidence
    source prod-prom (prometheus): failed in 30.0s, 1 request, 0 evidence: timed out after 30s

Reasons are the sources' own, already free of secrets (run_collector redacts them).
"""

from __future__ import annotations

from typing import Protocol, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

from maturity_probe.evidence import SourceState, SourceStatus


class ScanProgress(Protocol):
    """What a scan reports to: LineProgress and RichProgress."""

    def started(self, name: str, kind: str) -> None: ...

    def finished(self, status: SourceStatus, evidence: int) -> None: ...

    def skipped(self, name: str, kind: str, why: str) -> None: ...

    def close(self) -> None: ...


def outcome(status: SourceStatus, evidence: int) -> str:
    """`ok in 1.2s, 14 requests, 40 evidence`, and the reason when it did not go well."""
    requests = f"{status.requests} request{'' if status.requests == 1 else 's'}"
    text = (f"{status.status.value} in {status.duration_seconds:.1f}s, {requests}, "
            f"{evidence} evidence")
    if status.status != SourceState.ok and status.reason:
        text += f": {status.reason}"
    return text


class LineProgress:
    """One plain line per finished source (logs of a CronJob or CI job)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def started(self, name: str, kind: str) -> None:
        return

    def finished(self, status: SourceStatus, evidence: int) -> None:
        self.stream.write(f"source {status.name} ({status.type}): {outcome(status, evidence)}\n")
        self.stream.flush()

    def skipped(self, name: str, kind: str, why: str) -> None:
        self.stream.write(f"source {name} ({kind}): {why}\n")
        self.stream.flush()

    def close(self) -> None:
        return


class RichProgress:
    """A live display on a terminal: a spinner per running source, a bar for the scan."""

    STYLE = {SourceState.ok: "green", SourceState.partial: "yellow", SourceState.failed: "red"}

    def __init__(self, console: Console, total: int) -> None:
        self.display = Progress(
            SpinnerColumn(finished_text="•"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            TextColumn("{task.fields[state]}"),
            console=console,
            transient=False,
        )
        self.overall = self.display.add_task("sources", total=total, state="")
        self.tasks: dict[str, TaskID] = {}
        self.display.start()

    def started(self, name: str, kind: str) -> None:
        self.tasks[name] = self.display.add_task(escape(f"{name} ({kind})"), total=None,
                                                 state="running")

    def finished(self, status: SourceStatus, evidence: int) -> None:
        task = self.tasks.get(status.name)
        state = f"[{self.STYLE[status.status]}]{escape(outcome(status, evidence))}"
        if task is not None:
            self.display.update(task, total=1, completed=1, state=state)
        self.display.advance(self.overall)

    def skipped(self, name: str, kind: str, why: str) -> None:
        self.display.add_task(escape(f"{name} ({kind})"), total=1, completed=1,
                              state=f"[dim]{escape(why)}")
        self.display.advance(self.overall)

    def close(self) -> None:
        self.display.stop()


def for_stderr(console: Console, stream: TextIO, sources: int) -> ScanProgress:
    """A live display when stderr is a terminal, plain lines otherwise."""
    if console.is_terminal:
        return RichProgress(console, sources)
    return LineProgress(stream)
