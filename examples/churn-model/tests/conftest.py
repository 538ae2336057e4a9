from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "customers_sample.csv"

PARAMS = {
    "learning_rate": 0.1,
    "max_iter": 50,
    "max_depth": 3,
    "l2_regularization": 1.0,
    "cv_folds": 3,
    "seed": 42,
}


@pytest.fixture
def customers() -> pd.DataFrame:
    """80 anonymised customers from the 2025-12 snapshot (20 churned)."""
    return pd.read_csv(SAMPLE, parse_dates=["snapshot_date", "signup_date"])


@pytest.fixture
def train_params() -> dict:
    return dict(PARAMS)
