from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "listings_sample.csv"


@pytest.fixture
def listings() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype={"postcode": str})
