"""Train the churn classifier and log the run to MLflow (DVC stage `train`).

    python -m src.train --features data/features/train.parquet --model-dir models

Writes models/model.joblib (the fitted scikit-learn pipeline, versioned by DVC) and
models/run_id.txt (the MLflow run that `src.register` registers).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import joblib
import mlflow
import pandas as pd
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from src.features import CATEGORICAL, FEATURES, TARGET
from src.serve import ChurnModel

EXPERIMENT = "churn-classifier"


def build_pipeline(params: dict) -> Pipeline:
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    classifier = HistGradientBoostingClassifier(
        learning_rate=params["learning_rate"],
        max_iter=params["max_iter"],
        max_depth=params["max_depth"],
        l2_regularization=params["l2_regularization"],
        class_weight="balanced",
        random_state=params["seed"],
    )
    return Pipeline([("encode", encode), ("classifier", classifier)])


def train_model(table: pd.DataFrame, params: dict) -> Pipeline:
    model = build_pipeline(params)
    model.fit(table[FEATURES], table[TARGET])
    return model


def cross_validated_auc(table: pd.DataFrame, params: dict) -> float:
    folds = StratifiedKFold(n_splits=params["cv_folds"], shuffle=True, random_state=params["seed"])
    scores = cross_val_score(build_pipeline(params), table[FEATURES], table[TARGET], cv=folds, scoring="roc_auc")
    return float(scores.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    params = yaml.safe_load(args.params.read_text())["train"]
    table = pd.read_parquet(args.features)
    args.model_dir.mkdir(parents=True, exist_ok=True)
    model_path = args.model_dir / "model.joblib"

    mlflow.set_experiment(EXPERIMENT)
    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    with mlflow.start_run(run_name=os.environ.get("GITHUB_RUN_ID", "local")) as run:
        mlflow.set_tags(
            {
                "git_commit": os.environ.get("GITHUB_SHA", "uncommitted"),
                "trigger": os.environ.get("GITHUB_EVENT_NAME", "manual"),
            }
        )
        mlflow.log_params({f"train.{k}": v for k, v in params.items()})
        mlflow.log_metric("cv_auc", cross_validated_auc(table, params))
        mlflow.log_metric("train_rows", len(table))
        mlflow.log_metric("train_churn_rate", float(table[TARGET].mean()))

        model = train_model(table, params)
        joblib.dump(model, model_path)
        mlflow.pyfunc.log_model(
            artifact_path="model",
            python_model=ChurnModel(),
            artifacts={"classifier": str(model_path)},
            code_paths=["src"],
            pip_requirements="requirements.txt",
        )
        (args.model_dir / "run_id.txt").write_text(run.info.run_id + "\n")
    print(f"trained on {len(table)} customers; MLflow run {run.info.run_id}")


if __name__ == "__main__":
    main()
