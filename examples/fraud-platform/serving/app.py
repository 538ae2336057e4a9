"""Real-time fraud scoring service (KServe custom predictor container, port 8080).

POST /v1/models/fraud-detector:predict with a batch of authorisation requests; card and
merchant aggregates come from the Feast online store, the model is the registered
version behind MODEL_ALIAS. Prometheus metrics on /metrics feed the alert rules and the
Grafana dashboard in monitoring/.
"""

from __future__ import annotations

import logging
import math
import os
import time

import mlflow
import mlflow.pytorch
import pandas as pd
import torch
from fastapi import FastAPI, HTTPException
from feast import FeatureStore
from prometheus_client import Counter, Gauge, Histogram, make_asgi_app
from pydantic import BaseModel, Field

from fraud_detection import MODEL_NAME
from fraud_detection.data import Encoding
from fraud_detection.schema import DECISION_THRESHOLD

MODEL_ALIAS = os.environ.get("MODEL_ALIAS", "champion")
FEATURE_REFS = [
    "card_velocity:card_txn_count_1h",
    "card_velocity:card_txn_count_24h",
    "card_velocity:card_amount_sum_24h",
    "card_velocity:card_distinct_merchants_24h",
    "card_velocity:card_amount_vs_30d_mean",
    "merchant_risk:merchant_chargeback_rate_90d",
    "merchant_risk:merchant_txn_count_7d",
]

PREDICTIONS = Counter("fraud_predictions_total", "Scored authorisations", ["model_version", "decision"])
LATENCY = Histogram(
    "fraud_prediction_latency_seconds",
    "Time to score a request batch, feature lookup included",
    ["model_version"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0),
)
SCORES = Histogram(
    "fraud_score", "Distribution of fraud scores", ["model_version"], buckets=[i / 20 for i in range(1, 20)]
)
MISSING_FEATURES = Counter("fraud_feature_missing_total", "Online features missing at scoring time", ["feature"])
MODEL_INFO = Gauge("fraud_model_info", "Model version being served", ["model_version", "alias"])

log = logging.getLogger("fraud-scoring")


class Authorisation(BaseModel):
    transaction_id: str
    card_id: str
    merchant_id: str
    amount_eur: float = Field(ge=0)
    merchant_category: str
    card_country: str
    merchant_country: str
    channel: str
    entry_mode: str
    event_ts: float  # epoch seconds


class PredictRequest(BaseModel):
    instances: list[Authorisation]


def load_model() -> tuple[torch.jit.ScriptModule, Encoding, str]:
    version = mlflow.MlflowClient().get_model_version_by_alias(MODEL_NAME, MODEL_ALIAS)
    model = mlflow.pytorch.load_model(f"models:/{MODEL_NAME}/{version.version}")
    vocabularies = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/encoding/vocabularies.json")
    return model, Encoding(vocabularies, None, None), version.version


app = FastAPI(title="fraud-scoring")
app.mount("/metrics", make_asgi_app())
store = FeatureStore(repo_path=os.environ.get("FEAST_REPO", "/app/feature_repo"))
model, encoding, model_version = load_model()
MODEL_INFO.labels(model_version=model_version, alias=MODEL_ALIAS).set(1)


def build_frame(instances: list[Authorisation]) -> pd.DataFrame:
    frame = pd.DataFrame([i.model_dump() for i in instances])
    online = store.get_online_features(
        features=FEATURE_REFS,
        entity_rows=[{"card_id": i.card_id, "merchant_id": i.merchant_id} for i in instances],
    ).to_df()
    for column in online.columns.drop(["card_id", "merchant_id"], errors="ignore"):
        missing = int(online[column].isna().sum())
        if missing:
            MISSING_FEATURES.labels(feature=column).inc(missing)
        frame[column] = online[column].fillna(0).to_numpy()
    frame["log_amount"] = frame["amount_eur"].map(math.log1p)
    frame["hour_of_day"] = pd.to_datetime(frame["event_ts"], unit="s").dt.hour
    frame["is_cross_border"] = (frame["card_country"] != frame["merchant_country"]).astype(int)
    return frame


@app.get("/v1/models/fraud-detector")
def ready() -> dict:
    return {"name": MODEL_NAME, "ready": True, "version": model_version}


@app.post("/v1/models/fraud-detector:predict")
def predict(request: PredictRequest) -> dict:
    if not request.instances:
        raise HTTPException(status_code=422, detail="no instances")
    started = time.perf_counter()
    frame = build_frame(request.instances)
    with torch.no_grad():
        scores = model(encoding.categorical(frame), encoding.numeric(frame)).numpy()
    LATENCY.labels(model_version=model_version).observe(time.perf_counter() - started)
    results = []
    for instance, value in zip(request.instances, scores, strict=True):
        decision = "review" if value >= DECISION_THRESHOLD else "approve"
        PREDICTIONS.labels(model_version=model_version, decision=decision).inc()
        SCORES.labels(model_version=model_version).observe(float(value))
        results.append(
            {"transaction_id": instance.transaction_id, "score": round(float(value), 5), "decision": decision}
        )
    return {"model_version": model_version, "predictions": results}
