"""Store x SKU demand forecast, trained and scored on Azure Machine Learning."""
