"""Feature engineering shared by training and the scoring API."""

from __future__ import annotations

from datetime import date

import pandas as pd

CATEGORICAL = ["make", "model", "fuel", "gearbox"]
NUMERIC = ["age_years", "mileage_km", "km_per_year", "power_kw", "owners"]
FEATURES = CATEGORICAL + NUMERIC


def age_in_years(first_registration: pd.Series, today: date | None = None) -> pd.Series:
    """Age of the car from its first registration month (`YYYY-MM`), in years."""
    today = today or date.today()
    registered = pd.to_datetime(first_registration, format="%Y-%m", errors="coerce")
    months = (today.year - registered.dt.year) * 12 + (today.month - registered.dt.month)
    return (months / 12).clip(lower=0).round(2)


def build_features(listings: pd.DataFrame, today: date | None = None) -> pd.DataFrame:
    """The model's input columns, from raw listing attributes."""
    frame = pd.DataFrame(index=listings.index)
    for column in CATEGORICAL:
        frame[column] = listings[column].astype(str).str.strip().str.lower()
    frame["age_years"] = age_in_years(listings["first_registration"], today)
    frame["mileage_km"] = listings["mileage_km"].astype(float)
    # a car registered this month has age 0: count it as one month on the road
    frame["km_per_year"] = frame["mileage_km"] / frame["age_years"].clip(lower=1 / 12)
    frame["power_kw"] = listings["power_kw"].astype(float)
    frame["owners"] = listings["owners"].fillna(1).astype(int)
    return frame[FEATURES]
