"""FiBiNET (Huang et al. 2019): SENET field importance + bilinear feature interactions."""

from __future__ import annotations

import torch
from torch import nn

from apg.interactions import SENET, Bilinear, FirstOrder
from apg.models.base import CTRModel, ModelConfig


class FiBiNET(CTRModel):
    """p = Bilinear(E), q = Bilinear(SENET(E)) ; the combination layer flattens [p, q] into the
    tower; logit = w_0 + sum_i w_i x_i + head(tower), the paper's output layer."""

    def __init__(self, schema: dict, config: ModelConfig, reduction: int = 3,
                 bilinear_type: str = "field_all"):
        super().__init__(schema, config)
        n_fields, dim = self.embedding.n_fields, config.embedding_dim
        self.linear = FirstOrder(schema)
        self.senet = SENET(n_fields, reduction)
        self.bilinear = Bilinear(n_fields, dim, bilinear_type)
        self.bilinear_senet = Bilinear(n_fields, dim, bilinear_type)
        self.tower = self.make_tower(n_fields * (n_fields - 1) * dim)
        self.head = nn.Linear(self.tower.out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x)
        p, q = self.bilinear(e), self.bilinear_senet(self.senet(e))
        h = torch.cat([p, q], dim=1).flatten(1)
        return self.head(self.deep(h, x, e)).squeeze(-1) + self.linear(x)
