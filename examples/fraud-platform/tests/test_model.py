import numpy as np
import torch

from fraud_detection.data import Encoding, TransactionDataset
from fraud_detection.evaluate import fairness, quality, release_failures
from fraud_detection.model import FraudNet, ScoringModule
from fraud_detection.schema import CATEGORICAL, LABEL, NUMERIC
from fraud_detection.train import fit, time_split


def test_encoding_maps_rare_and_unseen_values_to_zero(transactions):
    encoding = Encoding.fit(transactions, min_count=20)
    unseen = transactions.head(3).assign(merchant_category="0000")
    codes = encoding.categorical(unseen)
    assert codes.shape == (3, len(CATEGORICAL))
    assert (codes[:, 0] == 0).all()
    assert (encoding.categorical(transactions) > 0).any()


def test_dataset_standardises_numeric_features(transactions):
    dataset = TransactionDataset(transactions, Encoding.fit(transactions))
    assert dataset.numeric.shape == (len(transactions), len(NUMERIC))
    assert torch.allclose(dataset.numeric.mean(dim=0), torch.zeros(len(NUMERIC)), atol=1e-4)
    assert dataset.labels.sum().item() == transactions[LABEL].sum()


def test_forward_returns_one_logit_per_row(transactions):
    encoding = Encoding.fit(transactions)
    net = FraudNet(encoding.cardinalities(), numeric_features=len(NUMERIC)).eval()
    logits = net(encoding.categorical(transactions.head(8)), encoding.numeric(transactions.head(8)))
    assert logits.shape == (8,)


def test_training_converges_and_separates_fraud(transactions):
    transactions = transactions.assign(day=np.repeat(np.arange(20), 100))
    transactions["day"] = transactions["day"].map(lambda d: np.datetime64("2025-11-01") + np.timedelta64(d, "D"))
    train, validation = time_split(transactions, validation_days=5)
    torch.manual_seed(0)
    history = []
    scoring, encoding, best_auprc = fit(
        train,
        validation,
        epochs=6,
        lr=3e-3,
        num_workers=0,
        batch_size=256,
        on_epoch=lambda epoch, metrics: history.append(metrics["train_loss"]),
    )
    assert history[-1] < history[0]
    assert best_auprc > 0.3  # 5% fraud: a random model would score ~0.05
    assert isinstance(scoring, ScoringModule)
    scripted = torch.jit.script(scoring)
    probabilities = scripted(encoding.categorical(validation), encoding.numeric(validation))
    assert ((probabilities >= 0) & (probabilities <= 1)).all()


def test_release_criteria(transactions):
    scores = np.where(transactions[LABEL] == 1, 0.9, 0.05)
    metrics = {**quality(transactions[LABEL].to_numpy(), scores), **fairness(transactions, scores)}
    assert metrics["recall"] == 1.0
    assert release_failures(metrics) == []
    assert release_failures({**metrics, "auprc": 0.2})[0].startswith("AUPRC 0.200")
