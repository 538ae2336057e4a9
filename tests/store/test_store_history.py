"""history, show, diff, trend and gate --against over real scans of a real repository.

A platform (the churn-model example as a git repository, declared as the ML system
`churn`) is scanned one night; then the team removes its deploy workflow and documents
its training workflow (every line of it moves down), and it is scanned the next night.
The commands must tell that continuous deployment was lost — for the platform and the
system — and that nothing else changed. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pg_server import create_database, postgres  # noqa: F401  (fixtures)
from store_support import (
    DEPLOY_WORKFLOW,
    NIGHTS,
    TRAIN_WORKFLOW,
    churn_platform,
    remove_deploy_workflow,
    run_cli,
    shift_train_workflow,
)

SYSTEMS = "systems:\n  churn:\n    repos: [\"repo:churn\"]\n"
LOST = "Automated model deployment"  # microsoft level 3, shown by the deploy workflow


def scan(config: Path, store: str | None, night: str) -> str:
    """`scan --config` (into `store`, else the default store); returns the stored scan's id."""
    where = ["--store", store] if store else []
    done = run_cli("scan", "--config", str(config), *where, "--format", "json", now=night)
    assert done.code == 0, done.stderr
    scan_ids = [line.split()[2] for line in done.stderr.splitlines() if line.startswith("stored scan ")]
    assert len(scan_ids) == 1, done.stderr
    return scan_ids[0]


def as_json(*args: str) -> Any:
    done = run_cli(*args)
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def two_nights(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, str]:
    """(config, store URL, first scan id, second scan id); the tests only read them."""
    root = tmp_path_factory.mktemp("two-nights")
    url = (f"sqlite:///{root / 'history.db'}" if request.param == "sqlite"
           else create_database(request.getfixturevalue("postgres")))
    config = churn_platform(root, extra_sources=SYSTEMS)
    first = scan(config, url, NIGHTS[0])
    remove_deploy_workflow(root / "churn")
    shift_train_workflow(root / "churn")
    second = scan(config, url, NIGHTS[1])
    return config, url, first, second


def test_history_lists_scans_newest_first_with_levels_systems_and_sources(
        two_nights: tuple[Path, str, str, str]) -> None:
    config, store, first, second = two_nights
    listed = as_json("history", "--config", str(config), "--store", store, "--format", "json")
    scans = listed["scans"]
    assert [s["id"] for s in scans] == [second, first]
    newest, oldest = scans
    assert newest["generated_at"] == "2026-01-13T03:00:00Z"
    assert newest["config_key"] == "acme-ml" and newest["target"] == str(config)
    assert newest["shard"] is None and newest["group_id"] == second
    assert oldest["levels"]["microsoft"] == {"level": 3, "at_least": False}
    assert newest["levels"]["microsoft"] == {"level": 2, "at_least": False}
    assert list(newest["systems"]) == ["churn"]
    assert newest["systems"]["churn"]["microsoft"] == {"level": 2, "at_least": False}
    assert oldest["systems"]["churn"]["microsoft"] == {"level": 3, "at_least": False}
    assert newest["sources"] == [{"name": "churn-repo", "type": "repo", "status": "ok", "reason": ""}]

    assert as_json("history", "--platform", "acme-ml", "--store", store, "--format", "json",
                   "--limit", "1")["scans"][0]["id"] == second
    table = run_cli("history", "--store", store)
    assert table.code == 0
    rows = [line for line in table.stdout.splitlines() if "acme-ml" in line]
    assert [first in rows[1], second in rows[0]] == [True, True]
    assert "1 ok" in rows[0]
    other = run_cli("history", "--platform", "another-platform", "--store", store)
    assert (other.code, other.stdout, other.stderr) == (
        0, "", "no stored scans of another-platform: run `maturity-probe scan --config FILE` first\n")


def test_show_renders_a_stored_scan_like_audit(two_nights: tuple[Path, str, str, str]) -> None:
    _, store, first, second = two_nights
    earlier = as_json("show", "last~1", "--store", store, "--format", "json")
    assert earlier["maturity"]["microsoft"]["level"] == 3
    assert any(e["path"] == DEPLOY_WORKFLOW for e in earlier["evidence"])
    by_prefix = as_json("show", second[:20], "--store", store, "--format", "json")
    assert by_prefix["maturity"]["microsoft"]["level"] == 2
    assert not any(e["path"] == DEPLOY_WORKFLOW for e in by_prefix["evidence"])
    text = run_cli("show", first, "--store", store)
    assert text.code == 0
    assert re.search(r"─ Microsoft MLOps maturity model ─+╮\n│ level 3 of 4 ", text.stdout)
    markdown = run_cli("show", "--store", store, "--format", "markdown")
    assert markdown.code == 0 and "level 2" in markdown.stdout
    unknown = run_cli("show", "20990101", "--store", store)
    assert (unknown.code, unknown.stderr) == (2, "error: no stored scan '20990101'\n")


