"""GitLab code quality (`artifacts:reports:codequality`): the gaps as Code Climate issues.

GitLab compares reports of the source and target branches by fingerprint, so each
fingerprint is unique in a report and stable across scans (model, requirement and
scope; never a path or a time). Severity: `major` for what holds the level, `minor` for
optional criteria, `info` for what could not be checked.
"""

from __future__ import annotations

import json
from typing import Any

from maturity_probe.assessment import Assessment, Status
from maturity_probe.outputs.gaps import GapFinding, describe, gap_findings


def _severity(finding: GapFinding) -> str:
    if finding.requirement.status == Status.unknown:
        return "info"
    return "major" if finding.holds_level else "minor"


def _issue(finding: GapFinding) -> dict[str, Any]:
    req = finding.requirement
    body = req.recommendation or ""
    if req.criterion:
        body += f"\n\n> {req.criterion}"
    return {
        "type": "issue",
        "description": describe(finding),
        "check_name": f"maturity-probe/{finding.rule_id}",
        "fingerprint": finding.fingerprint,
        "severity": _severity(finding),
        "content": {"body": body.strip()},
        "location": {"path": finding.place.path, "lines": {"begin": finding.place.line or 1}},
    }


def render(assessment: Assessment, explain: bool = False) -> str:
    issues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in gap_findings(assessment):
        if finding.fingerprint in seen:  # GitLab merges issues that share a fingerprint
            continue
        seen.add(finding.fingerprint)
        issues.append(_issue(finding))
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
