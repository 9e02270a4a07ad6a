"""DCN, Deep & Cross Network (Wang et al. 2017)."""

from __future__ import annotations

import torch
from torch import nn

from apg.interactions import CrossNetwork
from apg.models.base import CTRModel, ModelConfig


class DCN(CTRModel):
    """x_0 = flattened embeddings; the cross network (x_{l+1} = x_0 x_l^T w_l + b_l + x_l, Eq. 3)
    and the deep tower (Eq. 4) run side by side on x_0; logit = head([x_L1, h_L2]) (Eq. 5)."""

    def __init__(self, schema: dict, config: ModelConfig, n_cross_layers: int = 3):
        super().__init__(schema, config)
        in_dim = self.embedding.n_fields * config.embedding_dim
        self.cross = CrossNetwork(in_dim, n_cross_layers)
        self.tower = self.make_tower(in_dim)
        self.head = nn.Linear(in_dim + self.tower.out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x)
        x0 = e.flatten(1)
        return self.head(torch.cat([self.cross(x0), self.deep(x0, x, e)], dim=1)).squeeze(-1)
