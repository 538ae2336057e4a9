"""Card and merchant features, served online to the scoring service and offline to training.

The windows match src/fraud_detection/features/spark_aggregates.py, which writes the
same aggregates to BigQuery; `feast materialize-incremental` (CI job, hourly schedule)
loads them into Redis.
"""

from datetime import timedelta

from feast import BigQuerySource, Entity, FeatureView, Field
from feast.types import Float32, Int64
from feast.value_type import ValueType

card = Entity(
    name="card", join_keys=["card_id"], value_type=ValueType.STRING, description="Payment card (tokenised PAN)"
)
merchant = Entity(
    name="merchant", join_keys=["merchant_id"], value_type=ValueType.STRING, description="Acquired merchant"
)

card_velocity_source = BigQuerySource(
    name="card_velocity_source",
    table="risk-ml-prod.risk_features.card_velocity",
    timestamp_field="event_ts",
    created_timestamp_column="computed_at",
)
merchant_risk_source = BigQuerySource(
    name="merchant_risk_source",
    table="risk-ml-prod.risk_features.merchant_risk_daily",
    timestamp_field="day_ts",
)

card_velocity = FeatureView(
    name="card_velocity",
    entities=[card],
    ttl=timedelta(hours=26),
    schema=[
        Field(name="card_txn_count_1h", dtype=Int64),
        Field(name="card_txn_count_24h", dtype=Int64),
        Field(name="card_amount_sum_24h", dtype=Float32),
        Field(name="card_distinct_merchants_24h", dtype=Int64),
        Field(name="card_amount_vs_30d_mean", dtype=Float32),
    ],
    source=card_velocity_source,
    online=True,
    tags={"owner": "risk-ml", "pii": "tokenised"},
)

merchant_risk = FeatureView(
    name="merchant_risk",
    entities=[merchant],
    ttl=timedelta(days=3),
    schema=[
        Field(name="merchant_chargeback_rate_90d", dtype=Float32),
        Field(name="merchant_txn_count_7d", dtype=Int64),
    ],
    source=merchant_risk_source,
    online=True,
    tags={"owner": "risk-ml"},
)
