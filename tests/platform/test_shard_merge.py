"""Sharded scans: `scan --shard K/N --scan-group ID` partitions the subjects, `report
--scan-group ID` merges the stored shards into the assessment an unsharded scan of the same
data gives (over a real MLflow server, local repositories, Kubernetes manifests and sources
that fail), and GitHub repositories are split between shards."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from platform_world import Platform

from maturity_probe.assessment import Assessment, ToolInfo
from maturity_probe.collectors import CollectContext, Shard, shard_of
from maturity_probe.errors import UserError
from maturity_probe.evidence import SourceState, SourceStatus
from maturity_probe.shards import check_joins_group, group_shards, merge_statuses, parse_shard
from maturity_probe.store import Store

pytest_plugins = ["platform_services", "mlflow_server"]
pytestmark = pytest.mark.service

SHARDS = 3


def run_cli(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          text=True, env=platform.cli_env(), timeout=180, check=False)


def normalised(assessment: Assessment) -> str:
    """The assessment's JSON with what differs from run to run zeroed: time spent, requests."""
    sources = [s.model_copy(update={"duration_seconds": 0.0, "requests": 0}) for s in assessment.sources]
    return assessment.model_copy(update={"sources": sources}).model_dump_json(indent=1)


# -- the shard of a subject -------------------------------------------------------------------


def test_shard_flags_are_k_of_n_counted_from_zero() -> None:
    assert parse_shard("0/4") == Shard(0, 4)
    assert parse_shard(" 3 / 4 ") == Shard(3, 4)
    assert str(parse_shard("2/5")) == "2/5"
    for wrong in ("4/4", "1/0", "-1/3", "1", "a/b", "1/2/3"):
        with pytest.raises(UserError, match=r"^--shard '.*': "):
            parse_shard(wrong)


def test_every_subject_has_exactly_one_stable_shard() -> None:
    keys = [f"github:acme/repo-{i}" for i in range(600)]
    shards = [Shard(index, 4) for index in range(4)]
    for key in keys:
        assert sum(shard.owns(key) for shard in shards) == 1
    sizes = [sum(shard.owns(key) for key in keys) for shard in shards]
    assert min(sizes) > 100  # spread, not piled up on one shard
    # a stable hash (not Python's salted hash()): the same shard on every machine, every run
    assert [shard_of(f"github:acme/repo-{i}", 4) for i in range(8)] == [1, 2, 3, 1, 2, 2, 1, 2]
    assert CollectContext(now=datetime.now(UTC)).owns("anything")  # unsharded: everything


def test_statuses_of_one_source_merge_to_the_worst_with_all_reasons() -> None:
    def status(state: SourceState, reason: str, seconds: float, requests: int,
               unavailable: list[str]) -> SourceStatus:
        return SourceStatus(name="gh", type="github", status=state, reason=reason,
                            duration_seconds=seconds, requests=requests,
                            unavailable_signals=unavailable, warnings=[f"w{requests}"])

    merged = merge_statuses([
        [status(SourceState.ok, "", 2.0, 10, [])],
        [status(SourceState.partial, "acme/a: not found (HTTP 404)", 5.0, 7, ["ci.pipeline"])],
        [status(SourceState.partial, "acme/a: not found (HTTP 404); rate limit: used up", 1.0, 3,
                ["ci.test_job"])],
    ])
    assert len(merged) == 1
    assert merged[0].status == SourceState.partial
    assert merged[0].reason == "acme/a: not found (HTTP 404); rate limit: used up"
    assert (merged[0].duration_seconds, merged[0].requests) == (5.0, 20)
    assert merged[0].unavailable_signals == ["ci.pipeline", "ci.test_job"]
    assert merged[0].warnings == ["w10", "w7", "w3"]


def test_a_group_with_a_missing_shard_is_refused_naming_it(isolated_store: str) -> None:
    part = Assessment(tool=ToolInfo(version="test"), generated_at=datetime(2026, 6, 1, tzinfo=UTC),
                      target="platform.yaml", maturity={}, evidence=[], sources=[])
    with Store.open(isolated_store) as store:
        for index in (0, 2):
            store.save(part, config_key="acme", group_id="nightly-1", shard=(index, 3))
        with pytest.raises(UserError) as error:
            group_shards(store, "nightly-1")
        assert str(error.value) == ("scan group 'nightly-1' is incomplete: shard 1/3 not stored yet "
                                    "(2 of 3 stored)")
        with pytest.raises(UserError, match="no stored scan in scan group 'nightly-2'"):
            group_shards(store, "nightly-2")


def test_a_group_of_two_platforms_is_refused_before_scanning_and_at_merge(isolated_store: str) -> None:
    part = Assessment(tool=ToolInfo(version="test"), generated_at=datetime(2026, 6, 1, tzinfo=UTC),
                      target="platform.yaml", maturity={}, evidence=[], sources=[])
    with Store.open(isolated_store) as store:
        store.save(part, config_key="acme", group_id="nightly-3", shard=(0, 2))
        check_joins_group(store, "nightly-3", "acme", Shard(1, 2))  # the same run: welcome
        check_joins_group(store, "nightly-4", "acme", Shard(1, 2))  # a new group: welcome
        with pytest.raises(UserError) as error:
            check_joins_group(store, "nightly-3", "other", Shard(1, 2))
        assert str(error.value).startswith("scan group 'nightly-3' holds scans of another platform "
                                           "config ('acme', scan ")
        with pytest.raises(UserError, match="'nightly-3' holds shards of 2, not 3"):
            check_joins_group(store, "nightly-3", "acme", Shard(1, 3))
        store.save(part, config_key="other", group_id="nightly-3", shard=(1, 2))  # an older tool's
        with pytest.raises(UserError, match="'nightly-3' mixes platform configs 'acme', 'other'"):
            group_shards(store, "nightly-3")


