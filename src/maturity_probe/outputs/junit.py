"""JUnit XML (Jenkins / Ant dialect) for CI test reports: one test case per requirement.

One test suite per maturity model for the platform, then one per ML system and model, then
one for the sources read (a case per source: its time, requests and reason; a failed
source is an error).
The target level is the next level above the one reached (the top level once reached):
- met: passes (its evidence in system-out);
- unmet, blocking, at or below the target level: a failure;
- unknown, blocking, at or below the target level: an error (a source could not look);
- anything else — optional, beyond the target level, not assessable, not applicable — is
  skipped with a message saying which, so the four non-met states stay apart.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from maturity_probe.assessment import Assessment, ModelMaturity, RequirementResult, Status
from maturity_probe.evidence import Evidence, SourceState
from maturity_probe.outputs.labels import STATUS_WORD, level_text, utc_timestamp

MAX_EVIDENCE_LINES = 50
# Characters XML 1.0 cannot carry at all, even escaped (a summary may quote a binary file).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _target_level(model: ModelMaturity) -> int:
    return model.next_level.level if model.next_level else model.max_level


def _outcome(req: RequirementResult, target: int) -> tuple[str, str, str] | None:
    """(element, type, message) for a requirement that does not simply pass."""
    due = req.level <= target and req.blocking
    reason = f": {req.reason}" if req.reason else ""
    if req.status == Status.met:
        return None
    if req.status == Status.unmet and due:
        return "failure", "unmet", f"unmet{reason}"
    if req.status == Status.unknown and due:
        return "error", "unknown", f"could not be checked{reason}"
    if req.status in (Status.unmet, Status.unknown):
        why = "optional" if not req.blocking else f"required from level {req.level}, target {target}"
        return "skipped", req.status.value, f"{STATUS_WORD[req.status]} ({why}){reason}"
    return "skipped", req.status.value, f"{STATUS_WORD[req.status]}{reason}"


def _case(parent: ET.Element, classname: str, req: RequirementResult, target: int,
          evidence: dict[str, Evidence]) -> None:
    case = ET.SubElement(parent, "testcase", name=f"level {req.level}: {req.title} [{req.id}]",
                         classname=classname, time="0")
    outcome = _outcome(req, target)
    if outcome is not None:
        element, kind, message = outcome
        node = ET.SubElement(case, element, type=kind, message=message)
        details = []
        if req.recommendation and element != "skipped":
            details.append(f"Recommendation: {req.recommendation}")
        if req.criterion:
            details.append(f"Criterion: {req.criterion}")
        node.text = "\n".join(details) or None
    items = [evidence[i] for i in req.evidence if i in evidence]
    if items:
        lines = [f"{e.locator} [{e.signal}, {e.strength.value}] {e.summary}".rstrip()
                 for e in items[:MAX_EVIDENCE_LINES]]
        if len(items) > MAX_EVIDENCE_LINES:
            lines.append(f"... and {len(items) - MAX_EVIDENCE_LINES} more (see the JSON report)")
        ET.SubElement(case, "system-out").text = "\n".join(lines)


def _suite(root: ET.Element, name: str, classname: str, model: ModelMaturity,
           evidence: dict[str, Evidence], timestamp: str) -> None:
    target = _target_level(model)
    outcomes = [_outcome(r, target) for r in model.requirements]
    kinds = [o[0] if o else "passed" for o in outcomes]
    suite = ET.SubElement(
        root, "testsuite", name=name, tests=str(len(kinds)), failures=str(kinds.count("failure")),
        errors=str(kinds.count("error")), skipped=str(kinds.count("skipped")), time="0",
        timestamp=timestamp,
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (("model", model.model), ("level", str(model.level)),
                       ("at_least", str(model.at_least).lower()), ("target_level", str(target)),
                       ("summary", level_text(model))):
        ET.SubElement(properties, "property", name=key, value=value)
    for req in model.requirements:
        _case(suite, classname, req, target, evidence)


def _sources_suite(root: ET.Element, assessment: Assessment, timestamp: str) -> None:
    sources = assessment.sources
    failed = [s for s in sources if s.status == SourceState.failed]
    suite = ET.SubElement(
        root, "testsuite", name="maturity-probe sources", tests=str(len(sources)), failures="0",
        errors=str(len(failed)), skipped="0",
        time=f"{max((s.duration_seconds for s in sources), default=0):.3f}", timestamp=timestamp,
    )
    for source in sources:
        case = ET.SubElement(suite, "testcase", name=f"{source.name} ({source.type})",
                             classname="maturity.sources", time=f"{source.duration_seconds:.3f}")
        if source.status == SourceState.failed:
            ET.SubElement(case, "error", type="failed", message=source.reason or "failed")
        lines = [f"{source.status.value}: {source.requests} requests in {source.duration_seconds:.2f} s"]
        if source.reason and source.status != SourceState.failed:
            lines.append(source.reason)
        lines += source.warnings[:MAX_EVIDENCE_LINES]
        ET.SubElement(case, "system-out").text = "\n".join(lines)


def render(assessment: Assessment, explain: bool = False) -> str:
    evidence = assessment.evidence_by_id()
    timestamp = utc_timestamp(assessment.generated_at)
    root = ET.Element("testsuites", name=f"maturity-probe {assessment.target}")
    for model in assessment.maturity.values():
        _suite(root, f"{model.name} (platform)", f"maturity.{model.model}", model, evidence,
               timestamp)
    for system in assessment.systems.values():
        for model in system.maturity.values():
            _suite(root, f"{model.name} ({system.name})",
                   f"maturity.{system.name}.{model.model}", model, evidence, timestamp)
    if assessment.sources:
        _sources_suite(root, assessment, timestamp)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root:
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    for node in root.iter():
        node.text = _NOT_XML.sub("\ufffd", node.text) if node.text else node.text
        for name, text in node.attrib.items():
            node.set(name, _NOT_XML.sub("\ufffd", text))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