def test_diff_tells_the_lost_deployment_for_the_platform_and_the_system(
        two_nights: tuple[Path, str, str, str]) -> None:
    _, store, first, second = two_nights
    changes = as_json("diff", "--store", store, "--format", "json")  # default: last~1 -> last
    assert (changes["from"]["id"], changes["to"]["id"]) == (first, second)
    assert changes["from"]["config_key"] == "acme-ml"
    moved = {(m["scope"], m["model"]): (m["from"]["level"], m["to"]["level"]) for m in changes["levels"]}
    assert moved[("platform", "microsoft")] == (3, 2)
    assert moved[("system:churn", "microsoft")] == (3, 2)
    system_move = next(m for m in changes["levels"] if m["scope"] == "system:churn")
    assert system_move["system"] == "churn"
    lost = [(r["scope"], r["model"], r["title"], r["from"], r["to"]) for r in changes["requirements"]
            if r["change"] == "lost"]
    assert ("platform", "microsoft", LOST, "met", "unmet") in lost
    assert ("system:churn", "microsoft", LOST, "met", "unmet") in lost
    assert not [r for r in changes["requirements"] if r["change"] == "met"]

    evidence = changes["evidence"]
    assert evidence["disappeared"], "the deploy workflow's evidence is gone"
    assert {e["locator"].split(":")[0] for e in evidence["disappeared"]} == {DEPLOY_WORKFLOW}
    # per system: the deploy workflow was the churn system's
    assert {tuple(e["systems"]) for e in evidence["disappeared"]} == {("churn",)}
    assert changes["evidence_by_system"] == [{
        "system": "churn", "appeared": [], "changed": [],
        "disappeared": [e["id"] for e in evidence["disappeared"]]}]
    # every line of the training workflow moved, so its evidence ids changed: no difference
    assert evidence["appeared"] == [] and evidence["changed"] == []
    ids = [{e["id"] for e in as_json("show", ref, "--store", store, "--format", "json")["evidence"]
            if e["path"] == TRAIN_WORKFLOW} for ref in (first, second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]

    explicit = as_json("diff", first, second, "--store", store, "--format", "json")
    assert explicit == changes
    backwards = as_json("diff", second, first, "--store", store, "--format", "json")
    assert {(m["scope"], m["model"]): (m["from"]["level"], m["to"]["level"])
            for m in backwards["levels"]}[("platform", "microsoft")] == (2, 3)
    assert {e["id"] for e in backwards["evidence"]["appeared"]} == {
        e["id"] for e in evidence["disappeared"]}

    text = run_cli("diff", "--store", store)
    assert text.code == 0
    assert f"diff of acme-ml: {first}" in text.stdout
    assert "  microsoft: level 3 → 2 — Automated training" in text.stdout
    assert f'✘ lost "{LOST}" (level 3): met → unmet' in text.stdout
    assert "system churn" in text.stdout
    assert "\n  system churn:\n    - " in text.stdout
    assert f"\n    - ci.model_deployment_job  repo:churn  {DEPLOY_WORKFLOW}:" in text.stdout
    markdown = run_cli("diff", "--store", store, "--format", "markdown")
    assert "| platform | microsoft | 3 | 2 |" in markdown.stdout
    assert "| system churn | microsoft | 3 | 2 |" in markdown.stdout
    assert "#### system churn\n\n- ➖ `" in markdown.stdout
    assert "\n- ➖ `ci.model_deployment_job` repo:churn" in markdown.stdout
    same = run_cli("diff", second, second, "--store", store)
    assert same.code == 0 and same.stdout.endswith("no differences\n")


def test_trend_gives_levels_over_time_per_model_and_system(
        two_nights: tuple[Path, str, str, str]) -> None:
    config, store, first, second = two_nights
    trend = as_json("trend", "--config", str(config), "--store", store, "--format", "json")
    assert trend["config_key"] == "acme-ml"
    series = {(s["scope"], s["model"]): s for s in trend["series"]}
    platform = series[("platform", "microsoft")]
    assert platform["system"] is None
    assert [(p["scan_id"], p["level"], p["at_least"]) for p in platform["points"]] == [
        (first, 3, False), (second, 2, False)]
    assert [p["level"] for p in series[("system:churn", "microsoft")]["points"]] == [3, 2]
    assert trend["series"][0]["scope"] == "platform"

    only = as_json("trend", "--store", store, "--format", "json", "--model", "google",
                   "--system", "churn")
    assert [(s["scope"], s["model"]) for s in only["series"]] == [("system:churn", "google")]
    table = run_cli("trend", "--store", store, "--model", "microsoft")
    assert table.code == 0
    assert "acme-ml — platform" in table.stdout and "acme-ml — system churn" in table.stdout
    assert table.stdout.index(first) < table.stdout.index(second)  # oldest first
    missing = run_cli("trend", "--store", store, "--system", "fraud")
    assert (missing.code, missing.stderr) == (2, "error: no system 'fraud' in these scans "
                                                 "(systems: churn)\n")


def test_gate_against_the_last_stored_scan(tmp_path: Path) -> None:
    """On the default store (MATURITY_PROBE_STORE, set for each test by conftest)."""
    config = churn_platform(tmp_path, extra_sources=SYSTEMS)
    gate = ["gate", "--config", str(config), "--against", "last"]
    nothing = run_cli(*gate)
    assert (nothing.code, nothing.stderr) == (
        2, "error: no stored scan of acme-ml to gate against: run `maturity-probe scan --config "
           "FILE` first (or give --baseline FILE)\n")
    first = scan(config, None, NIGHTS[0])
    remove_deploy_workflow(tmp_path / "churn")

    regressed = run_cli(*gate, now=NIGHTS[1])
    assert regressed.code == 1
    assert (f'✘ microsoft 3 → 2: lost "{LOST}": {DEPLOY_WORKFLOW} no longer deploys a model'
            in regressed.stdout)
    assert f"• baseline: stored scan {first} of 2026-01-12T03:00:00Z" in regressed.stdout
    assert regressed.stdout.endswith("maturity gate FAILED: maturity regressed\n")

    second = scan(config, None, NIGHTS[1])
    equal = run_cli(*gate, now=NIGHTS[2])
    assert equal.code == 0, equal.stdout
    assert f"stored scan {second}" in equal.stdout and equal.stdout.endswith("maturity gate passed\n")
    earlier = run_cli("gate", "--config", str(config), "--against", first, "--format", "markdown",
                      now=NIGHTS[2])
    assert earlier.code == 1 and "### Why it failed" in earlier.stdout

    stored = as_json("history", "--format", "json")["scans"]
    assert [s["id"] for s in stored] == [second, first], "the gate stores no scan of its own"
    both = run_cli(*gate, "--baseline", str(tmp_path / "baseline.json"))
    assert (both.code, both.stderr) == (2, "error: give either --baseline FILE or --against SCAN, "
                                           "not both\n")


def test_evidence_differences_are_split_per_system() -> None:
    """An item of two systems counts in both; evidence of no system is grouped apart; a
    disappeared item belongs to the systems of the scan it was in."""
    from maturity_probe.evidence import Strength
    from maturity_probe.history import EvidenceDiff, diff_evidence
    from support import ev

    kept, gone, shared, loose = (ev("ci.training_job", locator="train.yml:3"),
                                 ev("ci.model_deployment_job", locator="deploy.yml:1"),
                                 ev("serving.endpoint", locator="serve.yml:1", subject="repo:shared"),
                                 ev("tracking.runs_logged", locator="notes.py:1", subject="repo:x"))
    stronger = kept.model_copy(update={"strength": Strength.verified})
    diff = diff_evidence([kept, gone], [stronger, shared, loose])
    diff.systems = {gone.id: ("churn",), shared.id: ("churn", "fraud"), stronger.id: ("fraud",)}
    groups = diff.by_system()
    assert list(groups) == ["churn", "fraud", None]
    assert (groups["churn"].appeared, groups["churn"].disappeared) == ([shared], [gone])
    assert (groups["fraud"].appeared, groups["fraud"].changed) == ([shared], [(kept, stronger)])
    assert (groups[None].appeared, groups[None].disappeared, groups[None].changed) == ([loose], [], [])
    assert EvidenceDiff().by_system() == {}


def test_a_store_that_cannot_be_used_fails_before_any_source_is_read(tmp_path: Path) -> None:
    config = churn_platform(tmp_path)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 100)
    out = tmp_path / "out.json"
    done = run_cli("scan", "--config", str(config), "--store", f"sqlite:///{garbage}",
                   "-f", "json", "-o", str(out))
    assert done.code == 2 and done.stderr.startswith("error: store sqlite:///")
    assert "churn-repo" not in done.stderr, "no source was started"
    assert not out.exists()


def test_only_and_skip_that_leave_no_source_are_a_usage_error(tmp_path: Path) -> None:
    config = churn_platform(tmp_path)
    for flags in (["--skip", "churn-repo"], ["--only", "churn-repo", "--skip", "churn-repo"]):
        done = run_cli("scan", "--config", str(config), *flags)
        assert (done.code, done.stderr) == (2, f"error: --only/--skip leave no source of {config} "
                                               "to scan\n")
    assert as_json("history", "--format", "json")["scans"] == [], "nothing was stored"
