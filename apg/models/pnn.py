"""PNN (Qu et al. 2016), the inner-product variant IPNN."""

from __future__ import annotations

import torch
from torch import nn

from apg.interactions import InnerProduct
from apg.models.base import CTRModel, ModelConfig


class PNN(CTRModel):
    """Product layer = [linear signals z (flattened embeddings), product signals
    p_ij = <e_i, e_j>, i < j]; the tower's first layer is the paper's l_1 = ReLU(l_z +
    l_p + b_1) over it; logit = head(tower)."""

    def __init__(self, schema: dict, config: ModelConfig):
        super().__init__(schema, config)
        n_fields = self.embedding.n_fields
        self.product = InnerProduct(n_fields)
        self.tower = self.make_tower(n_fields * config.embedding_dim + self.product.out_dim)
        self.head = nn.Linear(self.tower.out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x)
        h = torch.cat([e.flatten(1), self.product(e)], dim=1)
        return self.head(self.deep(h, x, e)).squeeze(-1)
