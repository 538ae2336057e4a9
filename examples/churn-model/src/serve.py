"""The scoring model: an MLflow pyfunc that turns raw customer attributes into churn risk.

`src.train` logs it with the fitted pipeline as an artifact; KServe serves the registered
version through its MLflow runtime (deploy/inference-service.yaml), so the features are
computed by the same code in training and in production.
"""

from __future__ import annotations

import joblib
import mlflow.pyfunc
import numpy as np
import pandas as pd

from src.features import FEATURES, build_features

# Bands agreed with the retention team: "high" customers get a call within two days.
RISK_BANDS = [(0.6, "high"), (0.3, "medium"), (0.0, "low")]


def risk_band(probability: float) -> str:
    return next(label for floor, label in RISK_BANDS if probability >= floor)


class ChurnModel(mlflow.pyfunc.PythonModel):
    """Churn probability and risk band per customer."""

    def load_context(self, context) -> None:
        self.classifier = joblib.load(context.artifacts["classifier"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        features = build_features(model_input)
        probability = self.classifier.predict_proba(features[FEATURES])[:, 1]
        return pd.DataFrame(
            {
                "customer_id": model_input["customer_id"].to_numpy(),
                "churn_probability": np.round(probability, 4),
                "risk_band": [risk_band(p) for p in probability],
            }
        )
