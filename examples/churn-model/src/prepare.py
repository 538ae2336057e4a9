"""Validate the raw customer snapshot and split it into train and holdout sets.

DVC stage `prepare`:

    python -m src.prepare --raw data/raw/customers.csv --out-dir data/prepared

The snapshot is checked against `RAW_SCHEMA` first: a broken export stops the pipeline
here instead of silently training a worse model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pandera as pa
import yaml

PLANS = ["basic", "plus", "family", "business"]
CONTRACTS = ["monthly", "annual", "two_year"]
PAYMENT_METHODS = ["card", "direct_debit", "invoice"]

RAW_SCHEMA = pa.DataFrameSchema(
    {
        "customer_id": pa.Column(str, unique=True),
        "snapshot_date": pa.Column("datetime64[ns]"),
        "signup_date": pa.Column("datetime64[ns]"),
        "plan": pa.Column(str, pa.Check.isin(PLANS)),
        "contract": pa.Column(str, pa.Check.isin(CONTRACTS)),
        "payment_method": pa.Column(str, pa.Check.isin(PAYMENT_METHODS)),
        "autopay": pa.Column(bool),
        "region": pa.Column(str),
        "monthly_charges": pa.Column(float, pa.Check.in_range(0, 500)),
        "data_gb_30d": pa.Column(float, pa.Check.ge(0)),
        "calls_30d": pa.Column(int, pa.Check.ge(0)),
        "support_tickets_90d": pa.Column(int, pa.Check.ge(0)),
        "late_payments_12m": pa.Column(int, pa.Check.in_range(0, 12)),
        "churned": pa.Column(int, pa.Check.isin([0, 1])),
    },
    checks=[
        pa.Check(lambda df: df["signup_date"] <= df["snapshot_date"], name="signup_before_snapshot"),
        pa.Check(lambda df: df["snapshot_date"].nunique() == 1, name="single_snapshot"),
    ],
    coerce=True,
)


def load_snapshot(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, parse_dates=["snapshot_date", "signup_date"])
    return RAW_SCHEMA.validate(raw, lazy=True)


def split(customers: pd.DataFrame, holdout_percent: int, salt: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holdout by a hash of the customer id: a customer stays on the same side every week."""
    buckets = pd.util.hash_pandas_object(customers["customer_id"] + salt, index=False) % 100
    holdout = buckets < holdout_percent
    return customers[~holdout], customers[holdout]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    params = yaml.safe_load(args.params.read_text())["prepare"]
    customers = load_snapshot(args.raw)
    train, holdout = split(customers, params["holdout_percent"], params["split_salt"])
    args.out_dir.mkdir(parents=True, exist_ok=True)
    train.to_parquet(args.out_dir / "train.parquet", index=False)
    holdout.to_parquet(args.out_dir / "holdout.parquet", index=False)
    print(
        f"snapshot {customers['snapshot_date'].iloc[0]:%Y-%m-%d}: "
        f"{len(train)} train / {len(holdout)} holdout customers, churn rate {customers['churned'].mean():.1%}"
    )


if __name__ == "__main__":
    main()
