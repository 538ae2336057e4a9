"""Train FraudNet on the Spark feature table and log everything to MLflow.

    python -m fraud_detection.train --train gs://.../train --epochs 20 --run-id-out /tmp/outputs/run_id

Runs as the `train` component of the Kubeflow pipeline on a GPU node. Early stopping on
validation PR-AUC (fraud is ~0.2% of transactions: ROC AUC flatters every model).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import mlflow
import mlflow.pytorch
import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score
from torch import nn
from torch.utils.data import DataLoader, WeightedRandomSampler

from fraud_detection import MODEL_NAME
from fraud_detection.data import Encoding, TransactionDataset
from fraud_detection.model import FraudNet, ScoringModule
from fraud_detection.schema import LABEL


def time_split(frame: pd.DataFrame, validation_days: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    cutoff = frame["day"].max() - pd.Timedelta(days=validation_days)
    return frame[frame["day"] <= cutoff], frame[frame["day"] > cutoff]


def predict(net: nn.Module, dataset: TransactionDataset, device: torch.device) -> np.ndarray:
    net.eval()
    scores = []
    with torch.no_grad():
        for categorical, numeric, _ in DataLoader(dataset, batch_size=8192):
            scores.append(torch.sigmoid(net(categorical.to(device), numeric.to(device))).cpu().numpy())
    return np.concatenate(scores)


def fit(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    epochs: int,
    lr: float,
    patience: int = 3,
    num_workers: int = 4,
    batch_size: int = 2048,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[ScoringModule, Encoding, float]:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    encoding = Encoding.fit(train)
    train_set, valid_set = TransactionDataset(train, encoding), TransactionDataset(validation, encoding)
    # oversample fraud so each batch sees some; the loss is not re-weighted on top of it
    weights = np.where(train[LABEL].to_numpy() == 1, 50.0, 1.0)
    sampler = WeightedRandomSampler(torch.from_numpy(weights), num_samples=len(weights), replacement=True)
    loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler, num_workers=num_workers)

    net = FraudNet(encoding.cardinalities(), numeric_features=train_set.numeric.shape[1]).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    best_auprc, best_state, stale = -1.0, None, 0
    for epoch in range(epochs):
        net.train()
        total = 0.0
        for categorical, numeric, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(net(categorical.to(device), numeric.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        auprc = float(average_precision_score(valid_set.labels.numpy(), predict(net, valid_set, device)))
        if on_epoch is not None:
            on_epoch(epoch, {"train_loss": total / len(train_set), "valid_auprc": auprc})
        if auprc > best_auprc:
            best_auprc, best_state, stale = auprc, {k: v.cpu().clone() for k, v in net.state_dict().items()}, 0
        else:
            stale += 1
            if stale >= patience:
                break
    net.load_state_dict(best_state)
    scoring = ScoringModule(net.cpu().eval(), torch.from_numpy(encoding.means), torch.from_numpy(encoding.stds))
    return scoring, encoding, best_auprc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--pipeline-run-id", default="manual")
    parser.add_argument("--run-id-out", type=Path, required=True)
    args = parser.parse_args()

    frame = pd.read_parquet(args.train)
    frame["day"] = pd.to_datetime(frame["day"])
    train, validation = time_split(frame)
    mlflow.set_experiment(MODEL_NAME)
    with mlflow.start_run(run_name=f"kfp-{args.pipeline_run_id}") as run:
        mlflow.set_tags({"pipeline_run_id": args.pipeline_run_id, "git_commit": os.environ.get("GIT_COMMIT", "")})
        mlflow.log_params(
            {"epochs": args.epochs, "lr": args.lr, "train_rows": len(train), "fraud_rate": float(train[LABEL].mean())}
        )
        scoring, encoding, best_auprc = fit(
            train, validation, args.epochs, args.lr, on_epoch=lambda epoch, m: mlflow.log_metrics(m, step=epoch)
        )
        mlflow.log_metric("best_valid_auprc", best_auprc)
        mlflow.log_dict(encoding.vocabularies, "encoding/vocabularies.json")
        mlflow.pytorch.log_model(torch.jit.script(scoring), artifact_path="model")
    args.run_id_out.parent.mkdir(parents=True, exist_ok=True)
    args.run_id_out.write_text(run.info.run_id)


if __name__ == "__main__":
    main()
