"""Evidence of a local checkout is located relative to the checkout, never by where the
consultant's copy lies on disk (reports go to clients; evidence ids stay the same on
every machine)."""

from __future__ import annotations

import json

from conftest import MakeRepo
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import json_out
from maturity_probe.run import audit_checkout
from support import TEST_WORKFLOW

RULES = load_rules()


def test_version_control_evidence_is_the_checkout_root_not_its_absolute_path(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({".github/workflows/ci.yml": TEST_WORKFLOW, "README.md": "# churn\n"})
    assessment = audit_checkout(root, RULES, models=["microsoft"])
    [vcs] = [e for e in assessment.evidence if e.signal == "vcs.repository"]
    assert vcs.locator == "."
    [test] = [e for e in assessment.evidence if e.signal == "ci.test_job"]
    assert test.locator == ".github/workflows/ci.yml:7"
    assert str(root.resolve()) not in "\n".join(e.locator for e in assessment.evidence)


def test_two_copies_of_a_repository_give_the_same_evidence(make_repo: MakeRepo) -> None:
    files = {".github/workflows/ci.yml": TEST_WORKFLOW, "README.md": "# churn\n"}
    first = make_repo(files, name="consultant-a/churn")
    second = make_repo(files, name="consultant-b/churn")
    ids = [sorted((e.id, e.locator) for e in audit_checkout(root, RULES).evidence)
           for root in (first, second)]
    assert ids[0] == ids[1]
    document = json.loads(json_out.render(audit_checkout(first, RULES)))
    assert str(first.resolve()) not in json.dumps(document["evidence"])  # the target is as given
