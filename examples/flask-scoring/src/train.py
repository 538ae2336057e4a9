"""Train the price model on the prepared listings table.

    python -m src.train --data data/prepared/listings.parquet --out models/price_model.joblib
"""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_percentage_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from src.features import CATEGORICAL, FEATURES


def build_model() -> Pipeline:
    encode = ColumnTransformer(
        [("categories", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
          CATEGORICAL)],
        remainder="passthrough",
    )
    regressor = HistGradientBoostingRegressor(
        loss="absolute_error", max_iter=400, learning_rate=0.05, max_leaf_nodes=31,
        categorical_features=list(range(len(CATEGORICAL))), random_state=7,
    )
    return Pipeline([("encode", encode), ("regressor", regressor)])


def train(table: pd.DataFrame) -> tuple[Pipeline, float]:
    """Fit on log prices; return the model and its holdout MAPE."""
    features, target = table[FEATURES], np.log(table["price_eur"])
    x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.2,
                                                        random_state=7)
    model = build_model()
    model.fit(x_train, y_train)
    mape = mean_absolute_percentage_error(np.exp(y_test), np.exp(model.predict(x_test)))
    model.fit(features, target)  # final model on everything
    return model, float(mape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/prepared/listings.parquet"))
    parser.add_argument("--out", type=Path, default=Path("models/price_model.joblib"))
    args = parser.parse_args()

    model, mape = train(pd.read_parquet(args.data))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.out)
    print(f"holdout MAPE {mape:.1%}; model written to {args.out}")


if __name__ == "__main__":
    main()
