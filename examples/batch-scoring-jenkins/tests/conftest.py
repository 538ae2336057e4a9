from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "sales_sample.csv"


@pytest.fixture
def sales() -> pd.DataFrame:
    """Six weeks of daily sales of three SKUs in two stores."""
    return pd.read_csv(SAMPLE, parse_dates=["date"])
