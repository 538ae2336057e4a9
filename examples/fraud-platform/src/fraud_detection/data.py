"""Training table -> tensors: vocabularies for categorical columns, standardised numerics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from fraud_detection.schema import CATEGORICAL, LABEL, NUMERIC


@dataclass
class Encoding:
    vocabularies: dict[str, dict[str, int]]
    means: np.ndarray
    stds: np.ndarray

    @classmethod
    def fit(cls, frame: pd.DataFrame, min_count: int = 20) -> Encoding:
        vocabularies = {}
        for column in CATEGORICAL:
            counts = frame[column].astype(str).value_counts()
            frequent = counts[counts >= min_count].index
            vocabularies[column] = {value: i + 1 for i, value in enumerate(sorted(frequent))}  # 0 = rare/unseen
        numeric = frame[NUMERIC].to_numpy(dtype=np.float32)
        return cls(vocabularies, numeric.mean(axis=0), numeric.std(axis=0) + 1e-6)

    def categorical(self, frame: pd.DataFrame) -> torch.Tensor:
        columns = [
            frame[c].astype(str).map(self.vocabularies[c]).fillna(0).to_numpy(dtype=np.int64) for c in CATEGORICAL
        ]
        return torch.from_numpy(np.stack(columns, axis=1))

    def numeric(self, frame: pd.DataFrame) -> torch.Tensor:
        return torch.from_numpy(frame[NUMERIC].to_numpy(dtype=np.float32))

    def cardinalities(self) -> dict[str, int]:
        return {c: len(v) for c, v in self.vocabularies.items()}


class TransactionDataset(Dataset):
    def __init__(self, frame: pd.DataFrame, encoding: Encoding) -> None:
        self.categorical = encoding.categorical(frame)
        means, stds = torch.from_numpy(encoding.means), torch.from_numpy(encoding.stds)
        self.numeric = (encoding.numeric(frame) - means) / stds
        self.labels = torch.from_numpy(frame[LABEL].to_numpy(dtype=np.float32))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.categorical[index], self.numeric[index], self.labels[index]
