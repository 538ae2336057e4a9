"""The github collector when GitHub fails: bad token, rate limits, 404s, 5xx, truncated trees."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from github_server import DOCS, GitHubState, running
from host_repos import NOW, github_org

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.github import GitHubCollector, GitHubSource
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import json_out

RULES = load_rules()
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
             "you try again.", "documentation_url": "https://docs.github.com/rest/overview/"
             "rate-limits-for-the-rest-api#about-secondary-rate-limits", "status": "403"}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GitHubState, str]]:
    state = GitHubState(github_org())
    monkeypatch.setenv("GITHUB_TOKEN", state.token)
    monkeypatch.setattr(GitHubCollector, "backoff_seconds", 0.05)  # keep 5xx retries quick
    with running(state) as api:
        yield state, api


def scan(api: str, **fields: object) -> tuple[list[Evidence], SourceStatus, GitHubCollector]:
    source = GitHubSource.model_validate({"type": "github", "name": "gh", "base_url": api, **fields})
    collector = GitHubCollector(source, CollectContext(now=NOW))
    evidence, status = run_collector(collector)
    return evidence, status, collector


def test_a_refused_token_is_one_clear_line(server: tuple[GitHubState, str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    state, api = server
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_revokedRevokedRevokedRevoked01")
    evidence, status, _ = scan(api, orgs=["acme"])
    assert evidence == []
    assert status.status == SourceState.failed
    assert status.reason == "authentication refused (HTTP 401): check GITHUB_TOKEN"
    assert len(state.paths()) == 1  # no hammering after a 401
    result = assess(RULES, evidence, [status], now=NOW, target="t")
    assert result.maturity["microsoft"].at_least
    assert result.capabilities["retraining_trigger"].status == "unknown"
    assert "ghp_revoked" not in json_out.render(result)


def test_a_secondary_rate_limit_is_waited_out_then_retried(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /repos/acme/churn-model/git/trees/main$", 403, times=1,
               headers={"Retry-After": "1"}, body=SECONDARY)
    state.fail(r"GET /repos/acme/churn-model/releases$", 429, times=1, headers={"Retry-After": "1"})
    started = time.monotonic()
    evidence, status, collector = scan(api, repos=["acme/churn-model"])
    assert time.monotonic() - started >= 2.0  # slept Retry-After twice, not retried at once
    assert status.status == SourceState.ok, status.reason
    assert collector.policy.waited == pytest.approx(2.0)
    trees = [r.status for r in state.requests_for("acme/churn-model") if r.path.endswith("/trees/main")]
    assert trees == [403, 200]
    assert any(e.signal == "retrain.scheduled" and e.strength == Strength.verified for e in evidence)
    assert "2 s waited for rate limits and retries" in status.reason


def test_a_rate_limit_too_far_away_stops_the_scan_cleanly(server: tuple[GitHubState, str]) -> None:
    state, api = server
    reset = str(int(time.time()) + 3600)
    # the primary limit runs out on the first repository's tree
    state.fail(r"GET /repos/acme/churn-model/git/trees/main$", 403, times=-1,
               headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
               body={"message": "API rate limit exceeded for user ID 8812345.",
                     "documentation_url": "https://docs.github.com/rest/overview/rate-limits"})
    evidence, status, _ = scan(api, repos=["acme/churn-model", "acme/fraud-model",
                                           "acme/forecast-model"], max_concurrency=1,
                               max_rate_limit_wait=30)
    assert status.status == SourceState.failed  # no repository could be read
    assert status.reason.startswith("rate limit: GitHub API rate limit used up until")
    assert "more than max_rate_limit_wait 30 s" in status.reason
    assert "3 of 3 repositories not scanned" in status.reason
    assert evidence == []  # a repository cut short is dropped, not half reported
    refused = [p for p in state.paths() if p.endswith("/git/trees/main")]
    assert len(refused) <= 2  # at most the repositories in progress asked once; then it stopped
    # the third repository was listed, never read
    assert [r.path for r in state.requests_for("acme/fraud-model")] == ["/repos/acme/fraud-model"]
    result = assess(RULES, evidence, [status], now=NOW, target="t")
    assert result.capabilities["retraining_trigger"].status == "unknown"


def test_a_missing_repository_is_reported_and_the_others_go_on(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /repos/acme/fraud-model/git/trees/main$", 403, times=-1,
               body={"message": "Resource not accessible by personal access token"})
    evidence, status, _ = scan(api, repos=["acme/churn-model", "acme/gone", "acme/fraud-model"])
    assert status.status == SourceState.partial
    assert "acme/gone: not found (HTTP 404)" in status.reason
    assert "acme/fraud-model: access denied (HTTP 403)" in status.reason
    assert {e.subject for e in evidence} == {"github:acme/churn-model"}
    result = assess(RULES, evidence, [status], now=NOW, target="t")
    # what the unread repositories could have shown is unknown, not absent
    assert result.capabilities["drift_alerting"].status == "unknown"


def test_server_errors_are_retried_with_backoff(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /repos/acme/churn-model/actions/workflows$", 500, times=1)
    state.fail(r"POST /graphql$", 502, times=2)
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    assert status.status == SourceState.ok, status.reason
    workflows = [r.status for r in state.requests_for("acme/churn-model")
                 if r.path.endswith("/actions/workflows")]
    assert workflows == [500, 200]
    graphql = [r.status for r in state.requests_for("acme/churn-model") if r.path == "/graphql"]
    assert graphql == [502, 502, 200]
    assert any(e.signal == "ci.training_job" and e.strength == Strength.verified for e in evidence)


def test_a_host_read_that_keeps_failing_leaves_the_findings_declared(
        server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /repos/acme/churn-model/actions/workflows$", 503, times=-1)
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    assert status.status == SourceState.ok
    assert status.warnings == [
        "workflows: HTTP 503 from GitHub (1 repository); that evidence is missing there"]
    scheduled = [e for e in evidence if e.signal == "retrain.scheduled"]
    assert [e.strength for e in scheduled] == [Strength.declared]


def test_a_failed_batch_query_falls_back_to_blobs(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"POST /graphql$", 400, times=-1, body={"message": "Problems parsing JSON"})
    evidence, status, collector = scan(api, repos=["acme/web-frontend"])
    blobs = [r for r in state.requests_for("acme/web-frontend") if "/git/blobs/" in r.path]
    assert len(blobs) == collector.files_fetched >= 2  # one request per wanted file
    assert {e.signal for e in evidence} >= {"ci.pipeline", "ci.test_job"}
    assert status.warnings == [
        "batched file query: HTTP 400 from GitHub (1 repository); that evidence is missing there"]


def test_a_truncated_tree_is_completed_by_walking_subtrees(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.repos["acme/churn-model"].repo.truncated_tree = True
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    assert status.status == SourceState.ok
    trees = [r.path.rsplit("/", 1)[-1] for r in state.requests_for("acme/churn-model")
             if "/git/trees/" in r.path]
    top_level = {".github", "deploy", "docs", "src", "tests"}
    assert trees[0] == "main" and len(trees) == 2 + len(top_level)
    signals = {e.signal for e in evidence}
    # files deep in subtrees were found: workflows, the scoring script, the model tests
    assert {"retrain.scheduled", "serving.scoring_script", "quality.model_tests"} <= signals


def test_an_unreadable_file_is_a_warning_not_a_failure(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"POST /graphql$", 502, times=-1)
    state.fail(r"GET /repos/acme/web-frontend/git/blobs/", 404, times=1)
    evidence, status, _ = scan(api, repos=["acme/web-frontend"])
    assert {e.signal for e in evidence} >= {"vcs.repository"}
    assert status.status == SourceState.ok
    skipped = [w for w in status.warnings if "skipped, could not be fetched (HTTP 404)" in w]
    assert len(skipped) == 1 and skipped[0].startswith("acme/web-frontend: ")


def test_an_exhausted_window_that_resets_soon_is_waited_for(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.remaining = 3  # the fourth answer says X-RateLimit-Remaining: 0
    state.reset = int(time.time()) + 2
    evidence, status, collector = scan(api, repos=["acme/web-frontend"])
    assert status.status == SourceState.ok, status.reason
    assert 0 < collector.policy.waited <= 3.5
    answered = state.requests_for("acme/web-frontend")
    assert not [r for r in answered if r.status in (403, 429)]  # waited, never ran into a refusal
    assert {e.signal for e in evidence} >= {"ci.pipeline", "ci.test_job"}


def test_repositories_are_scanned_in_order_with_a_bounded_number_submitted() -> None:
    import random
    from concurrent.futures import Future, ThreadPoolExecutor
    from typing import Any

    from maturity_probe.collectors.hostscan import in_order

    rng = random.Random(3)
    delays = [rng.uniform(0, 0.005) for _ in range(60)]
    ahead = {"now": 0, "most": 0}  # submitted, not yet taken by the caller

    class CountingPool(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            ahead["now"] += 1
            ahead["most"] = max(ahead["most"], ahead["now"])
            return super().submit(fn, *args, **kwargs)

    def scan(index: int) -> int:
        time.sleep(delays[index])
        return index

    taken = []
    with CountingPool(4) as pool:
        for index in in_order(pool, scan, list(range(60)), window=6):
            taken.append(index)
            ahead["now"] -= 1
    assert taken == list(range(60))  # finished out of order, taken in order
    assert ahead["most"] == 6  # pool.map would have submitted all 60 at once


LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in - Acme SSO</title></head><body>"
              b"<form method=\"post\" action=\"/login\"><input name=\"user\"></form></body></html>")
HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_an_html_page_instead_of_the_api_fails_the_source_naming_the_url(
        server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /orgs/acme/repos$", 200, times=-1, headers=dict(HTML), body=LOGIN_PAGE)
    evidence, status, _ = scan(api, orgs=["acme"])
    assert evidence == []
    assert status.status == SourceState.failed
    assert status.reason == f"{api}/orgs/acme/repos did not answer like the GitHub API (HTTP 200, text/html)"


def test_json_of_another_shape_fails_the_listing_naming_the_url(server: tuple[GitHubState, str]) -> None:
    state, api = server
    # a proxy's JSON status page: no repository list
    state.fail(r"GET /orgs/acme/repos$", 200, times=-1, body={"status": "ok", "service": "gateway"})
    _, status, _ = scan(api, orgs=["acme"])
    assert (status.status, status.reason) == (
        SourceState.failed,
        f"{api}/orgs/acme/repos did not answer like the GitHub API (HTTP 200, JSON of another shape)")
    state.faults.clear()
    # listed items that are not repositories
    state.fail(r"GET /orgs/acme/repos$", 200, times=-1, body=[{"id": 1, "name": "churn-model"}])
    _, status, _ = scan(api, orgs=["acme"])
    assert status.reason == (f"{api}/orgs/acme/repos did not answer like the GitHub API "
                             "(HTTP 200, JSON without `full_name`)")


def test_one_repository_answering_html_is_reported_and_the_others_go_on(
        server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /repos/acme/fraud-model$", 200, times=-1, headers=dict(HTML), body=LOGIN_PAGE)
    state.fail(r"GET /repos/acme/forecast-model/git/trees/main$", 200, times=-1,
               body={"sha": "0" * 40, "url": f"{api}/repos/acme/forecast-model/git/trees/main"})
    evidence, status, _ = scan(api, repos=["acme/churn-model", "acme/fraud-model",
                                           "acme/forecast-model"])
    assert status.status == SourceState.partial
    assert "\n" not in status.reason and "internal error" not in status.reason
    assert (f"acme/fraud-model: {api}/repos/acme/fraud-model did not answer like the GitHub API "
            "(HTTP 200, text/html)") in status.reason
    assert (f"acme/forecast-model: {api}/repos/acme/forecast-model/git/trees/main did not answer "
            "like the GitHub API (HTTP 200, JSON without `tree`)") in status.reason
    assert {e.subject for e in evidence} == {"github:acme/churn-model"}
    assert any(e.signal == "retrain.scheduled" and e.strength == Strength.verified for e in evidence)


def test_a_host_read_answering_html_is_a_warning_naming_the_url(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /repos/acme/churn-model/actions/workflows$", 200, times=-1, headers=dict(HTML),
               body=LOGIN_PAGE)
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    assert status.status == SourceState.ok, status.reason
    assert status.warnings == [
        "workflows: did not answer like the GitHub API (HTTP 200, text/html) (1 repository, e.g. "
        f"{api}/repos/acme/churn-model/actions/workflows); that evidence is missing there"]
    # without the runs, the scheduled training stays as declared as its workflow file
    assert [e.strength for e in evidence if e.signal == "retrain.scheduled"] == [Strength.declared]


def _closed_port() -> int:
    """A local port nothing listens on: connecting is refused."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_host_names_the_url_and_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(GitHubCollector, "backoff_seconds", 0.01)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_T3stT0kenForTheFakeServer")
    port = _closed_port()
    _, status, _ = scan(f"http://127.0.0.1:{port}/api/v3", orgs=["acme"])
    assert (status.status, status.reason) == (
        SourceState.failed, f"cannot reach GitHub at http://127.0.0.1:{port}/api/v3/orgs/acme/repos: "
                            "connection refused")
    assert status.requests == 4  # the first try and three retries

    _, status, _ = scan("http://maturity-probe-test.invalid/api/v3", orgs=["acme"])
    assert status.reason == ("cannot reach GitHub at http://maturity-probe-test.invalid/api/v3/orgs/"
                             "acme/repos: name not resolved")

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        _, status, _ = scan(f"http://127.0.0.1:{port}/api/v3", orgs=["acme"], timeout=0.2)
    assert status.reason == (f"cannot reach GitHub at http://127.0.0.1:{port}/api/v3/orgs/acme/repos: "
                             "timed out (no answer within 0.2 s)")


