"""Pipeline step `train_model`: fit the demand model and save it in MLflow format.

    python -m src.train --features <uri_folder> --model-out <mlflow_model output>

The last `--holdout-days` are left out: `evaluate_model` backtests the candidate on
them, and next week's run trains on them. Azure ML sets MLFLOW_TRACKING_URI to the
workspace, so autolog records parameters and metrics next to the pipeline job.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from src.features import FEATURES, KEYS, TARGET


def build_model(learning_rate: float = 0.05, max_iter: int = 500) -> Pipeline:
    encode = ColumnTransformer(
        [("series", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), KEYS)],
        remainder="passthrough",
    )
    # Poisson loss: unit sales are counts, often small, never negative
    regressor = HistGradientBoostingRegressor(
        loss="poisson",
        learning_rate=learning_rate,
        max_iter=max_iter,
        categorical_features=[0, 1],
        early_stopping=True,
        random_state=0,
    )
    return Pipeline([("encode", encode), ("regressor", regressor)])


def fit(table: pd.DataFrame, learning_rate: float = 0.05, max_iter: int = 500) -> Pipeline:
    model = build_model(learning_rate, max_iter)
    model.fit(table[KEYS + FEATURES], table[TARGET])
    return model


def split_holdout(table: pd.DataFrame, holdout_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, most recent `holdout_days`): time-ordered, never shuffled."""
    cutoff = pd.to_datetime(table["date"]).max() - pd.Timedelta(days=holdout_days)
    recent = pd.to_datetime(table["date"]) > cutoff
    return table[~recent], table[recent]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--model-out", type=Path, required=True)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--max-iter", type=int, default=500)
    parser.add_argument("--holdout-days", type=int, default=28)
    args = parser.parse_args()

    table, _ = split_holdout(pd.read_parquet(args.features / "features.parquet"), args.holdout_days)
    mlflow.sklearn.autolog(log_models=False)
    with mlflow.start_run():
        mlflow.log_param("series", table.groupby(KEYS).ngroups)
        model = fit(table, args.learning_rate, args.max_iter)
        mlflow.sklearn.save_model(model, args.model_out)
    print(f"trained on {len(table)} rows; model saved to {args.model_out}")


if __name__ == "__main__":
    main()
