"""How two scans are compared: which evidence is the same observation, and which
requirement and level changes are reported, for the platform and for systems that come
and go. Pure functions over assessments; the stored end to end is test_store_history."""

from __future__ import annotations

from datetime import timedelta

from maturity_probe.assessment import Assessment, Status
from maturity_probe.evidence import Evidence, Strength
from maturity_probe.history import diff_evidence, diff_scans
from maturity_probe.inference.correlate import System
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs.history_views import diff_markdown, diff_text
from maturity_probe.store import ScanRecord, scope_levels
from support import NOW, ev, source

RULES = load_rules()
REPO = "github:acme/churn"


def training(line: int, strength: Strength = Strength.declared, job: str = "train") -> Evidence:
    return ev("ci.training_job", locator=f".github/workflows/train.yml:{line}", subject=REPO,
              strength=strength, job=job)


def test_a_moved_line_is_the_same_observation_and_a_new_strength_is_a_change() -> None:
    before = [training(12), training(30, job="retrain"), ev("ci.test_job", subject=REPO)]
    after = [training(14), training(32, Strength.verified, job="retrain")]
    result = diff_evidence(before, after)
    assert result.appeared == []
    assert [item.signal for item in result.disappeared] == ["ci.test_job"]
    assert [(b.locator, a.locator, a.strength) for b, a in result.changed] == [
        (".github/workflows/train.yml:30", ".github/workflows/train.yml:32", Strength.verified)]


def test_one_of_two_observations_in_one_file_disappears() -> None:
    result = diff_evidence([training(12), training(30)], [training(12)])
    assert [item.locator for item in result.disappeared] == [".github/workflows/train.yml:30"]
    assert result.appeared == [] and result.changed == []
    other_source = ev("ci.training_job", locator=".github/workflows/train.yml:12", subject=REPO,
                      source="github")
    moved_host = diff_evidence([training(12)], [other_source])
    assert len(moved_host.appeared) == len(moved_host.disappeared) == 1  # another source saw it


def scan(hours: int, evidence: list[Evidence], systems: list[System]) -> tuple[ScanRecord, Assessment]:
    assessment = assess(RULES, evidence, [source()], now=NOW + timedelta(hours=hours),
                        target="platform.yaml", systems=systems)
    record = ScanRecord(id=f"scan-{hours}", group_id=f"scan-{hours}", config_key="acme",
                        target="platform.yaml", generated_at=NOW + timedelta(hours=hours),
                        shard_index=None, shard_count=None, levels=scope_levels(assessment))
    return record, assessment


def test_requirements_met_and_a_system_that_appears() -> None:
    base = [ev("ci.pipeline", locator=".github/workflows/ci.yml:1", subject=REPO),
            ev("vcs.training_code_versioned", locator="src/train.py", subject=REPO)]
    fraud = ev("ci.pipeline", locator=".gitlab-ci.yml:1", subject="gitlab:acme/fraud")
    before = scan(0, base, [System("churn", (REPO,), declared=True)])
    after = scan(24, [*base, training(12), ev("ci.test_job", subject=REPO), fraud],
                 [System("churn", (REPO,), declared=True),
                  System("fraud", ("gitlab:acme/fraud",), declared=True)])
    result = diff_scans(before[0], before[1], after[0], after[1])

    assert result.before.id == "scan-0" and result.after.generated_at == "2026-06-02T12:00:00Z"
    churn = [r for r in result.requirements if r.scope == "system:churn" and r.model == "microsoft"]
    assert churn and all(r.change == "met" and r.after == Status.met for r in churn)
    fraud_moves = [m for m in result.levels if m.scope == "system:fraud"]
    assert {m.model for m in fraud_moves} == set(RULES.models)
    assert all(m.before is None and m.after is not None for m in fraud_moves)
    fraud_reqs = [r for r in result.requirements if r.scope == "system:fraud"]
    assert fraud_reqs and all(r.before is None and r.change in ("met", "changed") for r in fraud_reqs)
    assert [(e.subject, e.signal) for e in result.evidence.appeared] == [
        (REPO, "ci.test_job"), (REPO, "ci.training_job"), ("gitlab:acme/fraud", "ci.pipeline")]
    assert result.evidence.disappeared == [] and result.evidence.changed == []

    payload = result.to_json()
    fraud_json = next(m for m in payload["levels"] if m["scope"] == "system:fraud")
    assert fraud_json["system"] == "fraud" and fraud_json["from"] is None
    assert set(fraud_json["to"]) == {"level", "at_least"}
    text = diff_text(result)
    assert "system fraud" in text and "level – → " in text
    assert "| system fraud |" in diff_markdown(result)

    unchanged = diff_scans(after[0], after[1], after[0], after[1])
    assert unchanged.empty and diff_text(unchanged).endswith("no differences\n")
    assert diff_markdown(unchanged).endswith("No differences.\n")
