"""SHAP explanation of a candidate: which features drive its fraud scores on the holdout.

    python -m fraud_detection.explain --run-id <mlflow run> --holdout gs://.../holdout --sample 2000

Logs a summary plot and the mean |SHAP| per feature to the run; fraud operations read
it in the release review, and the model card's "main drivers" come from it.
"""

from __future__ import annotations

import argparse

import matplotlib.pyplot as plt
import mlflow
import mlflow.pytorch
import numpy as np
import pandas as pd
import shap
import torch

from fraud_detection.data import Encoding
from fraud_detection.schema import NUMERIC


def explain(run_id: str, holdout: pd.DataFrame, sample: int) -> pd.Series:
    model = mlflow.pytorch.load_model(f"runs:/{run_id}/model")
    vocabularies = mlflow.artifacts.load_dict(f"runs:/{run_id}/encoding/vocabularies.json")
    encoding = Encoding(vocabularies, np.zeros(0), np.ones(0))
    rows = holdout.sample(min(sample, len(holdout)), random_state=0)
    categorical = encoding.categorical(rows)

    def predict_numeric(values: np.ndarray) -> np.ndarray:
        # explain the numeric inputs; categorical columns are held at each row's own values
        with torch.no_grad():
            return model(categorical[: len(values)], torch.from_numpy(values.astype(np.float32))).numpy()

    numeric = rows[NUMERIC].to_numpy(dtype=np.float32)
    explainer = shap.KernelExplainer(predict_numeric, shap.kmeans(numeric, 25))
    values = explainer.shap_values(numeric, nsamples=200)
    shap.summary_plot(values, rows[NUMERIC], show=False)
    plt.tight_layout()
    mlflow.log_figure(plt.gcf(), "explain/shap_summary.png")
    return pd.Series(np.abs(values).mean(axis=0), index=NUMERIC).sort_values(ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--holdout", required=True)
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()

    with mlflow.start_run(run_id=args.run_id):
        importance = explain(args.run_id, pd.read_parquet(args.holdout), args.sample)
        mlflow.log_dict(importance.round(5).to_dict(), "explain/mean_abs_shap.json")
    print(importance.head(10).to_string())


if __name__ == "__main__":
    main()
