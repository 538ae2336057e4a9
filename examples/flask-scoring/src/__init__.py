"""Used-car price estimator."""
