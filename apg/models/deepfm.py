"""DeepFM (Guo et al. 2017): an FM and a deep tower over the same embeddings."""

from __future__ import annotations

import torch
from torch import nn

from apg.interactions import FirstOrder, fm_second_order
from apg.models.base import CTRModel, ModelConfig


class DeepFM(CTRModel):
    """logit = y_FM + y_DNN (Eq. 1): y_FM = w_0 + sum_i w_i x_i + sum_{i<j} <e_i, e_j> (Eq. 2),
    y_DNN = head(tower(flattened embeddings)) (Eq. 3-5)."""

    def __init__(self, schema: dict, config: ModelConfig):
        super().__init__(schema, config)
        self.linear = FirstOrder(schema)
        self.tower = self.make_tower(self.embedding.n_fields * config.embedding_dim)
        self.head = nn.Linear(self.tower.out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x)
        deep = self.head(self.deep(e.flatten(1), x, e)).squeeze(-1)
        return self.linear(x) + fm_second_order(e) + deep
