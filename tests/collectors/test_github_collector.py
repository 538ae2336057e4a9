"""The github collector against a local GitHub API: evidence, strengths, levels, requests.

The real PyGithub client talks to `github_server` on 127.0.0.1, which serves the sample
organisation of `host_repos` with GitHub's paths, pagination and rate-limit headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from github_server import GitHubState, running
from host_repos import NOW, RunSpec, days_ago, github_org
from pydantic import ValidationError

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.github import GitHubCollector, GitHubSource
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import json_out
from maturity_probe.run import audit_target

RULES = load_rules()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GitHubState, str]]:
    state = GitHubState(github_org())
    monkeypatch.setenv("GITHUB_TOKEN", state.token)
    with running(state) as api:
        yield state, api


def scan(api: str, **fields: object) -> tuple[list[Evidence], SourceStatus, GitHubCollector]:
    source = GitHubSource.model_validate({"type": "github", "name": "gh", "base_url": api, **fields})
    collector = GitHubCollector(source, CollectContext(now=NOW))
    evidence, status = run_collector(collector)
    return evidence, status, collector


def of(evidence: list[Evidence], subject: str, signal: str) -> list[Evidence]:
    return sorted((e for e in evidence if e.subject == subject and e.signal == signal),
                  key=lambda e: e.locator)


CHURN = "github:acme/churn-model"


def test_organisation_scan_skips_archived_and_forks_and_follows_pagination(
        server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.max_per_page = 2  # three pages of repositories, linked by `Link: rel="next"`
    evidence, status, _ = scan(api, orgs=["acme"])
    assert status.status == SourceState.ok, status.reason
    subjects = {e.subject for e in evidence}
    assert subjects == {CHURN, "github:acme/fraud-model", "github:acme/forecast-model",
                        "github:acme/web-frontend"}
    listing = [p for p in state.paths() if p.startswith("GET /orgs/acme/repos")]
    assert len(listing) == 3
    assert not state.requests_for("acme/ml-legacy") and not state.requests_for("acme/sklearn-fork")


def test_include_globs_select_repositories(server: tuple[GitHubState, str]) -> None:
    state, api = server
    evidence, status, _ = scan(api, orgs=["acme"], include=["*-model"], include_archived=True)
    assert status.status == SourceState.ok
    assert {e.subject for e in evidence} == {CHURN, "github:acme/fraud-model",
                                             "github:acme/forecast-model"}
    assert not state.requests_for("acme/web-frontend")


def test_successful_scheduled_runs_verify_scheduled_retraining(server: tuple[GitHubState, str]) -> None:
    _, api = server
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    assert status.status == SourceState.ok, status.reason
    [scheduled] = of(evidence, CHURN, "retrain.scheduled")
    assert scheduled.strength == Strength.verified
    assert scheduled.occurred_at == days_ago(4) + timedelta(minutes=23)  # the last successful run
    assert scheduled.attributes["cron"] == "0 3 * * 1"
    assert scheduled.attributes["host_state"] == "succeeded"
    assert scheduled.attributes["host_successful_runs"] == 2
    assert scheduled.locator == ("https://github.com/acme/churn-model/blob/main/"
                                 ".github/workflows/retrain.yml#L4")
    assert "2 successful schedule runs in the last 90 days" in scheduled.summary
    [training] = of(evidence, CHURN, "ci.training_job")
    assert training.strength == Strength.verified
    deploys = of(evidence, CHURN, "ci.model_deployment_job")
    assert [d.strength for d in deploys] == [Strength.verified, Strength.verified]
    [tests] = of(evidence, CHURN, "ci.test_job")
    assert tests.strength == Strength.verified and tests.attributes["host_runs"] == 2
    [lint] = of(evidence, CHURN, "ci.lint_job")  # a lint job is not a test job, but it ran too
    assert lint.strength == Strength.verified and lint.attributes["job"] == "lint"


def test_protected_environment_and_deployments_verify_the_gated_release(
        server: tuple[GitHubState, str]) -> None:
    _, api = server
    evidence, _, _ = scan(api, repos=["acme/churn-model"])
    gates = {e.attributes["job"]: e for e in of(evidence, CHURN, "ci.gated_release")}
    production, staging = gates["production"], gates["staging"]
    assert production.strength == Strength.verified
    assert production.attributes["reviewers"] == 2
    assert "requires approval by 2 reviewers" in production.summary
    assert staging.strength == Strength.declared  # staging has no reviewers on GitHub
    assert staging.attributes["host_state"] == "unprotected"
    [environments] = of(evidence, CHURN, "ci.deployment_environments")
    assert environments.strength == Strength.verified
    assert environments.attributes["deployed_environments"] == ["production", "staging"]


def test_branch_protection_rulesets_and_bot_releases(server: tuple[GitHubState, str]) -> None:
    _, api = server
    evidence, status, _ = scan(api, repos=["acme/churn-model", "acme/fraud-model"])
    assert status.status == SourceState.ok, status.reason
    reviews = of(evidence, CHURN, "governance.code_review")
    assert [r.attributes["via"] for r in reviews] == ["ruleset", "branch protection"]
    assert all(r.strength == Strength.active and r.attributes["required_approvals"] == 1
               for r in reviews)
    assert reviews[1].attributes["required_checks"] == ["test"]
    assert not of(evidence, "github:acme/fraud-model", "governance.code_review")
    releases = [e for e in of(evidence, CHURN, "ci.build_job") if e.attributes.get("via") == "release"]
    assert [r.locator for r in releases] == ["https://github.com/acme/churn-model/releases/tag/v1.4.0"]
    assert releases[0].strength == Strength.verified
    # fraud-model's release was published by a person: no evidence of an automated release
    assert not of(evidence, "github:acme/fraud-model", "ci.build_job")


def test_disabled_or_stale_schedules_stay_declared_and_are_not_counted_as_retraining(
        server: tuple[GitHubState, str], tmp_path: Path) -> None:
    _, api = server
    evidence, status, _ = scan(api, repos=["acme/fraud-model", "acme/forecast-model"])
    [disabled] = of(evidence, "github:acme/fraud-model", "retrain.scheduled")
    assert disabled.strength == Strength.declared
    assert disabled.attributes["host_state"] == "disabled"
    assert "disabled on the host (disabled_inactivity)" in disabled.summary
    [stale] = of(evidence, "github:acme/forecast-model", "retrain.scheduled")
    assert stale.strength == Strength.declared and stale.attributes["host_state"] == "not_run"
    assert "no schedule run in the last 90 days" in stale.summary

    for repo in ("fraud-model", "forecast-model"):
        subject = f"github:acme/{repo}"
        items = [e for e in evidence if e.subject == subject]
        result = assess(RULES, items, [status], now=NOW, target=repo)
        assert result.capabilities["retraining_trigger"].status != "met"
        assert result.capabilities["scheduled_jobs"].status == "unmet"
    # the same files in a checkout still declare the schedule: only the host knows it is dead
    churn = [e for e in evidence if e.subject == "github:acme/forecast-model"]
    assert any(e.signal == "retrain.scheduled" for e in churn)


def test_levels_follow_what_the_host_shows(server: tuple[GitHubState, str]) -> None:
    state, api = server
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    result = assess(RULES, evidence, [status], now=NOW, target="acme/churn-model")
    for capability in ("retraining_trigger", "scheduled_jobs", "automated_training",
                       "automated_model_deployment", "gated_release", "separate_environments",
                       "code_review", "ci_tests", "scoring_script_versioned",
                       "training_code_versioned", "version_control"):
        assert result.capabilities[capability].status == "met", capability
    assert result.maturity["seven_stage"].level == 2
    assert result.maturity["five_stage"].level == 2

    # the same repository whose weekly retraining last ran five months ago
    retrain = state.repos["acme/churn-model"].repo.workflows[1]
    retrain.runs = [RunSpec("schedule", "success", 150)]
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    result = assess(RULES, evidence, [status], now=NOW, target="acme/churn-model")
    assert result.capabilities["scheduled_jobs"].status == "unmet"
    assert result.capabilities["retraining_trigger"].status != "met"
    seven = result.maturity["seven_stage"]
    assert seven.level == 1 and not seven.at_least
    assert [g.requirement for g in seven.next_level.gaps if g.status == "unmet"] == ["s2-scheduled-jobs"]


def test_requests_per_repository(server: tuple[GitHubState, str]) -> None:
    state, api = server
    _, status, collector = scan(api, repos=["acme/churn-model"])
    churn = [f"{r.method} {r.path}" for r in state.requests_for("acme/churn-model")]
    files = [p for p in churn if "/git/" in p or "/commits" in p or p == "POST /graphql"
             or p == "GET /repos/acme/churn-model"]
    # metadata, one recursive tree, every wanted file in one GraphQL query, and the commits
    # API for the repository, the scoring script and the training script
    assert sorted(files) == sorted([
        "GET /repos/acme/churn-model", "GET /repos/acme/churn-model/git/trees/main",
        "POST /graphql", *["GET /repos/acme/churn-model/commits"] * 3])
    assert collector.ledger.for_repo("acme/churn-model", "files") == 6
    host = [p for p in churn if p not in files]
    assert len(host) == collector.ledger.for_repo("acme/churn-model", "host") == 12
    assert status.requests == len(churn)
    assert "6.0 per repository" in status.reason


def test_rest_blobs_when_batching_is_off(server: tuple[GitHubState, str]) -> None:
    state, api = server
    evidence, status, collector = scan(api, repos=["acme/churn-model"], batch_reads=False)
    blobs = [r for r in state.requests_for("acme/churn-model") if "/git/blobs/" in r.path]
    assert status.status == SourceState.ok
    assert len(blobs) == collector.files_fetched > 5
    assert not [p for p in state.paths() if p == "POST /graphql"]
    assert of(evidence, CHURN, "serving.scoring_script")


def test_token_never_appears_in_results(server: tuple[GitHubState, str]) -> None:
    state, api = server
    evidence, status, _ = scan(api, repos=["acme/churn-model", "acme/gone"])
    result = assess(RULES, evidence, [status], now=NOW, target="t")
    rendered = json_out.render(result)
    assert state.token not in rendered
    assert "acme/gone: not found (HTTP 404)" in status.reason


def test_audit_of_a_github_url(server: tuple[GitHubState, str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    _, api = server
    monkeypatch.setenv("MATURITY_PROBE_GITHUB_API_URL", api)
    result = audit_target("https://github.com/acme/churn-model", RULES, now=NOW)
    [source] = result.sources
    assert (source.type, source.status) == ("github", SourceState.ok)
    assert result.target == "https://github.com/acme/churn-model"
    assert {e.subject for e in result.evidence} == {CHURN}
    document = json.loads(json_out.render(result))
    assert document["capabilities"]["retraining_trigger"]["status"] == "met"


def test_config_validation() -> None:
    with pytest.raises(ValidationError, match="give `orgs` and/or `repos`"):
        GitHubSource.model_validate({"type": "github", "name": "gh"})
    with pytest.raises(ValidationError, match="is not owner/name"):
        GitHubSource.model_validate({"type": "github", "name": "gh", "repos": ["acme"]})
    with pytest.raises(ValidationError):
        GitHubSource.model_validate({"type": "github", "name": "gh", "orgs": ["a"], "max_concurrency": 0})
