"""Clean the nightly listings export into the training table (DVC stage `prepare`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

from src.features import build_features


def clean(raw: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Drop duplicates, test listings and implausible prices or mileages."""
    listings = raw.drop_duplicates("listing_id").dropna(subset=["price_eur", "make", "model"])
    listings = listings[
        listings["price_eur"].between(params["min_price_eur"], params["max_price_eur"])
        & (listings["mileage_km"] <= params["max_mileage_km"])
    ]
    year = pd.to_numeric(listings["first_registration"].str[:4], errors="coerce")
    return listings[year >= params["oldest_registration_year"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    params = yaml.safe_load(args.params.read_text())["prepare"]
    listings = clean(pd.read_csv(args.raw, dtype={"postcode": str}), params)
    table = build_features(listings)
    table["price_eur"] = listings["price_eur"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(args.out, index=False)
    print(f"{len(table)} listings written to {args.out}")


if __name__ == "__main__":
    main()
