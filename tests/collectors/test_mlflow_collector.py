"""The mlflow collector against a real `mlflow server`, one scenario per set of names.

Scenarios (tests/collectors/mlflow_server.py): an empty server; `tracked-*` runs with
nothing registered; `unlinked-*` registered models without lineage; `lineage-*` models
with lineage, a production alias and validation tags; `weekly-*` a model retrained
weekly for three months. Levels are asserted with a real git repository beside.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mlflow_support import (
    MLFLOW_SHOWS,
    World,
    repo_files_without_mlflow_practices,
)

from conftest import MakeRepo
from maturity_probe.assessment import Assessment, Status
from maturity_probe.collectors import CollectContext, mlflow_registry, run_collector
from maturity_probe.collectors.mlflow_registry import (
    RUN_SLICES,
    MlflowCollector,
    MlflowServer,
    MlflowSource,
)
from maturity_probe.collectors.repo import RepoCollector, RepoSource
from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import markdown, table

# The servers and failure doubles are fixtures of this plugin (one per session).
pytest_plugins = ["mlflow_server"]

RULES = load_rules()
SERVER = "mlflow:prod-mlflow"
Scan = tuple[list[Evidence], SourceStatus]


def of(evidence: list[Evidence], signal: str, subject: str | None = None,
       experiment: str | None = None) -> list[Evidence]:
    return [e for e in evidence if e.signal == signal
            and (subject is None or e.subject == subject)
            and (experiment is None or e.attributes.get("experiment") == experiment)]


def one(evidence: list[Evidence], signal: str, subject: str | None = None,
        experiment: str | None = None) -> Evidence:
    found = of(evidence, signal, subject, experiment)
    assert len(found) == 1, (signal, subject, experiment, found)
    return found[0]


def scenario(evidence: list[Evidence], prefix: str) -> list[Evidence]:
    """The evidence about one scenario's models and experiments."""
    return [e for e in evidence if e.subject.startswith(f"{SERVER}/{prefix}-")
            or str(e.attributes.get("experiment", "")).startswith(f"{prefix}-")]


def test_empty_server_shows_nothing_but_is_read(empty_scan: Scan) -> None:
    evidence, status = empty_scan
    assert status.status == SourceState.ok, status.reason
    assert evidence == []
    # experiments, the lookback window's time slices of runs, registered models, model versions
    assert status.requests == 3 + RUN_SLICES


def test_tracked_runs_without_registry(world_scan: Scan, mlflow_world: World) -> None:
    evidence, status = world_scan
    assert status.status == SourceState.ok
    mine = scenario(evidence, "tracked")

    logged = one(mine, "tracking.runs_logged", experiment="tracked-sweeps")
    assert logged.subject == SERVER
    assert logged.strength == Strength.verified  # three of the four runs FINISHED
    assert logged.attributes == {"experiment": "tracked-sweeps", "runs": 4, "finished_runs": 3,
                                 "failed_runs": 1, "users": 1}
    assert logged.locator.startswith(f"{mlflow_world.url}/#/experiments/")

    from_commit = one(mine, "tracking.runs_from_git_commit", experiment="tracked-sweeps")
    assert from_commit.strength == Strength.verified
    assert from_commit.attributes["runs_with_commit"] == 2
    assert from_commit.attributes["commit_share"] == 50.0
    assert from_commit.links == ["github:acme/churn"]

    # alice ran them from a notebook: nothing marks automation
    assert of(mine, "tracking.automated_runs") == []
    # runs older than the lookback window are not evidence of tracking today
    assert of(evidence, "tracking.runs_logged", experiment="tracked-stale") == []
    assert not [e for e in mine if e.signal.startswith("registry.")]


