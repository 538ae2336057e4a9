from datetime import date

import pandas as pd

from src.features import FEATURES, age_in_years, build_features
from src.prepare import clean

PARAMS = {"min_price_eur": 500, "max_price_eur": 250000, "max_mileage_km": 600000,
          "oldest_registration_year": 1995}


def test_age_counts_months_since_first_registration():
    ages = age_in_years(pd.Series(["2020-01", "2024-07", "not-a-date"]), today=date(2025, 1, 15))
    assert ages.tolist()[:2] == [5.0, 0.5]
    assert pd.isna(ages.iloc[2])


def test_new_cars_do_not_divide_by_zero():
    frame = pd.DataFrame({"make": ["BMW "], "model": ["x3"], "fuel": ["diesel"], "gearbox": ["automatic"],
                          "first_registration": ["2025-01"], "mileage_km": [800], "power_kw": [140],
                          "owners": [None]})
    features = build_features(frame, today=date(2025, 1, 20))
    assert features.loc[0, "km_per_year"] == 800 * 12
    assert features.loc[0, "make"] == "bmw"
    assert features.loc[0, "owners"] == 1


def test_features_have_the_model_columns_in_order(listings):
    assert list(build_features(listings).columns) == FEATURES


def test_clean_drops_implausible_listings(listings):
    broken = pd.concat([listings, listings.head(1).assign(listing_id=1, price_eur=10)])
    cleaned = clean(broken, PARAMS)
    assert 1 not in set(cleaned["listing_id"])
    assert cleaned["listing_id"].is_unique
