"""FraudNet: embeddings for categorical attributes, an MLP over them and the numeric features."""

from __future__ import annotations

import torch
from torch import nn


class FraudNet(nn.Module):
    def __init__(
        self,
        cardinalities: dict[str, int],
        numeric_features: int,
        hidden: tuple[int, ...] = (256, 128, 64),
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        # one embedding per categorical column, in column order; index 0 = rare or unseen value.
        # Rule of thumb for the width: ~1.6 * cardinality^0.56, capped at 32.
        self.embeddings = nn.ModuleList(
            [nn.Embedding(size + 1, min(32, round(1.6 * (size + 1) ** 0.56))) for size in cardinalities.values()]
        )
        width = sum(e.embedding_dim for e in self.embeddings) + numeric_features
        layers: list[nn.Module] = [nn.BatchNorm1d(width)]
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Logits of fraud, one per row; `categorical` holds one index column per embedding."""
        embedded = [numeric]
        for i, embedding in enumerate(self.embeddings):
            embedded.append(embedding(categorical[:, i]))
        return self.mlp(torch.cat(embedded, dim=1)).squeeze(1)


class ScoringModule(nn.Module):
    """What serving loads: vocabularies and scaling baked in, returns probabilities."""

    def __init__(self, net: FraudNet, means: torch.Tensor, stds: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("means", means)
        self.register_buffer("stds", stds)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(categorical, (numeric - self.means) / self.stds))
