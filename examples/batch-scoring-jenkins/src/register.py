"""Pipeline step `register_model`: register the validated model in the workspace registry.

python -m src.register --model <mlflow_model> --report <uri_folder> --name demand-forecast
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import mlflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--name", default="demand-forecast")
    args = parser.parse_args()

    metrics = json.loads((args.report / "metrics.json").read_text())
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(args.model), artifact_path="model")
        version = mlflow.register_model(
            f"runs:/{run.info.run_id}/model",
            args.name,
            tags={
                "backtest_wape": f"{metrics['wape']:.4f}",
                "sales_history": os.environ.get("SALES_HISTORY_VERSION", "unknown"),
                "pipeline_run": os.environ.get("AZUREML_ROOT_RUN_ID", "local"),
            },
        )
    print(f"registered {args.name} version {version.version}")


if __name__ == "__main__":
    main()
