import joblib
import numpy as np
import pytest

from app import create_app
from src.features import build_features
from src.train import build_model


@pytest.fixture
def client(tmp_path, listings):
    model = build_model().fit(build_features(listings), np.log(listings["price_eur"]))
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return create_app(str(path)).test_client()


def test_predict_returns_a_price_range(client):
    car = {"make": "volkswagen", "model": "golf", "first_registration": "2018-04", "mileage_km": 84000,
           "fuel": "petrol", "gearbox": "manual", "power_kw": 85, "owners": 1}
    response = client.post("/predict", json=car)
    assert response.status_code == 200
    [price] = response.get_json()
    assert price["low_eur"] < price["price_eur"] < price["high_eur"]


def test_missing_fields_are_rejected(client):
    response = client.post("/predict", json={"make": "ford"})
    assert response.status_code == 422
    assert "mileage_km" in response.get_json()["error"]
