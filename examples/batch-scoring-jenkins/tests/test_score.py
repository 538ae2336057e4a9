import numpy as np
import pytest

from src import score
from src.evaluate import backtest, failed_checks, wape
from src.features import KEYS, TARGET, build_features
from src.train import fit, split_holdout


@pytest.fixture
def model(sales):
    table = build_features(sales).dropna(subset=["units_lag_7"])
    return fit(table, max_iter=50)


def test_forecast_covers_the_next_seven_days_of_every_series(sales, model):
    result = score.forecast(sales, model)
    assert len(result) == 6 * score.HORIZON_DAYS
    assert result.groupby(KEYS)["date"].min().eq(sales["date"].max() + np.timedelta64(1, "D")).all()
    assert (result["forecast_units"] >= 0).all()


def test_run_reads_the_mini_batch_files(tmp_path, sales, model, monkeypatch):
    files = []
    for store, rows in sales.groupby("store_id"):
        path = tmp_path / f"{store}.parquet"
        rows.to_parquet(path)
        files.append(str(path))
    monkeypatch.setattr(score, "model", model)
    result = score.run(files)
    assert set(result["store_id"]) == {"S014", "S027"}


def test_wape_and_release_checks(sales, model):
    assert wape(np.array([10, 10]), np.array([12, 8])) == pytest.approx(0.2)
    history, recent = split_holdout(build_features(sales).dropna(subset=["units_lag_7"]), 3)
    assert history["date"].max() < recent["date"].min()
    metrics = backtest(model, recent)
    assert metrics["backtest_rows"] == len(recent) and TARGET in recent
    assert failed_checks({**metrics, "wape": 0.5, "wape_seasonal_naive": 0.3}, 0.25) == [
        "backtest WAPE 0.500 above the limit 0.25",
        "candidate does not beat the seasonal-naive forecast",
    ]
