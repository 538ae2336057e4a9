"""Card-payment fraud detection: features, model, training, evaluation and registration."""

MODEL_NAME = "fraud-detector"
