"""Daily drift check of the scoring traffic against the training reference window.

    python monitoring/drift/drift_report.py --current gs://risk-ml-scoring-logs/date=2025-12-01/ \
        --reference data/reference/transactions_reference.parquet --report build/drift.html

Pushes one drift score per feature and a prediction-drift score to the Prometheus
Pushgateway (`evidently_feature_drift_score`, `evidently_prediction_drift_score`); the
alert rules in monitoring/prometheus/ fire on them and Alertmanager starts retraining.
"""

from __future__ import annotations

import argparse
import os

import pandas as pd
from evidently import Report
from evidently.metrics import ValueDrift
from evidently.presets import DataDriftPreset
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

MODEL = "fraud-detector"
MONITORED = [
    "amount_eur",
    "card_txn_count_1h",
    "card_txn_count_24h",
    "card_amount_sum_24h",
    "card_distinct_merchants_24h",
    "merchant_chargeback_rate_90d",
    "merchant_category",
    "channel",
]


def drift_scores(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[dict[str, float], float, object]:
    report = Report([DataDriftPreset(columns=MONITORED, method="wasserstein"), ValueDrift(column="score")])
    snapshot = report.run(reference_data=reference[[*MONITORED, "score"]], current_data=current[[*MONITORED, "score"]])
    values = {}
    for metric in snapshot.dict()["metrics"]:
        column = metric.get("config", {}).get("column")
        if column is not None and "value" in metric and isinstance(metric["value"], int | float):
            values[column] = float(metric["value"])
    prediction = values.pop("score", 0.0)
    return values, prediction, snapshot


def push(feature_scores: dict[str, float], prediction_score: float, gateway: str) -> None:
    registry = CollectorRegistry()
    feature_gauge = Gauge(
        "evidently_feature_drift_score",
        "Wasserstein drift of a feature vs. the reference",
        ["model", "feature"],
        registry=registry,
    )
    prediction_gauge = Gauge(
        "evidently_prediction_drift_score", "Drift of the score distribution", ["model"], registry=registry
    )
    for feature, value in feature_scores.items():
        feature_gauge.labels(model=MODEL, feature=feature).set(value)
    prediction_gauge.labels(model=MODEL).set(prediction_score)
    push_to_gateway(gateway, job="fraud-drift-report", registry=registry)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--current", required=True)
    parser.add_argument("--reference", default="data/reference/transactions_reference.parquet")
    parser.add_argument("--report", default="build/drift.html")
    parser.add_argument("--gateway", default=os.environ.get("PUSHGATEWAY_URL", "pushgateway.monitoring:9091"))
    args = parser.parse_args()

    features, prediction, snapshot = drift_scores(pd.read_parquet(args.reference), pd.read_parquet(args.current))
    os.makedirs(os.path.dirname(args.report) or ".", exist_ok=True)
    snapshot.save_html(args.report)
    push(features, prediction, args.gateway)
    worst = max(features, key=features.get)
    print(f"prediction drift {prediction:.3f}; worst feature {worst} {features[worst]:.3f}")


if __name__ == "__main__":
    main()
