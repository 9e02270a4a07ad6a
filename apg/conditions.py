"""How the condition z_i is made (Sec. 3.1.1).

    group       z_i = embedding of one condition field (e.g. the user or the movie)
    mix_input   several condition embeddings aggregated first (concat / mean / attention),
                then fed to one generator per layer ("input aggregation")
    mix_output  several condition embeddings fed to one generator each; the generated
                parameters are aggregated inside `APGLinear` ("output aggregation")
    self        z_i = h^{l-1}, the layer's own input (the tower passes it; no embedding here)

Condition embeddings either reuse the model's feature embeddings (`share_embeddings=True`) or
come from a table of their own. A multi-valued condition field (a movie's genres) stands for
one group: its first listed value, the rule Table 6's domains follow (`apg.domains`), not the
mean the model's features take.
"""

from __future__ import annotations

import torch
from torch import nn

from apg.config import ConditionConfig
from apg.layers import AttentionPooling
from apg.features import FeatureEmbedding

class Condition(nn.Module):
    """Builds z_i from a batch: `condition(x, field_embeddings, embedding)`, `embedding` the
    model's `FeatureEmbedding` (for multi-valued fields' first values when sharing it).

    Returns (B, dim) for group and mix_input, (B, k, dim_j) for mix_output and None for self.
    """

    def __init__(self, config: ConditionConfig, schema: dict, embedding_dim: int,
                 model_fields: list[str]):
        super().__init__()
        self.config = config
        kinds = {f["name"]: f["kind"] for f in schema["fields"]}
        self.multi = [f for f in config.fields if kinds.get(f) == "multi"]
        own_dim = config.dim or embedding_dim
        self.own_embedding = None
        if config.strategy != "self" and not config.share_embeddings:
            self.own_embedding = FeatureEmbedding(schema, own_dim, fields=config.fields)
        elif config.strategy != "self":
            missing = [f for f in config.fields if f not in model_fields]
            if missing:
                raise ValueError(f"condition field(s) {missing} are not among the model's "
                                 f"features {model_fields}")
            self.register_buffer("field_index", torch.tensor(
                [model_fields.index(f) for f in config.fields]), persistent=False)
        base_dim = own_dim if self.own_embedding is not None else embedding_dim
        k = len(config.fields)
        self.attention = None
        if config.strategy == "mix_input" and config.aggregation == "attention":
            self.attention = AttentionPooling(base_dim)
        if config.strategy == "self":
            self.dim = None
        elif config.strategy == "mix_input" and config.aggregation == "concat":
            self.dim = k * base_dim
        else:
            self.dim = base_dim
        self.n_conditions = k if config.strategy == "mix_output" else 1
        self.output_aggregation = config.aggregation if config.strategy == "mix_output" else None

    def forward(self, x: torch.Tensor, field_embeddings: torch.Tensor,
                embedding: FeatureEmbedding) -> torch.Tensor | None:
        strategy = self.config.strategy
        if strategy == "self":
            return None
        if self.multi:
            table = self.own_embedding if self.own_embedding is not None else embedding
            z = torch.stack([table.first_value(x, f) for f in self.config.fields], 1)
        elif self.own_embedding is not None:
            z = self.own_embedding(x)                                # (B, k, d)
        else:
            z = field_embeddings.index_select(1, self.field_index)  # (B, k, d)
        if strategy == "group":
            return z[:, 0]
        if strategy == "mix_output":
            return z
        aggregation = self.config.aggregation
        if aggregation == "concat":
            return z.flatten(1)
        if aggregation == "mean":
            return z.mean(1)
        return torch.einsum("bk,bkd->bd", self.attention(z), z)
