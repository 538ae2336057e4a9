"""The gitlab collector when GitLab fails: bad token, 429 with Retry-After, 404s, 5xx."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from gitlab_server import GitLabState, running
from host_repos import NOW, gitlab_group

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.gitlab import GitLabCollector, GitLabSource
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import json_out

RULES = load_rules()
FRAUD = "gitlab:127.0.0.1/data-science/fraud"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GitLabState, str]]:
    state = GitLabState(gitlab_group())
    monkeypatch.setenv("GITLAB_TOKEN", state.token)
    monkeypatch.setattr(GitLabCollector, "backoff_seconds", 0.05)  # keep 5xx retries quick
    with running(state) as url:
        yield state, url


def scan(url: str, **fields: object) -> tuple[list[Evidence], SourceStatus, GitLabCollector]:
    source = GitLabSource.model_validate({"type": "gitlab", "name": "gl", "url": url, **fields})
    collector = GitLabCollector(source, CollectContext(now=NOW))
    evidence, status = run_collector(collector)
    return evidence, status, collector


def test_a_refused_token_is_one_clear_line(server: tuple[GitLabState, str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    state, url = server
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-expiredExpiredExpired0000")
    evidence, status, _ = scan(url, groups=["data-science"], token_env="GITLAB_TOKEN")
    assert evidence == []
    assert (status.status, status.reason) == (
        SourceState.failed, "authentication refused (HTTP 401): check GITLAB_TOKEN")
    assert state.paths() == ["GET /api/v4/groups/data-science/projects"]
    rendered = json_out.render(assess(RULES, evidence, [status], now=NOW, target="t"))
    assert "glpat-expired" not in rendered


def test_too_many_requests_is_waited_out_then_retried(server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.fail(r"GET /api/v4/projects/\d+/pipelines$", 429, times=1,
               headers={"Retry-After": "1", "RateLimit-Remaining": "0"},
               body={"message": "Retry later"})
    started = time.monotonic()
    evidence, status, collector = scan(url, projects=["data-science/fraud"])
    assert time.monotonic() - started >= 1.0
    assert status.status == SourceState.ok, status.reason
    pipelines = [r.status for r in state.requests_for("data-science/fraud") if r.path.endswith("/pipelines")]
    assert pipelines[:2] == [429, 200]
    assert collector.policy.waited >= 1.0
    scheduled = [e for e in evidence if e.signal == "retrain.scheduled"]
    assert [e.strength for e in scheduled] == [Strength.verified]


def test_a_rate_limit_too_far_away_stops_cleanly(server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.fail(r"GET /api/v4/projects/\d+/repository/tree$", 429, times=-1,
               headers={"Retry-After": "600"})
    evidence, status, _ = scan(url, groups=["data-science"], max_rate_limit_wait=60,
                               max_concurrency=1)
    assert status.status == SourceState.failed  # no project could be read
    assert ("rate limit: GitLab asks to wait 600 s (secondary rate limit, HTTP 429), more than "
            "max_rate_limit_wait 60 s") in status.reason
    assert "2 of 2 repositories not scanned" in status.reason
    assert evidence == []
    trees = [p for p in state.paths() if p.endswith("/repository/tree")]
    assert len(trees) <= 2  # one refusal per project in progress, then a clean stop


def test_missing_group_and_project_are_reported_and_the_rest_goes_on(
        server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.fail(r"GET /api/v4/projects/\d+/repository/tree$", 403, times=1,
               body={"message": "403 Forbidden"})
    evidence, status, _ = scan(url, groups=["research"], projects=["data-science/fraud",
                                                                    "data-science/nlp/sentiment"])
    assert status.status == SourceState.partial
    assert "group research: not found (HTTP 404)" in status.reason
    forbidden = [p for p in ("data-science/fraud", "data-science/nlp/sentiment")
                 if f"{p}: access denied (HTTP 403)" in status.reason]
    assert len(forbidden) == 1
    assert len({e.subject for e in evidence}) == 1


def test_server_errors_are_retried_then_reported(server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.fail(r"GET /api/v4/projects/\d+/repository/commits$", 500, times=1)
    state.fail(r"GET /api/v4/projects/\d+/releases$", 502, times=-1)
    evidence, status, _ = scan(url, projects=["data-science/fraud"])
    assert status.status == SourceState.ok, status.reason
    commits = [r.status for r in state.requests_for("data-science/fraud")
               if r.path.endswith("/repository/commits")]
    assert commits[:2] == [500, 200]
    releases = [r.status for r in state.requests_for("data-science/fraud") if r.path.endswith("/releases")]
    assert releases == [502] * 4  # the first try and three retries, then it gives up
    assert status.warnings == [
        "releases: HTTP 502 from GitLab (1 repository); that evidence is missing there"]
    assert not [e for e in evidence if e.attributes.get("via") == "release"]
    assert any(e.signal == "vcs.scoring_script_versioned" for e in evidence)


def test_premium_only_endpoints_missing_is_not_a_failure(server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.fail(r"GET /api/v4/projects/\d+/approval_rules$", 404, times=-1)
    state.fail(r"GET /api/v4/projects/\d+/protected_environments$", 403, times=-1)
    evidence, status, _ = scan(url, projects=["data-science/fraud"])
    assert status.status == SourceState.ok
    assert status.warnings == [
        "protected environments: access denied (HTTP 403) (1 repository); that evidence is "
        "missing there"]
    [gate] = [e for e in evidence if e.signal == "ci.gated_release"]
    assert gate.strength == Strength.declared
    assert not [e for e in evidence if e.signal == "governance.code_review"]


SIGN_IN = (b"<!DOCTYPE html><html><head><title>Sign in - GitLab</title></head><body>"
           b"<form action=\"/users/sign_in\" method=\"post\"></form></body></html>")
HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_an_html_page_instead_of_a_project_is_one_line_naming_the_url(
        server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.fail(r"GET /api/v4/projects/data-science/fraud$", 200, times=-1, headers=dict(HTML),
               body=SIGN_IN)
    evidence, status, _ = scan(url, projects=["data-science/fraud", "data-science/nlp/sentiment"])
    assert status.status == SourceState.partial
    assert "\n" not in status.reason and "internal error" not in status.reason
    assert status.reason.startswith(
        f"data-science/fraud: {url}/api/v4/projects/data-science%2Ffraud did not answer like the "
        "GitLab API (HTTP 200, text/html); ")
    assert {e.subject for e in evidence} == {"gitlab:127.0.0.1/data-science/nlp/sentiment"}


def test_unexpected_json_instead_of_the_group_listing_fails_naming_the_url(
        server: tuple[GitLabState, str]) -> None:
    state, url = server
    state.fail(r"GET /api/v4/groups/data-science/projects$", 200, times=-1,
               body={"message": "maintenance", "retry": False})
    evidence, status, _ = scan(url, groups=["data-science"])
    assert evidence == []
    assert (status.status, status.reason) == (
        SourceState.failed, f"{url}/api/v4/groups/data-science/projects did not answer like the "
                            "GitLab API (HTTP 200, JSON of another shape)")
    state.faults.clear()
    state.fail(r"GET /api/v4/projects/data-science/fraud$", 200, times=-1,
               body={"id": 7, "name": "fraud"})  # not a project: no path_with_namespace
    _, status, _ = scan(url, projects=["data-science/fraud", "data-science/nlp/sentiment"])
    assert (f"data-science/fraud: {url}/api/v4/projects/data-science%2Ffraud did not answer like "
            "the GitLab API (HTTP 200, JSON without `path_with_namespace`)") in status.reason


def test_an_html_tree_listing_is_reported_for_its_project(server: tuple[GitLabState, str]) -> None:
    state, url = server
    fraud = state.projects["data-science/fraud"].id
    state.fail(rf"GET /api/v4/projects/{fraud}/repository/tree$", 200, times=-1, headers=dict(HTML),
               body=SIGN_IN)
    evidence, status, _ = scan(url, projects=["data-science/fraud", "data-science/nlp/sentiment"])
    assert status.status == SourceState.partial
    assert status.reason.startswith(
        f"data-science/fraud: {url}/api/v4/projects/{fraud}/repository/tree did not answer like the "
        "GitLab API (HTTP 200, text/html); ")
    assert {e.subject for e in evidence} == {"gitlab:127.0.0.1/data-science/nlp/sentiment"}


def test_an_unreachable_instance_names_the_url_and_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(GitLabCollector, "backoff_seconds", 0.01)
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-T3stT0kenForTheFakeServer")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _, status, _ = scan(f"http://127.0.0.1:{port}", groups=["data-science"])
    assert (status.status, status.reason) == (
        SourceState.failed,
        f"cannot reach GitLab at http://127.0.0.1:{port}/api/v4/groups/data-science/projects: "
        "connection refused")
    assert "glpat" not in status.reason


def test_a_missing_only_project_fails_the_source(server: tuple[GitLabState, str]) -> None:
    state, url = server
    evidence, status, _ = scan(url, projects=["data-science/gone"])
    assert evidence == []
    assert (status.status, status.reason) == (SourceState.failed,
                                              "data-science/gone: not found (HTTP 404)")
    state.fail(r"GET /api/v4/projects/\d+/repository/tree$", 403, times=-1,
               body={"message": "403 Forbidden"})
    _, status, _ = scan(url, groups=["data-science"])
    assert (status.status, status.reason) == (
        SourceState.failed, "data-science/fraud: access denied (HTTP 403); "
                            "data-science/nlp/sentiment: access denied (HTTP 403)")


def test_an_unset_token_variable_named_in_the_config_is_said_so(
        server: tuple[GitLabState, str], monkeypatch: pytest.MonkeyPatch) -> None:
    state, url = server
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    _, status, _ = scan(url, groups=["data-science"], token_env="NOPE_UNSET")
    assert (status.status, status.reason) == (
        SourceState.failed, "environment variable NOPE_UNSET is not set (named in the config)")
    assert state.paths() == []
    # the default variable unset: anonymous; an instance that wants a token says so
    monkeypatch.delenv("GITLAB_TOKEN")
    state.fail(r"GET /api/v4/groups/data-science/projects$", 401, times=-1,
               body={"message": "401 Unauthorized"})
    _, status, _ = scan(url, groups=["data-science"])
    assert (status.status, status.reason) == (
        SourceState.failed, "authentication refused (HTTP 401): environment variable GITLAB_TOKEN "
                            "is not set, the requests were unauthenticated")
    assert status.warnings == ["environment variable GITLAB_TOKEN is not set: unauthenticated "
                               "requests, public repositories only"]
