"""Pipeline step `evaluate_model`: backtest the candidate on the held-out weeks.

    python -m src.evaluate --model <mlflow_model> --features <uri_folder> --max-wape 0.25 --report <uri_folder>

WAPE (weighted absolute percentage error) is what the replenishment team reads; the step
fails, and the pipeline stops before registration, when the candidate misses the limit,
does not beat the seasonal-naive forecast (same weekday, previous week), or is not at
least 2% better in MAE than the model in production (MLflow model validation).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import MetricThreshold
from sklearn.metrics import mean_absolute_error

from src.features import FEATURES, KEYS, TARGET

PRODUCTION_MODEL = "models:/demand-forecast@production"
# the candidate must cut the production model's MAE on the same weeks by at least 2%
VALIDATION_THRESHOLDS = {
    "mean_absolute_error": MetricThreshold(min_relative_change=0.02, greater_is_better=False),
}


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    total = np.abs(actual).sum()
    return float(np.abs(actual - forecast).sum() / total) if total else 0.0


def backtest(predictor, recent: pd.DataFrame) -> dict[str, float]:
    forecast = np.clip(predictor.predict(recent[KEYS + FEATURES]), 0, None)
    actual = recent[TARGET].to_numpy()
    return {
        "wape": wape(actual, forecast),
        "wape_seasonal_naive": wape(actual, recent["units_lag_7"].to_numpy()),
        "mae": float(mean_absolute_error(actual, forecast)),
        "backtest_rows": float(len(recent)),
    }


def failed_checks(metrics: dict[str, float], max_wape: float) -> list[str]:
    failures = []
    if metrics["wape"] > max_wape:
        failures.append(f"backtest WAPE {metrics['wape']:.3f} above the limit {max_wape}")
    if metrics["wape"] >= metrics["wape_seasonal_naive"]:
        failures.append("candidate does not beat the seasonal-naive forecast")
    return failures


def compare_with_production(model_uri: str, recent: pd.DataFrame) -> None:
    """Raise ModelValidationFailedException unless the candidate beats the production model."""
    data = recent[KEYS + FEATURES + [TARGET]]
    candidate = mlflow.evaluate(model=model_uri, data=data, targets=TARGET, model_type="regressor")
    try:
        baseline = mlflow.evaluate(model=PRODUCTION_MODEL, data=data, targets=TARGET, model_type="regressor")
    except MlflowException:
        print("no production model yet: nothing to compare with")
        return
    mlflow.validate_evaluation_results(
        validation_thresholds=VALIDATION_THRESHOLDS, candidate_result=candidate, baseline_result=baseline
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--holdout-days", type=int, default=28)
    parser.add_argument("--max-wape", type=float, default=0.25)
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()

    table = pd.read_parquet(args.features / "features.parquet")
    cutoff = pd.to_datetime(table["date"]).max() - pd.Timedelta(days=args.holdout_days)
    recent = table[pd.to_datetime(table["date"]) > cutoff]
    metrics = backtest(mlflow.pyfunc.load_model(str(args.model)), recent)
    mlflow.log_metrics({f"backtest_{k}": v for k, v in metrics.items()})
    args.report.mkdir(parents=True, exist_ok=True)
    (args.report / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))
    failures = failed_checks(metrics, args.max_wape)
    if failures:
        raise SystemExit("; ".join(failures))
    compare_with_production(str(args.model), recent)


if __name__ == "__main__":
    main()
