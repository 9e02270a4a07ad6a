"""AutoInt+ (Song et al. 2019): self-attentive interacting layers beside a deep tower."""

from __future__ import annotations

import torch
from torch import nn

from apg.interactions import MultiHeadSelfAttention
from apg.models.base import CTRModel, ModelConfig


class AutoInt(CTRModel):
    """Interacting layers (multi-head self-attention with residual and ReLU) stacked `n_layers`
    times; logit = w^T [e^Res_1, ..., e^Res_F] + b + head(tower(flattened embeddings)): the
    AutoInt+ form, AutoInt jointly trained with a DNN. The attention size per head defaults to
    the embedding size over the number of heads, so the concatenated heads keep the embedding
    width (docs/decisions.md)."""

    def __init__(self, schema: dict, config: ModelConfig, n_layers: int = 3, n_heads: int = 2,
                 head_dim: int | None = None):
        super().__init__(schema, config)
        n_fields, dim = self.embedding.n_fields, config.embedding_dim
        head_dim = head_dim or dim // n_heads
        self.interacting = nn.ModuleList([
            MultiHeadSelfAttention(dim if layer == 0 else n_heads * head_dim, head_dim, n_heads)
            for layer in range(n_layers)])
        self.interacting_head = nn.Linear(n_fields * n_heads * head_dim, 1)
        self.tower = self.make_tower(n_fields * dim)
        self.head = nn.Linear(self.tower.out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x)
        t = e.permute(1, 2, 0).contiguous()     # batch-last (F, d, B) between the layers
        for layer in self.interacting:
            t = layer.interact(t)
        interacting = self.interacting_head(t.permute(2, 0, 1).flatten(1))
        return (interacting + self.head(self.deep(e.flatten(1), x, e))).squeeze(-1)
