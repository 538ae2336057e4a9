from types import SimpleNamespace

import joblib

from src.features import featurize
from src.serve import ChurnModel, risk_band
from src.train import train_model


def test_risk_bands():
    assert [risk_band(p) for p in (0.95, 0.6, 0.45, 0.1)] == ["high", "high", "medium", "low"]


def test_pyfunc_scores_raw_customers(tmp_path, customers, train_params):
    path = tmp_path / "model.joblib"
    joblib.dump(train_model(featurize(customers), train_params), path)
    model = ChurnModel()
    model.load_context(SimpleNamespace(artifacts={"classifier": str(path)}))

    raw = customers.drop(columns=["churned"]).head(5)
    scored = model.predict(None, raw)
    assert scored["customer_id"].tolist() == raw["customer_id"].tolist()
    assert scored["churn_probability"].between(0, 1).all()
    assert set(scored["risk_band"]) <= {"high", "medium", "low"}
