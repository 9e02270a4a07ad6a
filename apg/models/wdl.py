"""Wide & Deep (Cheng et al. 2016), the backbone of the paper's Tables 4-6."""

from __future__ import annotations

import torch
from torch import nn

from apg.interactions import FirstOrder
from apg.models.base import CTRModel, ModelConfig


class WDL(CTRModel):
    """logit = wide (a weight per feature value, summed) + deep (tower over all embeddings)."""

    def __init__(self, schema: dict, config: ModelConfig):
        super().__init__(schema, config)
        self.wide = FirstOrder(schema)
        self.tower = self.make_tower(self.embedding.n_fields * config.embedding_dim)
        self.head = nn.Linear(self.tower.out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x)
        deep = self.head(self.deep(e.flatten(1), x, e)).squeeze(-1)
        return deep + self.wide(x)

    def hidden_tensors(self) -> list[nn.Parameter]:
        """What Table 6's memory counts (`apg.efficiency.memory_counts`): the deep tower, APG
        generators included, and its output layer."""
        return [*self.tower.parameters(), *self.head.parameters()]