# -- shards merged == one scan, end to end -------------------------------------------------------


@pytest.fixture
def sharded_platform(platform: Platform, refused_url: str) -> Path:
    """Repositories, MLflow and manifests (data that holds still: a live Prometheus moves
    with every scrape), a source that cannot be partitioned and fails, one that can and
    fails in every shard, and a declared system."""
    return platform.config([
        {"type": "prometheus", "name": "gone-prom", "url": refused_url},
        {"type": "mlflow", "name": "gone-mlflow", "tracking_uri": refused_url, "max_retries": 0},
    ], without=("prod-prom",), systems={"retention": {"models": ["churn"]}})


def test_shards_merged_equal_one_unsharded_scan(platform: Platform, sharded_platform: Path,
                                                 isolated_store: str, tmp_path: Path) -> None:
    config = str(sharded_platform)
    whole = run_cli(platform, "scan", "--config", config, "--format", "json", "--no-store", "--quiet")
    assert whole.returncode == 0, whole.stderr
    unsharded = Assessment.model_validate_json(whole.stdout)

    parts = []
    for index in range(SHARDS):
        out = tmp_path / f"shard-{index}.json"
        done = run_cli(platform, "scan", "--config", config, "--shard", f"{index}/{SHARDS}",
                       "--scan-group", "nightly-42", "--quiet", "--format", "json", "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""  # --quiet: no progress, no `stored ...` line
        parts.append(Assessment.model_validate_json(out.read_text()))

    merged_file = tmp_path / "merged.json"
    report = run_cli(platform, "report", "--scan-group", "nightly-42", "--format", "json",
                     "-o", str(merged_file))
    assert report.returncode == 0, report.stderr
    assert "stored the merged scan" in report.stderr
    merged = Assessment.model_validate_json(merged_file.read_text())

    assert normalised(merged) == normalised(unsharded)  # byte for byte
    assert merged.systems["retention"].declared
    assert "mlflow:prod-mlflow/churn" in merged.systems["retention"].subjects

    # the shards split the subjects: each evidence item was found by exactly one shard
    found = [{e.id for e in part.evidence} for part in parts]
    assert sum(len(ids) for ids in found) == len(unsharded.evidence)
    assert set().union(*found) == {e.id for e in unsharded.evidence}
    assert sum(1 for ids in found if ids) >= 2
    # sources that cannot be split run in one shard only; the others in every shard
    ran = [{s.name for s in part.sources} for part in parts]
    assert sum("gone-prom" in names for names in ran) == 1
    assert all({"prod-mlflow", "gone-mlflow", "prod-k8s"} <= names for names in ran)
    merged_status = {s.name: s for s in merged.sources}
    assert merged_status["gone-mlflow"].status == SourceState.failed
    assert merged_status["gone-mlflow"].requests == sum(
        s.requests for part in parts for s in part.sources if s.name == "gone-mlflow")

    page = tmp_path / "maturity.html"
    again = run_cli(platform, "report", "--scan-group", "nightly-42", "--format", "html", "-o", str(page))
    assert again.returncode == 0, again.stderr
    assert "stored" not in again.stderr  # merged and stored once
    assert page.read_text().startswith("<!DOCTYPE html>") and "retention" in page.read_text()
    with Store.open(isolated_store) as store:
        records = store.scans(group_id="nightly-42")
    assert sorted((r.shard_index is None, r.shard_count) for r in records) == [
        (False, 3), (False, 3), (False, 3), (True, None)]


def test_shard_flags_are_checked_before_anything_is_read(platform: Platform,
                                                          sharded_platform: Path) -> None:
    config = str(sharded_platform)
    done = run_cli(platform, "scan", "--config", config, "--shard", "3/3", "--scan-group", "g")
    assert (done.returncode, done.stderr) == (
        2, "error: --shard '3/3': K must be 0 to N-1 and N at least 1 (e.g. 0/4 .. 3/4)\n")
    done = run_cli(platform, "scan", "--config", config, "--shard", "0/3")
    assert (done.returncode, done.stderr) == (
        2, "error: --shard needs --scan-group ID, the same for every shard of one run\n")
    done = run_cli(platform, "report", "--scan-group", "no such group")
    assert done.returncode == 2 and done.stderr.startswith("error: --scan-group 'no such group': ")


# -- GitHub repositories between shards ------------------------------------------------------------


def test_github_repositories_are_split_between_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    from github_server import GitHubState, running
    from host_repos import NOW, github_org

    from maturity_probe.collectors import run_collector
    from maturity_probe.collectors.github import GitHubCollector, GitHubSource

    state = GitHubState(github_org())
    monkeypatch.setenv("SHARD_TEST_TOKEN", state.token)
    with running(state) as url:
        def scan(shard: Shard | None) -> tuple[set[str], set[str], int]:
            source = GitHubSource(name="gh", base_url=url, orgs=["acme"], token_env="SHARD_TEST_TOKEN")
            collector = GitHubCollector(source, CollectContext(now=NOW, shard=shard))
            evidence, status = run_collector(collector)
            assert status.status == SourceState.ok, status.reason
            return {e.id for e in evidence}, {e.subject for e in evidence}, status.requests

        everything, all_repos, all_requests = scan(None)
        parts = [scan(Shard(index, 2)) for index in range(2)]
    assert parts[0][0] | parts[1][0] == everything
    assert not parts[0][0] & parts[1][0]
    assert not parts[0][1] & parts[1][1] and parts[0][1] | parts[1][1] == all_repos
    assert all(part[1] for part in parts)  # both shards got repositories
    # each shard spends its own token budget on its own repositories (plus the listing)
    assert all(part[2] < all_requests for part in parts)
