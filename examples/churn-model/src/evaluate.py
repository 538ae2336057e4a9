"""Evaluate the candidate model on the holdout set and enforce the release thresholds.

DVC stage `evaluate` (fails the pipeline when a threshold of params.yaml is missed):

    python -m src.evaluate --model models/model.joblib --features data/features/holdout.parquet \
        --metrics reports/metrics.json

After `dvc repro`, the training workflow also compares the candidate with the model in
production and refuses to promote a worse one:

    python -m src.evaluate --against-champion --metrics reports/metrics.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import yaml
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from src.features import FEATURES, TARGET

MODEL_NAME = "churn-classifier"
CHAMPION_ALIAS = "champion"


def recall_at_top(target: np.ndarray, scores: np.ndarray, fraction: float) -> float:
    """Share of churners among the top `fraction` of customers by score (what retention calls)."""
    top = max(1, int(len(scores) * fraction))
    chosen = np.argsort(scores)[::-1][:top]
    churners = target.sum()
    return float(target[chosen].sum() / churners) if churners else 0.0


def holdout_metrics(model, table: pd.DataFrame) -> dict[str, float]:
    target = table[TARGET].to_numpy()
    scores = model.predict_proba(table[FEATURES])[:, 1]
    return {
        "auc": float(roc_auc_score(target, scores)),
        "average_precision": float(average_precision_score(target, scores)),
        "brier": float(brier_score_loss(target, scores)),
        "recall_at_top_decile": recall_at_top(target, scores, 0.10),
        "holdout_rows": float(len(table)),
    }


def failed_thresholds(metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    failures = []
    if metrics["auc"] < thresholds["min_auc"]:
        failures.append(f"AUC {metrics['auc']:.3f} < {thresholds['min_auc']}")
    if metrics["recall_at_top_decile"] < thresholds["min_recall_at_top_decile"]:
        failures.append(f"recall@10% {metrics['recall_at_top_decile']:.3f} < {thresholds['min_recall_at_top_decile']}")
    if metrics["brier"] > thresholds["max_brier"]:
        failures.append(f"Brier {metrics['brier']:.3f} > {thresholds['max_brier']}")
    return failures


def champion_auc(client: MlflowClient) -> float | None:
    """Holdout AUC recorded on the model version currently in production, if any."""
    try:
        version = client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    except MlflowException:
        return None  # first release: nothing to beat
    recorded = version.tags.get("holdout_auc")
    return float(recorded) if recorded is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/model.joblib"))
    parser.add_argument("--features", type=Path, default=Path("data/features/holdout.parquet"))
    parser.add_argument("--metrics", type=Path, default=Path("reports/metrics.json"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--against-champion", action="store_true")
    args = parser.parse_args()
    thresholds = yaml.safe_load(args.params.read_text())["evaluate"]

    if args.against_champion:
        metrics = json.loads(args.metrics.read_text())
        best = champion_auc(MlflowClient())
        if best is not None and metrics["auc"] < best - thresholds["max_auc_drop_vs_champion"]:
            sys.exit(f"candidate AUC {metrics['auc']:.3f} is worse than the champion's {best:.3f}: not promoting")
        print(f"candidate AUC {metrics['auc']:.3f} vs champion {best if best is not None else 'none'}: ok")
        return

    metrics = holdout_metrics(joblib.load(args.model), pd.read_parquet(args.features))
    args.metrics.parent.mkdir(parents=True, exist_ok=True)
    args.metrics.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    failures = failed_thresholds(metrics, thresholds)
    if failures:
        sys.exit("model below release thresholds: " + "; ".join(failures))


if __name__ == "__main__":
    main()
