"""Prometheus text exposition (format 0.0.4) of an Assessment.

For node_exporter's textfile collector (`maturity-probe metrics --output`), a Pushgateway,
or `maturity-probe serve`'s /metrics. All series are gauges describing the latest scan;
label values are escaped; every family has HELP and TYPE lines. Series:

    maturity_probe_level{model, scope="platform"}               level reached
    maturity_probe_level{model, scope="system", system}          level of one ML system
    maturity_probe_level_at_least{model, scope[, system]}        1 when the level is a lower bound
    maturity_probe_max_level{model}                              top level of the model
    maturity_probe_systems{model, level}                         ML systems at each level
    maturity_probe_requirement_status{model, requirement, level, status}  one-hot over 5 statuses
    maturity_probe_kpi{kpi, subject, source, unit}               KPI value (absent when unmeasured)
    maturity_probe_source_up{source, type}                       1 ok or partial, 0 failed
    maturity_probe_source_status{source, type, status}           one-hot over ok/partial/failed
    maturity_probe_source_duration_seconds{source, type}
    maturity_probe_source_requests{source, type}                 API requests made in the scan
    maturity_probe_scan_timestamp_seconds                        when the scan ran (Unix time)
    maturity_probe_scan_info{target, version, schema_version}    always 1
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC

from maturity_probe.assessment import Assessment, ModelMaturity, Status
from maturity_probe.evidence import SourceState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "maturity_probe_"

Labels = dict[str, str]
Sample = tuple[Labels, float]


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


class Exposition:
    """Families in order; a repeated label set within a family is dropped (first wins)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, help_text: str, samples: Iterable[Sample]) -> None:
        rows: list[str] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        for labels, value in samples:
            key = tuple(sorted(labels.items()))
            if key in seen:
                continue
            seen.add(key)
            body = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            rows.append(f"{PREFIX}{name}{{{body}}} {_number(value)}" if body
                        else f"{PREFIX}{name} {_number(value)}")
        if rows:
            self.lines += [f"# HELP {PREFIX}{name} {_escape_help(help_text)}",
                           f"# TYPE {PREFIX}{name} gauge", *rows]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n" if self.lines else ""


def _scopes(assessment: Assessment) -> list[tuple[Labels, ModelMaturity]]:
    scoped: list[tuple[Labels, ModelMaturity]] = [
        ({"model": m.model, "scope": "platform"}, m) for m in assessment.maturity.values()
    ]
    for system in assessment.systems.values():
        scoped += [({"model": m.model, "scope": "system", "system": system.name}, m)
                   for m in system.maturity.values()]
    return scoped


def render(assessment: Assessment, explain: bool = False) -> str:
    out = Exposition()
    scoped = _scopes(assessment)
    out.family("level", "Maturity level reached, per maturity model, for the platform or one "
               "ML system.", ((labels, m.level) for labels, m in scoped))
    out.family("level_at_least", "1 when the level is a lower bound: a source that failed or "
               "was not scanned could have raised it.",
               ((labels, int(m.at_least)) for labels, m in scoped))
    out.family("max_level", "The top level of the maturity model.",
               (({"model": m.model}, m.max_level) for m in assessment.maturity.values()))
    out.family("systems", "Number of ML systems at each level of the maturity model.",
               (({"model": model, "level": level}, count)
                for model, by_level in assessment.system_levels.items()
                for level, count in by_level.items()))
    out.family("requirement_status", "Status of each requirement of the platform-wide "
               "assessment, one-hot over met, unmet, unknown, not_assessable and not_applicable.",
               (({"model": m.model, "requirement": r.id, "level": str(r.level),
                  "status": status.value}, int(r.status == status))
                for m in assessment.maturity.values() for r in m.requirements
                for status in Status))
    out.family("kpi", "Key performance indicator measured by a source, per subject (see "
               "configs/kpis.yaml for each KPI's meaning).",
               (({"kpi": k.id, "subject": k.subject, "source": k.source, "unit": k.unit}, k.value)
                for k in assessment.kpis if k.value is not None))
    sources = assessment.sources
    out.family("source_up", "1 when the source was read (ok or partial), 0 when it failed.",
               (({"source": s.name, "type": s.type}, int(s.status != SourceState.failed))
                for s in sources))
    out.family("source_status", "Outcome of reading the source, one-hot over ok, partial and "
               "failed.", (({"source": s.name, "type": s.type, "status": state.value},
                            int(s.status == state)) for s in sources for state in SourceState))
    out.family("source_duration_seconds", "Time spent reading the source in the scan.",
               (({"source": s.name, "type": s.type}, s.duration_seconds) for s in sources))
    out.family("source_requests", "API requests made to the source in the scan.",
               (({"source": s.name, "type": s.type}, s.requests) for s in sources))
    generated = assessment.generated_at
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=UTC)
    out.family("scan_timestamp_seconds", "When the scan ran, in seconds since the Unix epoch.",
               [({}, generated.timestamp())])
    out.family("scan_info", "The scan's target and the tool that ran it (always 1).",
               [({"target": assessment.target, "version": assessment.tool.version,
                  "schema_version": assessment.schema_version}, 1)])
    return out.text()


def metric_names() -> list[str]:
    """Every family this module can write (the Grafana dashboard may use only these)."""
    return [PREFIX + name for name in (
        "level", "level_at_least", "max_level", "systems", "requirement_status", "kpi",
        "source_up", "source_status", "source_duration_seconds", "source_requests",
        "scan_timestamp_seconds", "scan_info")]
