import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from src.evaluate import failed_thresholds, holdout_metrics, recall_at_top
from src.features import FEATURES, TARGET, featurize
from src.train import train_model


def test_model_learns_the_churn_signal(customers, train_params):
    table = featurize(customers)
    model = train_model(table, train_params)
    scores = model.predict_proba(table[FEATURES])[:, 1]
    assert roc_auc_score(table[TARGET], scores) > 0.8


def test_training_is_reproducible(customers, train_params):
    table = featurize(customers)
    first = train_model(table, train_params).predict_proba(table[FEATURES])
    second = train_model(table, train_params).predict_proba(table[FEATURES])
    np.testing.assert_allclose(first, second)


def test_unseen_category_is_scored(customers, train_params):
    model = train_model(featurize(customers), train_params)
    new = featurize(customers.head(1).assign(region="offshore"))
    assert 0 <= model.predict_proba(new[FEATURES])[0, 1] <= 1


def test_recall_at_top_decile():
    target = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    scores = np.array([0.9, 0.1, 0.2, 0.3, 0.1, 0.2, 0.1, 0.3, 0.2, 0.05])
    assert recall_at_top(target, scores, 0.10) == 0.5


def test_release_thresholds_block_a_weak_model(customers, train_params):
    table = featurize(customers)
    model = train_model(table, train_params)
    metrics = holdout_metrics(model, table)
    assert failed_thresholds(metrics, {"min_auc": 0.5, "min_recall_at_top_decile": 0.0, "max_brier": 1.0}) == []
    failures = failed_thresholds(
        {**metrics, "auc": 0.61}, {"min_auc": 0.78, "min_recall_at_top_decile": 0.0, "max_brier": 1.0}
    )
    assert failures == ["AUC 0.610 < 0.78"]


def test_label_noise_does_not_crash_training(customers, train_params):
    shuffled = featurize(customers)
    shuffled[TARGET] = pd.Series(np.random.default_rng(0).permutation(shuffled[TARGET].to_numpy()))
    model = train_model(shuffled, train_params)
    assert model.predict_proba(shuffled[FEATURES]).shape == (len(shuffled), 2)