def test_a_refused_only_repository_fails_the_source(server: tuple[GitHubState, str]) -> None:
    state, api = server
    state.fail(r"GET /repos/acme/churn-model$", 403, times=-1,
               body={"message": "Resource not accessible by personal access token"})
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    assert evidence == []
    assert (status.status, status.reason) == (SourceState.failed,
                                              "acme/churn-model: access denied (HTTP 403)")
    # a repository read, then refused: the same
    state.faults.clear()
    state.fail(r"GET /repos/acme/churn-model/git/trees/main$", 404, times=-1)
    _, status, _ = scan(api, repos=["acme/churn-model"])
    assert (status.status, status.reason) == (SourceState.failed,
                                              "acme/churn-model: not found (HTTP 404)")
    # an organisation none of whose repositories can be read
    state.faults.clear()
    state.fail(r"GET /repos/acme/[^/]+/git/trees/main$", 403, times=-1)
    _, status, _ = scan(api, orgs=["acme"])
    assert status.status == SourceState.failed
    assert status.reason == "; ".join(f"acme/{name}: access denied (HTTP 403)" for name in
                                      ("churn-model", "forecast-model", "fraud-model", "web-frontend"))


def test_the_request_counts_say_what_the_requests_read(server: tuple[GitHubState, str]) -> None:
    state, api = server
    evidence, status, collector = scan(api, repos=["acme/churn-model", "acme/gone"])
    assert status.status == SourceState.partial
    ledger = collector.ledger
    files = ledger.total("files")
    assert ledger.for_repo("acme/gone", "files") == 1  # its metadata: 404
    assert status.reason == (
        "acme/gone: not found (HTTP 404); 1 repository scanned, "
        f"{status.requests} requests: 0 listing, {files} for files and history "
        f"({files:.1f} per repository, {collector.files_fetched} files read), "
        f"{ledger.total('host')} for host data")
    assert status.requests == len(state.paths()) == files + ledger.total("host")
    assert evidence


