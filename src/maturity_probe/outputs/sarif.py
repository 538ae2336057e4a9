"""SARIF 2.1.0 for code scanning (GitHub and others): the gaps as results.

Rules are the requirements that have a result (help = the recommendation, full
description = the maturity model's own criterion). Results carry a file location (see
`outputs.gaps` for where an evidence-less gap points), a stable partial fingerprint so
alerts survive re-scans, and failed or partial sources become tool execution
notifications rather than results.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from maturity_probe.assessment import Assessment
from maturity_probe.evidence import SourceState
from maturity_probe.outputs import md
from maturity_probe.outputs.gaps import REPOSITORY_SETTINGS, GapFinding, Place, describe, gap_findings
from maturity_probe.outputs.labels import PROJECT_URL, utc_timestamp

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "maturityProbeGap/v1"
SOURCE_NOTE_LEVEL = {SourceState.failed: "error", SourceState.partial: "warning"}


def _artifact(place: Place) -> dict[str, Any]:
    if place.is_absolute:  # upload tools make file URIs under the checkout relative
        return {"uri": PurePosixPath(place.path).as_uri()}
    return {"uri": place.path, "uriBaseId": "%SRCROOT%"}


def _where_note(place: Place) -> str:
    exempt = (f"A requirement that does not apply can be exempted with a reason in "
              f"{REPOSITORY_SETTINGS}.")
    if place.kind == "config":
        return (f"No file shows this practice; the location is the platform config {place.path}, "
                "which declares the sources that could show it.")
    if place.kind == "file":
        return (f"No file shows this practice; the location is {place.path}, a file the audit "
                f"read. {exempt}")
    return f"No file shows this practice; the location is the repository root. {exempt}"


def _physical(place: Place) -> dict[str, Any]:
    """SARIF 2.1.0: a region only where there is a line (the repository root has none)."""
    location: dict[str, Any] = {"artifactLocation": _artifact(place)}
    if place.line is not None:
        location["region"] = {"startLine": place.line}
    return location


def _rule(finding: GapFinding) -> dict[str, Any]:
    req, model = finding.requirement, finding.model
    recommendation = req.recommendation or "See the maturity model's criterion."
    markdown = (f"**{md.text(model.name)}, level {req.level}: {md.text(req.title)}**\n\n"
                f"{md.text(recommendation)}\n\n"
                + (f"> {md.text(req.criterion)}\n\n" if req.criterion else "")
                + (f"Source: {md.text(model.source)}\n\n" if model.source else "")
                + md.text(_where_note(finding.place)))
    rule: dict[str, Any] = {
        "id": finding.rule_id,
        "name": req.id,
        "shortDescription": {"text": req.title},
        "help": {"text": f"{recommendation} {_where_note(finding.place)}", "markdown": markdown},
        "defaultConfiguration": {"level": "warning" if req.blocking else "note"},
        "properties": {"tags": ["mlops-maturity", model.model, f"level-{req.level}"]},
    }
    if req.criterion:
        rule["fullDescription"] = {"text": req.criterion}
    return rule


def _level(finding: GapFinding) -> str:
    return "warning" if finding.holds_level else "note"


def render(assessment: Assessment, explain: bool = False) -> str:
    findings = gap_findings(assessment)
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results = []
    for finding in findings:
        if finding.rule_id not in rule_index:
            rule_index[finding.rule_id] = len(rules)
            rules.append(_rule(finding))
        req = finding.requirement
        results.append({
            "ruleId": finding.rule_id,
            "ruleIndex": rule_index[finding.rule_id],
            "level": _level(finding),
            "message": {"text": f"{describe(finding)} {_where_note(finding.place)}"},
            "locations": [{"physicalLocation": _physical(finding.place)}],
            "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
            "properties": {
                "model": finding.model.model,
                "requirement": req.id,
                "requirementLevel": req.level,
                "status": req.status.value,
                "blocking": req.blocking,
                "nextLevel": finding.next_level,
            },
        })
    notifications = [
        {
            "level": SOURCE_NOTE_LEVEL[source.status],
            "message": {"text": f"source {source.name} ({source.type}) {source.status.value}"
                                + (f": {source.reason}" if source.reason else "")},
            "descriptor": {"id": f"source/{source.name}"},
            "properties": {"durationSeconds": source.duration_seconds, "requests": source.requests},
        }
        for source in assessment.sources if source.status != SourceState.ok
    ]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": assessment.tool.name,
            "version": assessment.tool.version,
            "semanticVersion": assessment.tool.version,
            "informationUri": PROJECT_URL,
            "rules": rules,
        }},
        "invocations": [{
            "executionSuccessful": True,
            "endTimeUtc": utc_timestamp(assessment.generated_at),
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
        "properties": {
            "target": assessment.target,
            "levels": {
                m.model: {"level": m.level, "atLeast": m.at_least, "maxLevel": m.max_level,
                          "levelName": m.level_name}
                for m in assessment.maturity.values()
            },
        },
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
