"""Columns of the training table and of a scoring request (one place for both)."""

CATEGORICAL = ["merchant_category", "card_country", "channel", "entry_mode"]
NUMERIC = [
    "amount_eur",
    "log_amount",
    "hour_of_day",
    "is_cross_border",
    "card_txn_count_1h",
    "card_txn_count_24h",
    "card_amount_sum_24h",
    "card_distinct_merchants_24h",
    "card_amount_vs_30d_mean",
    "merchant_chargeback_rate_90d",
    "merchant_txn_count_7d",
]
LABEL = "is_fraud"
# Groups the fairness check compares (never model inputs).
SENSITIVE = ["customer_age_band", "card_country_group"]

# Score above which an authorisation goes to manual review (fraud operations' capacity).
DECISION_THRESHOLD = 0.35
