"""The scoring service with the registry and Feast replaced by in-memory fakes."""

import sys
import types

import mlflow
import mlflow.artifacts
import mlflow.pytorch
import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient

from fraud_detection.data import Encoding
from fraud_detection.model import FraudNet, ScoringModule
from fraud_detection.schema import NUMERIC


class FakeStore:
    def __init__(self, repo_path: str) -> None:
        self.repo_path = repo_path

    def get_online_features(self, features, entity_rows):
        columns = {ref.split(":")[1]: [1.0] * len(entity_rows) for ref in features}
        columns["card_txn_count_1h"] = [None] * len(entity_rows)  # a cold card
        return types.SimpleNamespace(to_df=lambda: pd.DataFrame(columns))


@pytest.fixture(scope="module")
def client(transactions):
    """The app imported once (its Prometheus metrics are process-wide), with fakes patched in."""
    encoding = Encoding.fit(transactions)
    net = FraudNet(encoding.cardinalities(), numeric_features=len(NUMERIC)).eval()
    scoring = torch.jit.script(ScoringModule(net, torch.zeros(len(NUMERIC)), torch.ones(len(NUMERIC))))
    registry = types.SimpleNamespace(
        get_model_version_by_alias=lambda name, alias: types.SimpleNamespace(version="42", run_id="r1")
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlflow, "MlflowClient", lambda: registry)
        patch.setattr(mlflow.pytorch, "load_model", lambda uri: scoring)
        patch.setattr(mlflow.artifacts, "load_dict", lambda uri: encoding.vocabularies)
        patch.setitem(sys.modules, "feast", types.SimpleNamespace(FeatureStore=FakeStore))
        from serving import app as scoring_app

        yield TestClient(scoring_app.app)


def test_predict_scores_each_authorisation(client):
    payment = {
        "transaction_id": "t-1",
        "card_id": "c-9",
        "merchant_id": "m-3",
        "amount_eur": 129.9,
        "merchant_category": "5411",
        "card_country": "DE",
        "merchant_country": "FR",
        "channel": "ecom",
        "entry_mode": "manual",
        "event_ts": 1764547200.0,
    }
    response = client.post(
        "/v1/models/fraud-detector:predict", json={"instances": [payment, {**payment, "transaction_id": "t-2"}]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "42"
    assert [p["transaction_id"] for p in body["predictions"]] == ["t-1", "t-2"]
    assert all(0 <= p["score"] <= 1 and p["decision"] in ("approve", "review") for p in body["predictions"])


def test_metrics_count_predictions_and_missing_features(client):
    payment = {
        "transaction_id": "t-3",
        "card_id": "c-1",
        "merchant_id": "m-1",
        "amount_eur": 5.0,
        "merchant_category": "5812",
        "card_country": "NL",
        "merchant_country": "NL",
        "channel": "pos",
        "entry_mode": "chip",
        "event_ts": 1764547200.0,
    }
    client.post("/v1/models/fraud-detector:predict", json={"instances": [payment]})
    metrics = client.get("/metrics/").text
    assert "fraud_predictions_total{" in metrics
    assert 'fraud_feature_missing_total{feature="card_txn_count_1h"}' in metrics
    assert np.isfinite(float(metrics.split("fraud_prediction_latency_seconds_count")[1].split()[1]))


def test_empty_batches_are_rejected(client):
    assert client.post("/v1/models/fraud-detector:predict", json={"instances": []}).status_code == 422
