"""Every capability and every level of every bundled maturity model, on real git repos.

Repositories are composed from the realistic fragments of tests/capability_fragments.py:
the fragments of exactly the capabilities levels 1..N require must reach level N (and
not N+1), and each fragment alone must satisfy its capability.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from capability_fragments import FRAGMENTS, files_for
from conftest import MakeRepo
from maturity_probe.assessment import Status
from maturity_probe.inference.rules import load_rules
from maturity_probe.run import audit_checkout

RULES = load_rules()


def required_capabilities(model_id: str, level: int) -> set[str]:
    model = RULES.models[model_id]
    return {
        req.capability
        for lv in model.levels
        if lv.level <= level
        for req in lv.requirements
        if req.capability and req.blocking
    }


LEVEL_CASES = [
    pytest.param(model_id, level.level, id=f"{model_id}-L{level.level}")
    for model_id, model in RULES.models.items()
    for level in model.levels
]


def test_every_capability_has_a_fragment() -> None:
    assert set(RULES.capabilities) <= set(FRAGMENTS)


@pytest.mark.parametrize("capability", sorted(RULES.capabilities))
def test_fragment_alone_shows_its_capability(make_repo: MakeRepo, capability: str) -> None:
    root = make_repo(files_for({capability}))
    assessment = audit_checkout(root, RULES)
    result = assessment.capabilities[capability]
    assert result.status == Status.met, (capability, result.reason)
    assert result.evidence, capability
    by_id = assessment.evidence_by_id()
    assert all(by_id[e].locator for e in result.evidence)


@pytest.mark.parametrize(("model_id", "level"), LEVEL_CASES)
def test_repository_reaches_exactly_its_level(make_repo: MakeRepo, model_id: str,
                                              level: int) -> None:
    root = make_repo(files_for(required_capabilities(model_id, level)))
    result = audit_checkout(root, RULES, models=[model_id]).maturity[model_id]
    blockers = [r for r in result.requirements if r.level == level + 1 and r.blocking
                and r.status in (Status.unmet, Status.unknown)]
    assert result.level == level, [(r.id, r.status.value, r.reason) for r in blockers]
    if level < result.max_level:
        assert result.next_level is not None and result.next_level.gaps
        # "at least" only when every blocker could be shown by a source that was not scanned
        assert result.at_least == all(r.status == Status.unknown for r in blockers)


def test_level_reached_and_lost_is_explained_by_the_files(make_repo: MakeRepo, tmp_path: Path) -> None:
    """Every met requirement of the top Microsoft level names a file of the repository."""
    caps = required_capabilities("microsoft", 3)
    root = make_repo(files_for(caps))
    assessment = audit_checkout(root, RULES, models=["microsoft"])
    by_id = assessment.evidence_by_id()
    files = set(files_for(caps))
    for req in assessment.maturity["microsoft"].requirements:
        if req.status == Status.met and req.capability != "version_control":
            paths = {by_id[e].path for e in req.evidence}
            assert paths & files, (req.id, paths)
