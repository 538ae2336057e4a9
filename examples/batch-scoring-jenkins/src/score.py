"""Batch scoring script of the `demand-forecast-batch` endpoint (Azure ML init/run contract).

Each mini-batch is a list of parquet files with the recent daily sales of some stores
(the nightly job passes the last 35 days, enough for the lag features). `run` returns one
row per store, SKU and forecast day; the deployment appends them to forecasts.csv.
"""

from __future__ import annotations

import logging
import os

import mlflow.pyfunc
import pandas as pd

from src.features import FEATURES, KEYS, build_features

HORIZON_DAYS = 7
log = logging.getLogger(__name__)
model = None


def init() -> None:
    global model
    model_dir = os.environ["AZUREML_MODEL_DIR"]
    model_path = next((os.path.join(model_dir, d) for d in os.listdir(model_dir)), model_dir)
    model = mlflow.pyfunc.load_model(model_path)
    log.info("demand model loaded from %s", model_path)


def future_rows(sales: pd.DataFrame) -> pd.DataFrame:
    """Rows to forecast: the next HORIZON_DAYS days of every series, prices held constant."""
    last = sales.sort_values("date").groupby(KEYS).tail(1)
    days = []
    for ahead in range(1, HORIZON_DAYS + 1):
        day = last.copy()
        day["date"] = pd.to_datetime(day["date"]) + pd.Timedelta(days=ahead)
        day[["units_sold", "on_promo", "is_holiday"]] = [float("nan"), 0, 0]
        days.append(day)
    return pd.concat(days, ignore_index=True)


def forecast(sales: pd.DataFrame, predictor) -> pd.DataFrame:
    sales = sales.assign(date=pd.to_datetime(sales["date"]))
    table = build_features(pd.concat([sales, future_rows(sales)], ignore_index=True))
    ahead = table[table["units_sold"].isna()].copy()
    ahead["forecast_units"] = predictor.predict(ahead[KEYS + FEATURES]).clip(min=0).round(1)
    return ahead[["date", *KEYS, "forecast_units"]]


def run(mini_batch: list[str]) -> pd.DataFrame:
    sales = pd.concat([pd.read_parquet(path) for path in mini_batch], ignore_index=True)
    result = forecast(sales, model)
    log.info("scored %d series from %d files", result.groupby(KEYS).ngroups, len(mini_batch))
    return result
