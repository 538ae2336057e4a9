"""Feature engineering, shared by training (DVC stage `featurize`) and the scoring model.

python -m src.features --in-dir data/prepared --out-dir data/features
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

CATEGORICAL = ["plan", "contract", "payment_method", "region"]
NUMERIC = [
    "tenure_months",
    "monthly_charges",
    "data_gb_30d",
    "charges_per_gb",
    "calls_30d",
    "support_tickets_90d",
    "tickets_per_year_of_tenure",
    "late_payments_12m",
    "autopay",
    "low_usage",
]
FEATURES = CATEGORICAL + NUMERIC
TARGET = "churned"
LOW_USAGE_GB = 2.0  # below this a customer barely uses the line: strong churn signal


def tenure_months(signup_date: pd.Series, snapshot_date: pd.Series) -> pd.Series:
    """Whole months between signup and snapshot (a customer who signed up this month has 0)."""
    signup = pd.to_datetime(signup_date)
    snapshot = pd.to_datetime(snapshot_date)
    months = (snapshot.dt.year - signup.dt.year) * 12 + (snapshot.dt.month - signup.dt.month)
    return months.clip(lower=0).astype(int)


def build_features(customers: pd.DataFrame) -> pd.DataFrame:
    """The model's inputs from raw customer attributes (one row per customer, same index)."""
    frame = pd.DataFrame(index=customers.index)
    for column in CATEGORICAL:
        frame[column] = customers[column].astype(str).str.strip().str.lower()
    frame["tenure_months"] = tenure_months(customers["signup_date"], customers["snapshot_date"])
    frame["monthly_charges"] = customers["monthly_charges"].astype(float)
    frame["data_gb_30d"] = customers["data_gb_30d"].astype(float)
    # 0.1 GB floor: a customer with no data use would otherwise get an infinite ratio
    frame["charges_per_gb"] = frame["monthly_charges"] / np.maximum(frame["data_gb_30d"], 0.1)
    frame["calls_30d"] = customers["calls_30d"].astype(int)
    frame["support_tickets_90d"] = customers["support_tickets_90d"].astype(int)
    years = np.maximum(frame["tenure_months"], 1) / 12
    frame["tickets_per_year_of_tenure"] = customers["support_tickets_90d"] * 4 / np.maximum(years, 1)
    frame["late_payments_12m"] = customers["late_payments_12m"].astype(int)
    frame["autopay"] = customers["autopay"].astype(str).str.lower().isin(["true", "1", "yes"]).astype(int)
    frame["low_usage"] = (frame["data_gb_30d"] < LOW_USAGE_GB).astype(int)
    return frame[FEATURES]


def featurize(prepared: pd.DataFrame) -> pd.DataFrame:
    """Feature table with the customer id and the label, as training and evaluation read it."""
    table = build_features(prepared)
    table.insert(0, "customer_id", prepared["customer_id"].to_numpy())
    table[TARGET] = prepared[TARGET].to_numpy()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in-dir", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("train", "holdout"):
        table = featurize(pd.read_parquet(args.in_dir / f"{name}.parquet"))
        table.to_parquet(args.out_dir / f"{name}.parquet", index=False)
        print(f"{name}: {len(table)} rows, {len(FEATURES)} features")


if __name__ == "__main__":
    main()
