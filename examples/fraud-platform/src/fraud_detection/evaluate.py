"""Evaluate a trained candidate on the 14-day holdout: quality, fairness, release decision.

    python -m fraud_detection.evaluate --run-id <mlflow run> --holdout gs://.../holdout \
        --metrics-out metrics.json --passed-out passed

Used by the `evaluate` component of the Kubeflow pipeline (writes `passed` = true/false,
the pipeline registers the model only when true) and by the `evaluate-candidate` CI job
(`--fail`: exits non-zero instead, which stops the release).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import mlflow
import mlflow.pytorch
import numpy as np
import pandas as pd
import torch
from fairlearn.metrics import MetricFrame, false_positive_rate, true_positive_rate
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score

from fraud_detection.data import Encoding
from fraud_detection.schema import DECISION_THRESHOLD, LABEL, SENSITIVE

# Release criteria agreed with the fraud operations team (see MODEL_CARD.md)
MIN_AUPRC = 0.55
MIN_RECALL_AT_THRESHOLD = 0.70
MAX_FPR_RATIO = 1.5  # highest group false-positive rate / lowest, per sensitive attribute


def score(run_id: str, holdout: pd.DataFrame) -> np.ndarray:
    model = mlflow.pytorch.load_model(f"runs:/{run_id}/model")
    vocabularies = mlflow.artifacts.load_dict(f"runs:/{run_id}/encoding/vocabularies.json")
    encoding = Encoding(vocabularies, np.zeros(0), np.ones(0))  # scaling is inside the scripted module
    with torch.no_grad():
        return model(encoding.categorical(holdout), encoding.numeric(holdout)).numpy()


def quality(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    decisions = scores >= DECISION_THRESHOLD
    return {
        "auprc": float(average_precision_score(labels, scores)),
        "roc_auc": float(roc_auc_score(labels, scores)),
        "recall": float(recall_score(labels, decisions)),
        "precision": float(precision_score(labels, decisions, zero_division=0)),
        "review_rate": float(decisions.mean()),
    }


def fairness(holdout: pd.DataFrame, scores: np.ndarray) -> dict[str, float]:
    """Ratio of the highest to the lowest false-positive (and true-positive) rate per attribute."""
    decisions = (scores >= DECISION_THRESHOLD).astype(int)
    result = {}
    for attribute in SENSITIVE:
        frame = MetricFrame(
            metrics={"fpr": false_positive_rate, "tpr": true_positive_rate},
            y_true=holdout[LABEL],
            y_pred=decisions,
            sensitive_features=holdout[attribute],
        )
        by_group = frame.by_group
        result[f"fpr_ratio_{attribute}"] = float(by_group["fpr"].max() / max(by_group["fpr"].min(), 1e-6))
        result[f"tpr_ratio_{attribute}"] = float(by_group["tpr"].max() / max(by_group["tpr"].min(), 1e-6))
    return result


def release_failures(metrics: dict[str, float]) -> list[str]:
    failures = []
    if metrics["auprc"] < MIN_AUPRC:
        failures.append(f"AUPRC {metrics['auprc']:.3f} < {MIN_AUPRC}")
    if metrics["recall"] < MIN_RECALL_AT_THRESHOLD:
        failures.append(f"recall {metrics['recall']:.3f} < {MIN_RECALL_AT_THRESHOLD}")
    for attribute in SENSITIVE:
        ratio = metrics[f"fpr_ratio_{attribute}"]
        if ratio > MAX_FPR_RATIO:
            failures.append(f"false-positive rate ratio across {attribute} {ratio:.2f} > {MAX_FPR_RATIO}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--holdout", required=True)
    parser.add_argument("--metrics-out", type=Path, required=True)
    parser.add_argument("--passed-out", type=Path)
    parser.add_argument("--fail", action="store_true", help="exit non-zero when the release criteria fail")
    args = parser.parse_args()

    holdout = pd.read_parquet(args.holdout)
    scores = score(args.run_id, holdout)
    metrics = {**quality(holdout[LABEL].to_numpy(), scores), **fairness(holdout, scores)}
    failures = release_failures(metrics)
    with mlflow.start_run(run_id=args.run_id):
        mlflow.log_metrics({f"holdout_{k}": v for k, v in metrics.items()})
        mlflow.set_tag("release_decision", "pass" if not failures else "fail: " + "; ".join(failures))
    args.metrics_out.parent.mkdir(parents=True, exist_ok=True)
    args.metrics_out.write_text(json.dumps(metrics, indent=2))
    if args.passed_out:
        args.passed_out.parent.mkdir(parents=True, exist_ok=True)
        args.passed_out.write_text("true" if not failures else "false")
    print(json.dumps(metrics, indent=2))
    if failures and args.fail:
        sys.exit("release criteria not met: " + "; ".join(failures))


if __name__ == "__main__":
    main()
