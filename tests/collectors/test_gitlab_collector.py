"""The gitlab collector against a local GitLab API: evidence, strengths, levels, requests.

The real python-gitlab client talks to `gitlab_server` on 127.0.0.1, which serves the
sample group of `host_repos` with GitLab's paths, pagination and rate-limit headers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gitlab_server import GitLabState, running
from host_repos import NOW, ScheduleSpec, gitlab_group
from pydantic import ValidationError

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.gitlab import GitLabCollector, GitLabSource
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import json_out
from maturity_probe.run import audit_target

RULES = load_rules()
FRAUD = "gitlab:127.0.0.1/data-science/fraud"
SENTIMENT = "gitlab:127.0.0.1/data-science/nlp/sentiment"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GitLabState, str]]:
    state = GitLabState(gitlab_group())
    monkeypatch.setenv("GITLAB_TOKEN", state.token)
    with running(state) as url:
        yield state, url


def scan(url: str, **fields: object) -> tuple[list[Evidence], SourceStatus, GitLabCollector]:
    source = GitLabSource.model_validate({"type": "gitlab", "name": "gl", "url": url, **fields})
    collector = GitLabCollector(source, CollectContext(now=NOW))
    evidence, status = run_collector(collector)
    return evidence, status, collector


def of(evidence: list[Evidence], subject: str, signal: str) -> list[Evidence]:
    return sorted((e for e in evidence if e.subject == subject and e.signal == signal),
                  key=lambda e: e.locator)


def test_group_scan_includes_subgroups_and_follows_pagination(server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.max_per_page = 4  # trees come in keyset pages, lists in offset pages
    evidence, status, _ = scan(url, groups=["data-science"])
    assert status.status == SourceState.ok, status.reason
    assert {e.subject for e in evidence} == {FRAUD, SENTIMENT}
    trees = [r for r in state.requests_for("data-science/fraud") if r.path.endswith("/repository/tree")]
    entries = len(state.projects["data-science/fraud"].tree)
    assert len(trees) == -(-entries // 4) > 1  # 4 per page, each next page from the Link header
    assert [r.query.get("page_token") is not None for r in trees] == [False] + [True] * (len(trees) - 1)
    assert any(e.signal == "serving.scoring_script" for e in of(evidence, FRAUD, "serving.scoring_script"))


def test_scheduled_pipelines_verify_the_training_job(server: tuple[GitLabState, str]) -> None:
    _, url = server
    evidence, status, _ = scan(url, projects=["data-science/fraud"])
    assert status.status == SourceState.ok, status.reason
    [scheduled] = of(evidence, FRAUD, "retrain.scheduled")
    assert scheduled.strength == Strength.verified
    assert scheduled.attributes["cron"] == "0 2 * * *"  # the schedule lives on GitLab, not in the file
    assert scheduled.attributes["schedules"] == [
        {"cron": "0 2 * * *", "active": True, "description": "nightly retraining"}]
    assert scheduled.locator.endswith("/data-science/fraud/-/blob/main/.gitlab-ci.yml#L21")
    assert "job `train-model`: 1 successful schedule run in the last 90 days" in scheduled.summary
    [training] = of(evidence, FRAUD, "ci.training_job")
    assert training.strength == Strength.verified
    assert training.attributes["host_last_run_url"].endswith("/data-science/fraud/-/jobs/90030")
    [deploy] = of(evidence, FRAUD, "ci.model_deployment_job")
    assert deploy.strength == Strength.verified
    [lint] = of(evidence, FRAUD, "ci.lint_job")  # `uvx ruff check .`: no pipeline ran it yet
    assert (lint.attributes["job"], lint.strength) == ("lint", Strength.declared)
    assert not of(evidence, FRAUD, "ci.test_job") or all(
        t.attributes.get("job") != "lint" for t in of(evidence, FRAUD, "ci.test_job"))


def test_inactive_schedule_keeps_retraining_declared(server: tuple[GitLabState, str]) -> None:
    state, url = server
    evidence, status, _ = scan(url, projects=["data-science/nlp/sentiment"])
    [scheduled] = of(evidence, SENTIMENT, "retrain.scheduled")
    assert scheduled.strength == Strength.declared
    assert scheduled.attributes["host_state"] == "disabled"
    assert "inactive pipeline schedule" in scheduled.summary
    result = assess(RULES, evidence, [status], now=NOW, target="sentiment")
    assert result.capabilities["scheduled_jobs"].status == "unmet"
    # once the schedule is active and has run, the same project counts as retraining
    state.projects["data-science/nlp/sentiment"].repo.schedules = [ScheduleSpec("0 4 * * 0")]
    state.projects["data-science/nlp/sentiment"].repo.pipelines[0].jobs.append(("train-model", "success"))
    state.projects["data-science/nlp/sentiment"].repo.pipelines[0].source = "schedule"
    evidence, status, _ = scan(url, projects=["data-science/nlp/sentiment"])
    [scheduled] = of(evidence, SENTIMENT, "retrain.scheduled")
    assert scheduled.strength == Strength.verified
    result = assess(RULES, evidence, [status], now=NOW, target="sentiment")
    assert result.capabilities["scheduled_jobs"].status == "met"


def test_protected_environment_approval_rules_release_and_model_registry(
        server: tuple[GitLabState, str]) -> None:
    _, url = server
    evidence, _, _ = scan(url, projects=["data-science/fraud"])
    [gate] = of(evidence, FRAUD, "ci.gated_release")
    assert gate.strength == Strength.verified
    assert gate.attributes["required_approvals"] == 1
    [environments] = of(evidence, FRAUD, "ci.deployment_environments")
    assert environments.strength == Strength.verified
    [review] = of(evidence, FRAUD, "governance.code_review")
    assert review.strength == Strength.active and review.attributes["required_approvals"] == 2
    assert review.attributes["direct_push_allowed"] is False
    [release] = [e for e in of(evidence, FRAUD, "ci.build_job") if e.attributes.get("via") == "release"]
    assert release.strength == Strength.verified and release.attributes["pipeline"] == 8990
    assert release.locator.endswith("/data-science/fraud/-/releases/v2.1.0")
    [model] = of(evidence, FRAUD, "registry.model_registered")
    assert model.attributes["versions"] == 2 and model.attributes["latest_version"] == "2.1.0"
    assert model.strength == Strength.active and model.attributes["registry"] == "gitlab"


def test_manual_gate_without_protection_stays_declared(server: tuple[GitLabState, str]) -> None:
    _, url = server
    evidence, _, _ = scan(url, projects=["data-science/nlp/sentiment"])
    [gate] = of(evidence, SENTIMENT, "ci.gated_release")
    # a manual job is a gate GitLab cannot confirm without a deployment through it
    assert gate.strength == Strength.declared and "host_state" not in gate.attributes


def test_levels_and_requests_per_project(server: tuple[GitLabState, str]) -> None:
    state, url = server
    evidence, status, collector = scan(url, projects=["data-science/fraud"])
    result = assess(RULES, evidence, [status], now=NOW, target="fraud")
    for capability in ("retraining_trigger", "scheduled_jobs", "automated_training", "model_registry",
                       "automated_model_deployment", "gated_release", "code_review"):
        assert result.capabilities[capability].status == "met", capability
    assert result.maturity["seven_stage"].level == 2
    requests = [f"{r.method} {r.path}" for r in state.requests_for("data-science/fraud")]
    files = collector.ledger.for_repo("data-science/fraud", "files")
    # metadata, one tree page, one GraphQL query, commits of repository, scorer, trainer
    assert files == 6
    # pipelines, successful jobs, schedules, the jobs of the last pipeline (the lint job has
    # no successful run), deployments, protected environments and branches, approval rules,
    # releases, model registry
    assert collector.ledger.for_repo("data-science/fraud", "host") == len(requests) - files == 10
    assert requests.count("POST /api/graphql") == 1


def test_token_never_appears_and_a_missing_project_goes_to_the_status(
        server: tuple[GitLabState, str]) -> None:
    state, url = server
    evidence, status, _ = scan(url, projects=["data-science/fraud", "data-science/gone"])
    assert status.status == SourceState.partial
    assert "data-science/gone: not found (HTTP 404)" in status.reason
    rendered = json_out.render(assess(RULES, evidence, [status], now=NOW, target="t"))
    assert state.token not in rendered and FRAUD in rendered


def test_audit_of_a_gitlab_url(server: tuple[GitLabState, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = server
    monkeypatch.setenv("MATURITY_PROBE_GITLAB_URL", url)
    result = audit_target(f"{url}/data-science/fraud/-/tree/main", RULES, now=NOW)
    [source] = result.sources
    assert (source.type, source.status) == ("gitlab", SourceState.ok)
    assert {e.subject for e in result.evidence} == {FRAUD}
    assert result.capabilities["retraining_trigger"].status == "met"


def test_config_validation() -> None:
    with pytest.raises(ValidationError, match="give `groups` and/or `projects`"):
        GitLabSource.model_validate({"type": "gitlab", "name": "gl"})
    source = GitLabSource.model_validate({"type": "gitlab", "name": "gl", "groups": ["ds"]})
    assert (source.url, source.token_env, source.lookback_days) == ("https://gitlab.com", "GITLAB_TOKEN", 90)
