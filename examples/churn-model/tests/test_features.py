import pandas as pd
import pytest

from src.features import FEATURES, TARGET, build_features, featurize, tenure_months


def test_tenure_counts_whole_months():
    signup = pd.Series(["2024-12-31", "2025-01-01", "2025-12-20"])
    snapshot = pd.Series(["2025-12-31"] * 3)
    assert tenure_months(signup, snapshot).tolist() == [12, 11, 0]


def test_signup_after_snapshot_is_not_negative_tenure():
    assert tenure_months(pd.Series(["2026-02-01"]), pd.Series(["2025-12-31"])).tolist() == [0]


def test_no_data_use_does_not_divide_by_zero(customers):
    customers.loc[0, "data_gb_30d"] = 0.0
    features = build_features(customers)
    assert features.loc[0, "charges_per_gb"] == pytest.approx(customers.loc[0, "monthly_charges"] / 0.1)
    assert features.loc[0, "low_usage"] == 1


def test_categories_are_normalised(customers):
    customers.loc[0, "plan"] = " Family "
    assert build_features(customers).loc[0, "plan"] == "family"


def test_autopay_accepts_strings_and_booleans(customers):
    customers["autopay"] = customers["autopay"].astype(object)
    customers.loc[0, "autopay"] = "TRUE"
    customers.loc[1, "autopay"] = False
    features = build_features(customers)
    assert features.loc[0, "autopay"] == 1
    assert features.loc[1, "autopay"] == 0


def test_feature_table_has_id_features_and_label(customers):
    table = featurize(customers)
    assert list(table.columns) == ["customer_id", *FEATURES, TARGET]
    assert len(table) == len(customers)
    assert table[FEATURES].notna().all().all()
