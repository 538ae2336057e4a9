"""Register the evaluated model in the MLflow model registry and make it the champion.

    python -m src.register --run-id-file models/run_id.txt --metrics reports/metrics.json

Each version is tagged with its holdout metrics and with the DVC hash of the customer
snapshot it was trained on, so a deployment can be traced back to its data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mlflow
import yaml
from mlflow import MlflowClient

MODEL_NAME = "churn-classifier"
CHAMPION_ALIAS = "champion"
RAW_DATA = "data/raw/customers.csv"


def data_version(lock_file: Path) -> str:
    """md5 of the raw snapshot the `prepare` stage read, from dvc.lock."""
    lock = yaml.safe_load(lock_file.read_text())
    for dep in lock["stages"]["prepare"]["deps"]:
        if dep["path"] == RAW_DATA:
            return dep["md5"]
    raise SystemExit(f"{RAW_DATA} is not a dependency of the prepare stage in {lock_file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-id-file", type=Path, default=Path("models/run_id.txt"))
    parser.add_argument("--metrics", type=Path, default=Path("reports/metrics.json"))
    parser.add_argument("--lock", type=Path, default=Path("dvc.lock"))
    parser.add_argument("--alias", default=CHAMPION_ALIAS)
    args = parser.parse_args()

    run_id = args.run_id_file.read_text().strip()
    metrics = json.loads(args.metrics.read_text())
    tags = {
        "holdout_auc": f"{metrics['auc']:.4f}",
        "holdout_recall_at_top_decile": f"{metrics['recall_at_top_decile']:.4f}",
        "data_md5": data_version(args.lock),
    }
    version = mlflow.register_model(f"runs:/{run_id}/model", MODEL_NAME, tags=tags)
    client = MlflowClient()
    client.update_model_version(
        MODEL_NAME,
        version.version,
        description=f"Weekly retrain from run {run_id}; holdout AUC {metrics['auc']:.3f}.",
    )
    client.set_registered_model_alias(MODEL_NAME, args.alias, version.version)
    print(f"{MODEL_NAME} version {version.version} registered as @{args.alias}")


if __name__ == "__main__":
    main()
