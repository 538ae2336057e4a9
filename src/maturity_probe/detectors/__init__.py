"""Detectors: small functions that read a repository's files and report findings.

Each detector is registered with the signals it may emit and the file globs it reads,
and receives a `RepoContext`. Detectors never execute repository code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from maturity_probe.detectors.context import Finding, RepoContext

DetectorFunc = Callable[[RepoContext], Iterable[Finding]]

# Modules holding detectors; importing them registers their functions.
DETECTOR_MODULES = (
    "maturity_probe.detectors.vcs",
    "maturity_probe.detectors.ci",
    "maturity_probe.detectors.mlcode",
    "maturity_probe.detectors.pipelines",
    "maturity_probe.detectors.quality",
    "maturity_probe.detectors.serving",
    "maturity_probe.detectors.monitoring",
)


@dataclass(frozen=True)
class Detector:
    name: str
    signals: frozenset[str]
    wants: tuple[str, ...]  # globs of the files it reads, so remote trees can prefetch them
    run: DetectorFunc
    doc: str


_REGISTRY: dict[str, Detector] = {}


def detector(*, signals: Iterable[str], wants: Iterable[str] = ()) -> Callable[
    [DetectorFunc], DetectorFunc
]:
    """Register a detector function under its name, with the signals it emits."""

    def register(func: DetectorFunc) -> DetectorFunc:
        name = f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"
        _REGISTRY[name] = Detector(
            name=name,
            signals=frozenset(signals),
            wants=tuple(wants),
            run=func,
            doc=(func.__doc__ or "").strip(),
        )
        return func

    return register


def all_detectors() -> list[Detector]:
    """Every built-in detector, in a stable order."""
    for module in DETECTOR_MODULES:
        importlib.import_module(module)
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def run_detectors(ctx: RepoContext, detectors: list[Detector] | None = None) -> list[Finding]:
    """Run detectors over one repository; a detector may only emit its declared signals."""
    detectors = detectors if detectors is not None else all_detectors()
    ctx.prefetch(pattern for d in detectors for pattern in d.wants)
    findings: list[Finding] = []
    for det in detectors:
        for finding in det.run(ctx):
            if finding.signal not in det.signals:
                raise AssertionError(
                    f"detector {det.name} emitted undeclared signal {finding.signal}"
                )
            findings.append(finding)
    return findings


__all__ = ["Detector", "Finding", "RepoContext", "all_detectors", "detector", "run_detectors"]
