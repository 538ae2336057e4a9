"""Start a fraud-training run on Kubeflow Pipelines and wait for it.

    python pipelines/run.py --reason weekly-schedule --snapshot-date 2025-11-30

Started by CI for the weekly schedule and when Alertmanager reports drift or a quality
drop (GitLab pipeline trigger, RETRAIN_REASON=drift|quality). Writes build/run.json with
the MLflow run id for the evaluate and register stages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

import kfp
import mlflow

PIPELINE_NAME = "fraud-training"
EXPERIMENT = "fraud-detector-retraining"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reason", required=True)
    parser.add_argument("--snapshot-date", default=(dt.date.today() - dt.timedelta(days=1)).isoformat())
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--timeout-hours", type=float, default=6)
    parser.add_argument("--out", type=Path, default=Path("build/run.json"))
    args = parser.parse_args()

    client = kfp.Client(host=os.environ["KFP_HOST"], existing_token=os.environ.get("KFP_TOKEN"))
    pipeline_id = client.get_pipeline_id(PIPELINE_NAME)
    versions = client.list_pipeline_versions(pipeline_id, sort_by="created_at desc", page_size=1)
    experiment = client.create_experiment(EXPERIMENT)
    run = client.run_pipeline(
        experiment_id=experiment.experiment_id,
        job_name=f"{args.reason}-{args.snapshot_date}",
        pipeline_id=pipeline_id,
        version_id=versions.pipeline_versions[0].pipeline_version_id,
        params={"snapshot_date": args.snapshot_date, "epochs": args.epochs},
    )
    finished = client.wait_for_run_completion(run.run_id, timeout=int(args.timeout_hours * 3600))
    if finished.state != "SUCCEEDED":
        raise SystemExit(f"training run {run.run_id} ended {finished.state}")
    # the train component tags its MLflow run with the pipeline run id
    runs = mlflow.search_runs(
        experiment_names=["fraud-detector"],
        filter_string=f"tags.pipeline_run_id = '{run.run_id}'",
        output_format="list",
    )
    if not runs:
        raise SystemExit(f"no MLflow run tagged with pipeline run {run.run_id}")
    run_id = runs[0].info.run_id
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"kfp_run_id": run.run_id, "mlflow_run_id": run_id, "reason": args.reason}))
    print(f"run {run.run_id} succeeded; MLflow run {run_id}")


if __name__ == "__main__":
    main()
