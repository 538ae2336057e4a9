"""Card and merchant aggregates for training, computed with Spark over the transaction log.

    spark-submit src/fraud_detection/features/spark_aggregates.py \
        --transactions gs://risk-lake/curated/transactions/ --labels gs://risk-lake/curated/chargebacks/ \
        --snapshot-date 2025-11-30 --out gs://risk-ml-features/training/2025-11-30/

The same aggregates are materialised into the Feast online store (feature_repo/) for
serving; the point-in-time windows here match the FeatureView definitions there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

HOUR = 3600
DAY = 24 * HOUR


def _card_window(seconds: int) -> Window:
    return (
        Window.partitionBy("card_id")
        .orderBy(F.col("event_ts").cast("long"))
        .rangeBetween(-seconds, -1)  # strictly before the transaction: no leakage of itself
    )


def card_velocity(transactions: DataFrame) -> DataFrame:
    w1h, w24h, w30d = _card_window(HOUR), _card_window(DAY), _card_window(30 * DAY)
    return (
        transactions.withColumn("card_txn_count_1h", F.count("*").over(w1h))
        .withColumn("card_txn_count_24h", F.count("*").over(w24h))
        .withColumn("card_amount_sum_24h", F.coalesce(F.sum("amount_eur").over(w24h), F.lit(0.0)))
        .withColumn("card_distinct_merchants_24h", F.size(F.collect_set("merchant_id").over(w24h)))
        .withColumn(
            "card_amount_vs_30d_mean",
            F.col("amount_eur") / F.greatest(F.avg("amount_eur").over(w30d), F.lit(1.0)),
        )
    )


def merchant_risk(transactions: DataFrame, chargebacks: DataFrame) -> DataFrame:
    """Chargeback rate of the merchant over the 90 days before each day (labels arrive late)."""
    daily = (
        transactions.join(
            chargebacks.select("transaction_id", F.lit(1).alias("charged_back")), "transaction_id", "left"
        )
        .groupBy("merchant_id", F.to_date("event_ts").alias("day"))
        .agg(F.count("*").alias("txns"), F.sum(F.coalesce("charged_back", F.lit(0))).alias("chargebacks"))
    )
    w90 = (
        Window.partitionBy("merchant_id")
        .orderBy(F.col("day").cast("timestamp").cast("long"))
        .rangeBetween(-90 * DAY, -DAY)
    )
    w7 = (
        Window.partitionBy("merchant_id")
        .orderBy(F.col("day").cast("timestamp").cast("long"))
        .rangeBetween(-7 * DAY, -DAY)
    )
    return daily.select(
        "merchant_id",
        "day",
        (F.sum("chargebacks").over(w90) / F.greatest(F.sum("txns").over(w90), F.lit(1))).alias(
            "merchant_chargeback_rate_90d"
        ),
        F.coalesce(F.sum("txns").over(w7), F.lit(0)).alias("merchant_txn_count_7d"),
    )


def training_table(transactions: DataFrame, chargebacks: DataFrame) -> DataFrame:
    enriched = card_velocity(transactions).withColumn("day", F.to_date("event_ts"))
    labelled = enriched.join(
        chargebacks.select("transaction_id", F.lit(1).alias("is_fraud")), "transaction_id", "left"
    ).fillna({"is_fraud": 0})
    return (
        labelled.join(merchant_risk(transactions, chargebacks), ["merchant_id", "day"], "left")
        .fillna({"merchant_chargeback_rate_90d": 0.0, "merchant_txn_count_7d": 0})
        .withColumn("log_amount", F.log1p("amount_eur"))
        .withColumn("hour_of_day", F.hour("event_ts"))
        .withColumn("is_cross_border", (F.col("card_country") != F.col("merchant_country")).cast("int"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--snapshot-date", required=True)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--out", required=True)
    parser.add_argument("--uri-out", help="file to write the output location to (pipeline output)")
    args = parser.parse_args()

    spark = SparkSession.builder.appName("fraud-training-features").getOrCreate()
    end = F.to_date(F.lit(args.snapshot_date))
    transactions = spark.read.parquet(args.transactions).where(
        (F.to_date("event_ts") > F.date_sub(end, args.days)) & (F.to_date("event_ts") <= end)
    )
    chargebacks = spark.read.parquet(args.labels)
    table = training_table(transactions, chargebacks)
    # the last 14 days are the holdout: the time split mirrors how the model is used
    holdout_start = F.date_sub(end, 14)
    table.where(F.col("day") <= holdout_start).write.mode("overwrite").parquet(f"{args.out}/train")
    table.where(F.col("day") > holdout_start).write.mode("overwrite").parquet(f"{args.out}/holdout")
    spark.stop()
    if args.uri_out:
        Path(args.uri_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.uri_out).write_text(args.out)


if __name__ == "__main__":
    main()
