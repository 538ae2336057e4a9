"""Customer churn model: data preparation, features, training, evaluation, registration, serving."""
