"""Calendar, price and lag features per store and SKU (shared by training and scoring)."""

from __future__ import annotations

import pandas as pd

KEYS = ["store_id", "sku"]
LAGS = [7, 14, 28]  # days; the forecast is made 1-7 days ahead, so lag 7 is the shortest safe one
WINDOWS = [7, 28]
FEATURES = [
    "day_of_week",
    "week_of_year",
    "month",
    "is_holiday",
    "on_promo",
    "price_eur",
    "price_vs_median",
    "temperature_c",
    *[f"units_lag_{lag}" for lag in LAGS],
    *[f"units_mean_{window}" for window in WINDOWS],
]
TARGET = "units_sold"


def add_calendar(frame: pd.DataFrame) -> pd.DataFrame:
    dates = pd.to_datetime(frame["date"])
    frame["day_of_week"] = dates.dt.day_of_week
    frame["week_of_year"] = dates.dt.isocalendar().week.astype(int)
    frame["month"] = dates.dt.month
    return frame


def add_price(frame: pd.DataFrame) -> pd.DataFrame:
    median = frame.groupby(KEYS)["price_eur"].transform("median")
    frame["price_vs_median"] = (frame["price_eur"] / median).fillna(1.0)
    return frame


def add_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Lagged sales and rolling means, computed per series on history only (no leakage)."""
    frame = frame.sort_values([*KEYS, "date"])
    by_series = frame.groupby(KEYS, sort=False)["units_sold"]
    for lag in LAGS:
        frame[f"units_lag_{lag}"] = by_series.shift(lag)
    for window in WINDOWS:
        frame[f"units_mean_{window}"] = by_series.transform(
            lambda units, w=window: units.shift(7).rolling(w, min_periods=1).mean()
        )
    return frame


def build_features(sales: pd.DataFrame) -> pd.DataFrame:
    """Feature table for every (store, sku, date) row of daily sales."""
    frame = sales.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    frame = add_history(add_price(add_calendar(frame)))
    return frame.reset_index(drop=True)