def test_registered_models_without_lineage(world_scan: Scan, mlflow_world: World) -> None:
    evidence, _ = world_scan
    fraud = f"{SERVER}/unlinked-fraud"
    registered = one(evidence, "registry.model_registered", fraud)
    assert registered.strength == Strength.active  # versions created in the window
    assert registered.locator == f"{mlflow_world.url}/#/models/unlinked-fraud"
    assert registered.attributes["versions"] == 2
    assert registered.attributes["lineage_coverage_percent"] == 0.0
    assert registered.links == ["model:unlinked-fraud"]  # the model name alone, no repository
    for signal in ("registry.version_lineage", "registry.dataset_lineage",
                   "registry.production_alias", "registry.version_validated"):
        assert of(evidence, signal, fraud) == [], signal
    documented = one(evidence, "registry.model_documented", fraud)
    assert documented.attributes["description_chars"] == len("Fraud model.")
    # two versions registered by hand seconds apart: a cadence, but not an automated one
    cadence = one(evidence, "registry.retraining_cadence", fraud)
    assert cadence.strength == Strength.active
    assert cadence.attributes["automated_versions"] == 0

    empty = one(evidence, "registry.model_registered", f"{SERVER}/unlinked-empty")
    assert empty.strength == Strength.declared
    assert empty.attributes["versions"] == 0
    assert [e.signal for e in evidence if e.subject == f"{SERVER}/unlinked-empty"] == [
        "registry.model_registered"]


def test_models_with_lineage_production_alias_and_validation(world_scan: Scan,
                                                             mlflow_world: World) -> None:
    evidence, _ = world_scan
    churn = f"{SERVER}/lineage-churn"
    version_3 = f"{mlflow_world.url}/#/models/lineage-churn/versions/3"

    lineage = one(evidence, "registry.version_lineage", churn)
    assert lineage.strength == Strength.verified  # version 3: created in the window, run FINISHED
    assert lineage.locator == version_3
    assert lineage.attributes["versions_with_run"] == 3
    assert lineage.attributes["versions_with_commit"] == 3
    assert lineage.attributes["latest_commit"] == mlflow_world.commits["lineage"]
    assert lineage.links == ["github:acme/churn", "model:lineage-churn"]
    assert one(evidence, "registry.model_registered", churn).links == [
        "github:acme/churn", "model:lineage-churn"]
    # the export's version comes from the same run: its lineage is not lost to the first model
    export = one(evidence, "registry.version_lineage", f"{SERVER}/lineage-churn-onnx")
    assert export.attributes["latest_commit"] == mlflow_world.commits["lineage"]
    assert export.links == ["github:acme/churn", "model:lineage-churn-onnx"]

    data = one(evidence, "registry.dataset_lineage", churn)
    assert data.strength == Strength.verified
    assert data.attributes["datasets"] == ["churn-features@d1e5f6a7", "churn-features@d2e5f6a7",
                                           "churn-features@d3e5f6a7"]

    production = one(evidence, "registry.production_alias", churn)
    assert production.strength == Strength.verified
    assert production.locator == version_3
    assert production.attributes["marked_by"] == ["alias champion"]
    assert production.attributes["environments"] == ["production", "staging"]

    validated = one(evidence, "registry.version_validated", churn)
    assert validated.strength == Strength.verified
    assert validated.attributes["passed_versions"] == 3
    assert validated.attributes["tags"] == ["validation_status"]
    assert validated.summary.startswith("3 versions of `lineage-churn` record a validation, 3 passed")

    documented = one(evidence, "registry.model_documented", churn)
    assert documented.attributes["description_chars"] >= 100
    assert documented.attributes["described_versions"] == 3
    assert (documented.attributes["signature"], documented.attributes["input_example"]) == (True, True)

    automated = one(evidence, "tracking.automated_runs", experiment="lineage-churn")
    assert automated.strength == Strength.verified
    assert automated.attributes["automated_runs"] == 3  # bob's notebook run is not automated
    assert automated.attributes["markers"] == ["source type PROJECT"]

    # The legacy model reached Production through a stage, from a run that was KILLED.
    legacy = f"{SERVER}/lineage-legacy"
    promoted = one(evidence, "registry.production_alias", legacy)
    assert promoted.strength == Strength.declared
    assert promoted.attributes["marked_by"] == ["stage Production"]
    assert promoted.attributes["run_status"] == "KILLED"
    legacy_lineage = one(evidence, "registry.version_lineage", legacy)
    assert legacy_lineage.attributes["versions_with_commit"] == 0
    kpis = one(evidence, "registry.model_registered", legacy).attributes
    assert kpis["lineage_coverage_percent"] == 0.0
    # stage promotion is observable (the version's last update), about 3 days after the run
    assert 71 < kpis["lead_time_run_to_production_hours"] < 73


