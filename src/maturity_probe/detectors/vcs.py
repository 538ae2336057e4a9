"""Version control of the repository as a whole."""

from __future__ import annotations

from collections.abc import Iterator

from maturity_probe.detectors import detector
from maturity_probe.detectors.context import Finding, RepoContext
from maturity_probe.words import plural


@detector(signals=["vcs.repository"])
def repository_history(ctx: RepoContext) -> Iterator[Finding]:
    """Emits vcs.repository: the repository has a commit history (count, last commit)."""
    if ctx.history is None:
        return
    history = ctx.history.repository_history()
    if history is None or history.commits == 0:
        return
    yield Finding(
        signal="vcs.repository",
        path="",
        line=None,
        summary=f"{plural(history.commits, 'commit')}, the last on {history.last_change.date().isoformat()}",
        attributes={"commits": history.commits},
        occurred_at=history.last_change,
    )
