"""Price suggestion API used by the listing form.

    gunicorn --bind 0.0.0.0:8080 "app:create_app()"
"""

from __future__ import annotations

import logging
import os

import joblib
import numpy as np
import pandas as pd
from flask import Flask, jsonify, request

from src.features import build_features

REQUIRED = ["make", "model", "first_registration", "mileage_km", "fuel", "gearbox", "power_kw"]
# the holdout MAPE of the current model is ~9%: show sellers a range of about that width
PRICE_BAND = 0.09

log = logging.getLogger("price-api")


def create_app(model_path: str | None = None) -> Flask:
    app = Flask(__name__)
    model_path = model_path or os.environ.get("MODEL_PATH", "/app/models/price_model.joblib")
    model = joblib.load(model_path)
    log.info("loaded price model from %s", model_path)

    @app.get("/health")
    def health():
        return {"status": "ok", "model": os.path.basename(model_path)}

    @app.post("/predict")
    def predict():
        payload = request.get_json(silent=True)
        listings = payload if isinstance(payload, list) else [payload] if payload else []
        if not listings:
            return jsonify(error="expected a JSON object or a list of objects"), 400
        missing = sorted({f for item in listings for f in REQUIRED if item.get(f) in (None, "")})
        if missing:
            return jsonify(error=f"missing fields: {', '.join(missing)}"), 422
        frame = pd.DataFrame(listings)
        frame["owners"] = frame.get("owners", 1)
        prices = np.exp(model.predict(build_features(frame)))
        return jsonify(
            [
                {
                    "price_eur": int(round(p, -1)),
                    "low_eur": int(round(p * (1 - PRICE_BAND), -1)),
                    "high_eur": int(round(p * (1 + PRICE_BAND), -1)),
                }
                for p in prices
            ]
        )

    return app