def test_weekly_retraining_kpis(world_scan: Scan, mlflow_world: World) -> None:
    evidence, status = world_scan
    demand = f"{SERVER}/weekly-demand"
    registered = one(evidence, "registry.model_registered", demand)
    kpis = registered.attributes
    assert kpis["versions"] == 14
    assert kpis["versions_30d"] == 5  # days 28, 21, 14, 7, 0
    assert kpis["versions_90d"] == 13  # not the one from 120 days ago
    assert kpis["median_days_between_versions"] == 7.0
    assert kpis["lead_time_run_to_version_hours"] == 1.0
    assert kpis["production_version_age_days"] == pytest.approx(3 / 24, abs=0.02)
    # the version from 120 days ago traces to its commit through the batched run lookup
    assert kpis["lineage_coverage_percent"] == 100.0
    assert "lead_time_run_to_production_hours" not in kpis  # an alias has no promotion time
    assert registered.links == ["github:acme/demand-forecast", "model:weekly-demand"]

    cadence = one(evidence, "registry.retraining_cadence", demand)
    assert cadence.strength == Strength.verified
    assert cadence.attributes == {"versions_in_lookback": 13, "median_days_between_versions": 7.0,
                                  "automated_versions": 13}
    assert one(evidence, "registry.version_lineage", demand).attributes["versions_with_commit"] == 14

    # bounded requests: experiments, recent runs (one page per time slice), models, versions,
    # one batch of old runs
    assert status.requests == 4 + RUN_SLICES


def test_kpis_reach_the_assessment_and_markdown(world_scan: Scan) -> None:
    evidence, status = world_scan
    assessment = assess(RULES, evidence, [status], now=datetime.now(UTC), target="platform.yaml")
    demand = {k.id: k for k in assessment.kpis if k.subject == f"{SERVER}/weekly-demand"}
    assert {k: demand[k].value for k in demand} == {
        "mlflow_versions_30d": 5.0,
        "mlflow_versions_90d": 13.0,
        "mlflow_retraining_interval": 7.0,
        "mlflow_production_version_age": pytest.approx(0.13, abs=0.02),
        "mlflow_lead_time_to_version": 1.0,
        "mlflow_lineage_coverage": 100.0,
    }
    assert demand["mlflow_retraining_interval"].unit == "days"
    text = markdown.render(assessment, False)
    assert "| `mlflow:prod-mlflow/weekly-demand` | Median days between versions | 7 days |" in text
    terminal = table.render(assessment)
    row = next(line for line in terminal.splitlines()
               if "weekly-demand" in line and "Lineage coverage" in line)
    assert "100 %" in row


# -- levels: a real repository beside the registry ----------------------------------------

@pytest.fixture
def repo_scan(make_repo: MakeRepo) -> Scan:
    """A repository with every Microsoft level-2 practice except the three MLflow can show."""
    root: Path = make_repo(repo_files_without_mlflow_practices())
    collector = RepoCollector(RepoSource(name="churn-repo", path=root),
                              CollectContext(now=datetime.now(UTC)))
    return run_collector(collector)


def assess_with(repo: Scan, mlflow: Scan, prefix: str | None) -> Assessment:
    evidence = mlflow[0] if prefix is None else scenario(mlflow[0], prefix)
    return assess(RULES, [*repo[0], *evidence], [repo[1], mlflow[1]], now=datetime.now(UTC),
                  target="platform.yaml")


def status_of(assessment: Assessment, model: str, requirement: str) -> Status:
    return next(r.status for r in assessment.maturity[model].requirements if r.id == requirement)


def test_repository_alone_stops_at_level_one(repo_scan: Scan, empty_scan: Scan) -> None:
    assessment = assess_with(repo_scan, empty_scan, None)
    microsoft = assessment.maturity["microsoft"]
    assert (microsoft.level, microsoft.at_least) == (1, False)
    for capability in MLFLOW_SHOWS:
        assert assessment.capabilities[capability].status == Status.unmet, capability


def test_lineage_scenario_reaches_microsoft_level_two(repo_scan: Scan, world_scan: Scan) -> None:
    assessment = assess_with(repo_scan, world_scan, "lineage")
    microsoft = assessment.maturity["microsoft"]
    assert (microsoft.level, microsoft.at_least) == (2, False)
    # registry evidence also answers level-3 and Google criteria
    assert status_of(assessment, "microsoft", "l3-traceable-to-data") == Status.met
    for capability in ("model_registry", "ml_metadata", "model_validation", "model_documentation",
                       "separate_environments", "training_code_versioned"):
        assert assessment.capabilities[capability].status == Status.met, capability
    # three automated versions in the window: retraining really happens
    assert assessment.capabilities["retraining_trigger"].status == Status.met


