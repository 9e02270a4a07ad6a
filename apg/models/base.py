"""What every backbone shares: the feature embeddings, the condition and the ± APG deep tower."""

from __future__ import annotations

import torch
from torch import nn

from apg.conditions import Condition
from apg.config import ModelConfig
from apg.features import FeatureEmbedding
from apg.tower import Tower


class CTRModel(nn.Module):
    """Base class: subclasses build their interaction parts and call `self.deep(...)`.

    `forward(x)` returns one logit per row, shape (B,).
    """

    def __init__(self, schema: dict, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = FeatureEmbedding(schema, config.embedding_dim)
        self.condition = None
        if config.variant != "base":
            self.condition = Condition(config.condition, schema, config.embedding_dim,
                                       self.embedding.fields)

    def make_tower(self, in_dim: int) -> Tower:
        """The deep tower of this model: plain for "base", APG layers of the variant otherwise."""
        c = self.condition
        return Tower(in_dim, self.config.hidden_units, self.config.variant, self.config.apg,
                     condition_dim=c.dim if c is not None else None,
                     n_conditions=c.n_conditions if c is not None else 1,
                     aggregation=c.output_aggregation if c is not None else None,
                     dropout=self.config.dropout)

    def deep(self, h: torch.Tensor, x: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """Run the tower on h, conditioned on z_i built from this batch (Sec. 3.1.1)."""
        z = (self.condition(x, embeddings, self.embedding) if self.condition is not None
             else None)
        return self.tower(h, z)
