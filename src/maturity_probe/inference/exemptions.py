"""User-declared exemptions: requirements that do not apply, each with a mandatory reason.

Read from `.maturity-probe.yml` at the root of an audited repository or from
`--exemptions FILE`:

    exemptions:
      - requirement: microsoft/l3-ab-testing
        reason: batch-only model, scored nightly; no online serving to A/B test
      - capability: progressive_delivery
        reason: ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maturity_probe import yamlio
from maturity_probe.assessment import Exemption
from maturity_probe.errors import UserError
from maturity_probe.inference.rules import RulesError, RuleSet, did_you_mean

REPO_FILE = ".maturity-probe.yml"
EXEMPTION_FIELDS = {"requirement", "capability", "reason"}


def repo_exemptions(root: Path, rules: RuleSet) -> tuple[list[Exemption], list[str]]:
    """The exemptions of an audited checkout's own REPO_FILE, and warnings.

    The file comes with the audited repository: one that is not a text file at all (binary,
    not UTF-8, unreadable, or a link out of the checkout) is a warning and the audit goes on
    without it. A text file with mistakes is an error, like --exemptions, for its owners to fix.
    """
    file = root / REPO_FILE
    if not file.is_file():
        return [], []
    if not file.resolve().is_relative_to(root.resolve()):
        return [], [f"{file}: links out of the checkout; its exemptions are ignored"]
    try:
        return load_exemptions(file, rules), []
    except UserError as exc:
        return [], [f"{exc}; its exemptions are ignored"]


def load_exemptions(file: Path, rules: RuleSet) -> list[Exemption]:
    """Exemptions of one file; unknown targets or missing reasons raise RulesError, an
    unreadable or non-UTF-8 file UserError."""
    try:
        data = yamlio.load_file(file)  # UserError when unreadable or not UTF-8
    except yamlio.YamlError as exc:
        raise RulesError([f"{file}:{exc.line}: {exc.describe()}"]) from exc
    if data is None:
        return []
    problems: list[str] = []
    items = data.get("exemptions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return _fail(file, data, "`exemptions` must be a list of {requirement|capability, reason}")
    found: list[Exemption] = []
    for index, item in enumerate(items):
        line = yamlio.line_of(items, index)
        where = f"{file}:{line}"
        if not isinstance(item, dict):
            problems.append(f"{where}: each exemption must be a mapping")
            continue
        unknown = [key for key in item if key not in EXEMPTION_FIELDS]
        for key in unknown:
            problems.append(f"{file}:{yamlio.line_of(item, key)}: unknown field `{key}` in an "
                            f"exemption (expected: {', '.join(sorted(EXEMPTION_FIELDS))})")
        if "requirement" in item and "capability" in item:
            problems.append(f"{file}:{yamlio.line_of(item, 'capability')}: an exemption names "
                            "a `requirement` or a `capability`, not both")
            continue
        if unknown:
            continue
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}: exemption needs a `reason`")
            continue
        target = _target(item, rules, where, problems)
        if target:
            found.append(Exemption(target=target, reason=reason.strip(), origin=where))
    if problems:
        raise RulesError(problems)
    return found


def _target(item: dict[str, Any], rules: RuleSet, where: str, problems: list[str]) -> str | None:
    if "requirement" in item:
        ref = str(item["requirement"])
        model_id, _, req_id = ref.partition("/")
        model = rules.models.get(model_id)
        if model is None or model.requirement(req_id) is None:
            known = {
                f"{m.id}/{r.id}": None
                for m in rules.models.values()
                for lv in m.levels
                for r in lv.requirements
            }
            problems.append(f"{where}: unknown requirement `{ref}`{did_you_mean(ref, known)}")
            return None
        return ref
    if "capability" in item:
        cap = str(item["capability"])
        if cap not in rules.capabilities:
            hint = did_you_mean(cap, dict(rules.capabilities))
            problems.append(f"{where}: unknown capability `{cap}`{hint}")
            return None
        return f"capability:{cap}"
    problems.append(f"{where}: exemption needs `requirement: model/id` or `capability: id`")
    return None


def _fail(file: Path, node: Any, message: str) -> list[Exemption]:
    line = yamlio.line_of(node)
    raise RulesError([f"{file}:{line}: {message}" if line else f"{file}: {message}"])
