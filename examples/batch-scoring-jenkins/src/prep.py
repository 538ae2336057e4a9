"""Pipeline step `prep_data`: validate the sales history and build the training table.

python -m src.prep --sales <uri_folder of daily parquet> --min-weeks 26 --out <uri_folder>
"""

from __future__ import annotations

import argparse
from pathlib import Path

import great_expectations as gx
import pandas as pd

from src.features import FEATURES, KEYS, TARGET, build_features


def expectations() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="sales_daily")
    for column in ["date", "store_id", "sku", "units_sold", "price_eur"]:
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(column="units_sold", min_value=0))
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeBetween(column="price_eur", min_value=0.05, max_value=500)
    )
    suite.add_expectation(gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["date", "store_id", "sku"]))
    return suite


def validate(sales: pd.DataFrame) -> None:
    """Stop the pipeline when the daily sales load is broken (duplicates, gaps, negative units)."""
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("sales")
        .add_dataframe_asset("daily")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": sales})
    )
    result = batch.validate(expectations())
    if not result.success:
        failed = [r.expectation_config.type for r in result.results if not r.success]
        raise SystemExit(f"sales history failed validation: {', '.join(failed)}")


def load_sales(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("**/*.parquet")) or sorted(folder.glob("**/*.csv"))
    frames = [pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f) for f in files]
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=Path, required=True)
    parser.add_argument("--min-weeks", type=int, default=26)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    sales = load_sales(args.sales)
    validate(sales)
    days = sales.groupby(KEYS)["date"].nunique()
    long_enough = days[days >= args.min_weeks * 7].index
    sales = sales.set_index(KEYS).loc[long_enough].reset_index()
    table = build_features(sales).dropna(subset=["units_lag_7"])
    args.out.mkdir(parents=True, exist_ok=True)
    table[["date", *KEYS, *FEATURES, TARGET]].to_parquet(args.out / "features.parquet", index=False)
    print(f"{len(long_enough)} series, {len(table)} rows written to {args.out}")


if __name__ == "__main__":
    main()
