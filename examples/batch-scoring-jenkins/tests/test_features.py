import pandas as pd

from src.features import FEATURES, build_features


def test_lags_never_look_at_the_same_or_future_days(sales):
    table = build_features(sales)
    milk = table[(table["store_id"] == "S014") & (table["sku"] == "MILK-1L")].reset_index(drop=True)
    assert milk["units_lag_7"].iloc[:7].isna().all()
    assert milk.loc[7, "units_lag_7"] == milk.loc[0, "units_sold"]
    assert milk.loc[8, "units_mean_7"] == milk.loc[:1, "units_sold"].mean()


def test_series_do_not_leak_into_each_other(sales):
    table = build_features(sales)
    first_days = table.groupby(["store_id", "sku"]).head(7)
    assert first_days["units_lag_7"].isna().all()


def test_price_relative_to_the_series_median(sales):
    table = build_features(sales)
    promo = table[table["on_promo"] == 1].iloc[0]
    assert promo["price_vs_median"] < 1


def test_calendar_features(sales):
    table = build_features(sales.head(1).assign(date=pd.Timestamp("2025-09-21")))
    assert table.loc[0, ["day_of_week", "week_of_year", "month"]].tolist() == [6, 38, 9]


def test_feature_columns_exist(sales):
    assert set(FEATURES) <= set(build_features(sales).columns)
