"""DIFM (Lu et al. 2020): a dual input-aware factorization machine."""

from __future__ import annotations

import torch
from torch import nn

from apg.interactions import FirstOrder, MultiHeadSelfAttention, fm_second_order
from apg.models.base import CTRModel, ModelConfig


class DIFM(CTRModel):
    """Dual-FEN: the vector-wise part (multi-head self-attention with residual over the
    field embeddings, flattened, m_vec = P_vec O_vec) and the bit-wise part (the deep tower over
    the flattened embeddings, m_bit = P_bit O_bit) give the input-aware factor m_x = m_vec + m_bit
    (B, F). The re-weighting layer scales the first-order weights and the embeddings
    by m_x, and the FM over them is the logit: w_0 + sum_i m_x,i w_i + sum_{i<j} <v'_i, v'_j>.
    The tower is DIFM's deep component, so +APG adapts the bit-wise part."""

    def __init__(self, schema: dict, config: ModelConfig, n_heads: int = 2):
        super().__init__(schema, config)
        n_fields, dim = self.embedding.n_fields, config.embedding_dim
        self.linear = FirstOrder(schema)
        self.attention = MultiHeadSelfAttention(dim, dim // n_heads, n_heads)
        self.vector_wise = nn.Linear(n_fields * self.attention.out_dim, n_fields, bias=False)
        self.tower = self.make_tower(n_fields * dim)
        self.bit_wise = nn.Linear(self.tower.out_dim, n_fields, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x)
        m_vec = self.vector_wise(self.attention(e).flatten(1))
        m_bit = self.bit_wise(self.deep(e.flatten(1), x, e))
        m = m_vec + m_bit                                                   # (B, F)
        return self.linear(x, m) + fm_second_order(e * m.unsqueeze(-1))