def test_a_shard_that_reads_no_repository_is_partial_not_failed(server: tuple[GitHubState, str]) -> None:
    from maturity_probe.collectors import Shard

    _, api = server
    names = ["acme/churn-model", "acme/gone"]
    unsharded = scan(api, repos=["acme/gone"])[1]
    assert unsharded.status == SourceState.failed
    # shard 0 of 2 owns no readable repository (github:acme/churn-model is shard 1's): the
    # other shard reads its own, and the merged status takes the worst of the shards'
    source = GitHubSource.model_validate({"type": "github", "name": "gh", "base_url": api,
                                          "repos": names})
    statuses = []
    for index in range(2):
        collector = GitHubCollector(source, CollectContext(now=NOW, shard=Shard(index, 2)))
        statuses.append(run_collector(collector)[1])
    assert [s.status for s in statuses] == [SourceState.partial, SourceState.partial]
    assert statuses[0].reason.startswith("acme/gone: not found (HTTP 404); 0 repositories scanned")
    assert "1 repository scanned" in statuses[1].reason


def test_a_token_variable_named_in_the_config_must_be_set(server: tuple[GitHubState, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    state, api = server
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    evidence, status, _ = scan(api, orgs=["acme"], token_env="NOPE_UNSET")
    assert evidence == []
    assert (status.status, status.reason) == (
        SourceState.failed, "environment variable NOPE_UNSET is not set (named in the config)")
    assert state.paths() == []  # nothing was asked of GitHub


def test_the_default_token_variable_unset_reads_public_repositories_anonymously(
        server: tuple[GitHubState, str], monkeypatch: pytest.MonkeyPatch) -> None:
    state, api = server
    monkeypatch.delenv("GITHUB_TOKEN")
    evidence, status, _ = scan(api, repos=["acme/churn-model"])
    assert status.status == SourceState.ok, status.reason
    assert status.warnings == ["environment variable GITHUB_TOKEN is not set: unauthenticated "
                               "requests, public repositories only"]
    assert any(e.signal == "retrain.scheduled" and e.strength == Strength.verified for e in evidence)
    assert "POST /graphql" not in state.paths()  # GitHub's GraphQL API needs a token
    # a GitHub that wants a token says so
    state.fail(r"GET /repos/acme/churn-model$", 401, times=-1,
               body={"message": "Requires authentication", "documentation_url": DOCS})
    _, status, _ = scan(api, repos=["acme/churn-model"])
    assert (status.status, status.reason) == (
        SourceState.failed, "authentication refused (HTTP 401): environment variable GITHUB_TOKEN "
                            "is not set, the requests were unauthenticated")
    # token_env: null reads anonymously on purpose: no warning
    state.faults.clear()
    _, status, _ = scan(api, repos=["acme/churn-model"], token_env=None)
    assert (status.status, status.warnings) == (SourceState.ok, [])