def test_tracked_scenario_stays_at_level_one(repo_scan: Scan, world_scan: Scan) -> None:
    assessment = assess_with(repo_scan, world_scan, "tracked")
    assert assessment.maturity["microsoft"].level == 1
    assert assessment.capabilities["experiment_tracking"].status == Status.met
    assert status_of(assessment, "microsoft", "l2-models-versioned") == Status.unmet
    assert status_of(assessment, "microsoft", "l2-automated-training") == Status.unmet


def test_unlinked_scenario_versions_models_but_tracks_nothing(repo_scan: Scan,
                                                              world_scan: Scan) -> None:
    assessment = assess_with(repo_scan, world_scan, "unlinked")
    assert assessment.maturity["microsoft"].level == 1
    assert status_of(assessment, "microsoft", "l2-models-versioned") == Status.met
    assert status_of(assessment, "microsoft", "l2-experiments-tracked") == Status.unmet
    # a 12-character description is not a model card; no version was validated
    assert assessment.capabilities["model_documentation"].status == Status.unmet
    assert assessment.capabilities["model_validation"].status == Status.unmet


def test_weekly_scenario_shows_a_retraining_trigger(repo_scan: Scan, world_scan: Scan) -> None:
    assessment = assess_with(repo_scan, world_scan, "weekly")
    retraining = assessment.capabilities["retraining_trigger"]
    assert retraining.status == Status.met
    cadence = one(world_scan[0], "registry.retraining_cadence", f"{SERVER}/weekly-demand")
    assert cadence.id in retraining.evidence
    assert assessment.maturity["microsoft"].level == 2


def test_registry_alone_leaves_repository_criteria_unknown(world_scan: Scan) -> None:
    evidence, status = world_scan
    assessment = assess(RULES, evidence, [status], now=datetime.now(UTC), target="platform.yaml")
    microsoft = assessment.maturity["microsoft"]
    assert (microsoft.level, microsoft.at_least) == (0, True)
    assert status_of(assessment, "microsoft", "l1-devops-pipeline") == Status.unknown
    assert status_of(assessment, "microsoft", "l2-experiments-tracked") == Status.met


def test_recent_runs_are_the_most_recent_of_the_window_across_time_slices(
        mlflow_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookback window is read as concurrent time slices; together they are exactly the
    runs started in the window, newest first, and `max_runs` keeps the newest."""
    source = MlflowSource(name="prod-mlflow", tracking_uri=mlflow_world.url)
    collector = MlflowCollector(source, CollectContext(now=mlflow_world.now + timedelta(minutes=5)))
    server = MlflowServer(source, None, None, None)
    experiments = sorted(str(e["experiment_id"]) for e in server.experiments())

    def recent(limit: int) -> tuple[list[str], bool]:
        runs, truncated = server.recent_runs(experiments, collector.window_start, collector.ctx.now,
                                             limit, collector.run_facts)
        starts = [run.started for run in runs]
        assert starts == sorted(starts, reverse=True)  # type: ignore[type-var]
        return [run.run_id for run in runs], truncated

    everything, truncated = recent(10000)
    assert not truncated
    # tracked 4, lineage 3 and its legacy run, weekly 13: not the 200- and 120-day-old runs
    in_window = {*mlflow_world.run_ids["tracked"], *mlflow_world.run_ids["lineage"],
                 *mlflow_world.run_ids["weekly"][1:]}
    assert len(everything) == len(in_window) + 1 and in_window < set(everything)
    assert mlflow_world.run_ids["weekly"][0] not in everything

    # two-run pages: a slice stops between pages once the newer slices hold the limit
    monkeypatch.setattr(mlflow_registry, "RUN_PAGE", 2)
    before = server.requests
    assert recent(3) == (everything[:3], True)
    assert server.requests - before < RUN_SLICES + len(everything) // 2
    for limit in (7, 12):  # limits reaching into older slices
        assert recent(limit) == (everything[:limit], True)
    assert recent(len(everything)) == (everything, False)
    # experiments asked a few per request: the newest of each chunk, ordered across chunks
    monkeypatch.setattr(mlflow_registry, "EXPERIMENT_IDS_PER_REQUEST", 2)
    assert len(experiments) > 2
    for limit in (3, 7):
        assert recent(limit) == (everything[:limit], True)
