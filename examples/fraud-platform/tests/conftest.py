import numpy as np
import pandas as pd
import pytest

from fraud_detection.schema import CATEGORICAL, LABEL, NUMERIC, SENSITIVE


@pytest.fixture(scope="session")
def transactions() -> pd.DataFrame:
    """2,000 synthetic scored transactions: fraud is large, fast and cross-border."""
    rng = np.random.default_rng(7)
    n = 2000
    fraud = rng.random(n) < 0.05
    frame = pd.DataFrame(
        {
            "merchant_category": rng.choice(["5411", "5812", "5999", "7995"], n),
            "card_country": rng.choice(["DE", "FR", "NL", "US"], n),
            "channel": rng.choice(["ecom", "pos"], n),
            "entry_mode": rng.choice(["chip", "contactless", "manual"], n),
            "amount_eur": np.where(fraud, rng.gamma(4, 120, n), rng.gamma(2, 30, n)),
            "hour_of_day": rng.integers(0, 24, n),
            "is_cross_border": (fraud & (rng.random(n) < 0.7)).astype(int),
            "card_txn_count_1h": np.where(fraud, rng.poisson(4, n), rng.poisson(0.3, n)),
            "card_txn_count_24h": rng.poisson(3, n),
            "card_amount_sum_24h": rng.gamma(2, 60, n),
            "card_distinct_merchants_24h": rng.poisson(2, n),
            "card_amount_vs_30d_mean": rng.gamma(2, 0.5, n),
            "merchant_chargeback_rate_90d": rng.beta(1, 200, n),
            "merchant_txn_count_7d": rng.poisson(400, n),
            LABEL: fraud.astype(int),
            "customer_age_band": rng.choice(["18-25", "26-40", "41-65", "65+"], n),
            "card_country_group": rng.choice(["domestic", "eea", "other"], n),
        }
    )
    frame["log_amount"] = np.log1p(frame["amount_eur"])
    assert set(CATEGORICAL + NUMERIC + SENSITIVE) <= set(frame.columns)
    return frame
