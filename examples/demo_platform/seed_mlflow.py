"""Seed the demo's MLflow server with each system's training history, through the REST API
(MlflowClient), as the teams' pipelines and notebooks would have logged it.

MLflow stamps a model version with the server's clock when it is created; to show months
of history in a demo that runs for a minute, the versions' creation times are then set
to an hour after their run ended, directly in the server's SQLite store.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from platform_spec import DemoSystem
from repos import Commit, commit_at

RUN_MINUTES = 40


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def seed_system(client: Any, system: DemoSystem, commits: list[Commit], now: datetime) -> dict[int, datetime]:
    """Log the system's runs (and register one version per run); returns version -> created."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    training = system.training
    experiment_id = client.create_experiment(training.experiment, tags={"team_repo": system.remote})
    registration = system.registration
    if registration is not None:
        client.create_registered_model(registration.model, description=registration.description)
    created: dict[int, datetime] = {}
    for number in range(1, training.runs + 1):
        start = now - timedelta(days=2 + training.every_days * (training.runs - number), hours=3)
        end = start + timedelta(minutes=RUN_MINUTES)
        commit = commit_at(commits, start)
        run = client.create_run(experiment_id, start_time=_ms(start), run_name=f"train-{start:%Y%m%d}", tags={
            "mlflow.user": training.user,
            "mlflow.source.type": training.source_type,
            "mlflow.source.name": training.entry_point,
            "mlflow.source.git.commit": commit.sha,
            "mlflow.source.git.repoURL": system.remote,
            **training.tags,
        })
        run_id = run.info.run_id
        for key, value in training.metrics.items():  # a little noise from week to week
            client.log_metric(run_id, key, round(value * (1 + 0.01 * ((number * 7) % 5 - 2)), 4),
                              timestamp=_ms(end))
        if registration is not None and registration.validated:
            data = Dataset(name=f"{training.experiment}-training", digest=f"{commit.sha[:8]}{number:02d}",
                           source_type="s3", source=f'{{"uri": "s3://{training.experiment}/features/'
                           f'{start:%Y-%m-%d}.parquet"}}')
            client.log_inputs(run_id, [DatasetInput(data, [InputTag("mlflow.data.context", "training")])])
        client.set_terminated(run_id, status="FINISHED", end_time=_ms(end))
        if registration is None:
            continue
        tags = {"validation_status": "passed", "git_commit": commit.sha} if registration.validated else {}
        version = client.create_model_version(
            registration.model, f"runs:/{run_id}/model", run_id=run_id, tags=tags,
            description=f"Trained on {start:%Y-%m-%d} from commit {commit.sha[:8]}.",
            await_creation_for=0,
        )
        created[int(version.version)] = end + timedelta(hours=1)
    if registration is not None:
        newest = training.runs
        for alias, back in registration.aliases.items():
            client.set_registered_model_alias(registration.model, alias, str(newest - back))
    return created


def backdate_versions(db: Path, model: str, created: dict[int, datetime]) -> None:
    """Give the versions the creation times of the history the demo tells."""
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        for version, moment in created.items():
            conn.execute("UPDATE model_versions SET creation_time = ?, last_updated_time = ? "
                         "WHERE name = ? AND version = ?", (_ms(moment), _ms(moment), model, version))


def seed(tracking_uri: str, db: Path, systems: list[DemoSystem], commits: dict[str, list[Commit]],
         now: datetime) -> None:
    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"  # no "View run at" line per run
    client = MlflowClient(tracking_uri=tracking_uri)
    for system in systems:
        created = seed_system(client, system, commits[system.example], now)
        if system.registration is not None:
            backdate_versions(db, system.registration.model, created)
