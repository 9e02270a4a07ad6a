"""The deep tower every backbone uses: plain `nn.Linear` layers or `APGLinear` layers.

"Base" and "Base+APG vN" differ only here (Sec. 4.2: APG as a universal module), so a model is
built once and `variant` decides which layers its tower gets.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
import torch
from torch import nn
from torch.nn import functional as F

from apg.config import VARIANTS, APGConfig
from apg.layers import APGLinear


class Tower(nn.Module):
    """MLP tower h^0 -> h^1 -> ... -> h^L with ReLU (and optional dropout) between layers.

    `variant="base"` builds `nn.Linear` layers; "v1".."v5" build `APGLinear` layers of that
    version, each conditioned on z (or on its own input h^{l-1} when `condition_dim` is None:
    the self-wise strategy). Returns the last hidden layer; each backbone adds its own head.
    """

    def __init__(self, in_dim: int, hidden_units: Sequence[int], variant: str = "base",
                 apg: APGConfig | None = None, condition_dim: int | None = None,
                 n_conditions: int = 1, aggregation: str | None = None, dropout: float = 0.0):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
        if not hidden_units:
            raise ValueError("the tower needs at least one hidden layer (hidden_units is empty)")
        apg = apg or APGConfig()
        self.variant = variant
        self.self_wise = condition_dim is None
        widths = [in_dim, *hidden_units]
        layers = []
        for n_in, n_out in zip(widths[:-1], widths[1:]):
            if variant == "base":
                layers.append(nn.Linear(n_in, n_out))
            else:
                layers.append(APGLinear(
                    n_in, n_out, condition_dim=n_in if self.self_wise else condition_dim,
                    version=variant, rank=apg.rank,
                    overparam=apg.overparam if variant == "v5" else None,
                    hypernet_hidden=apg.hypernet_hidden, generated_bias=apg.generated_bias,
                    n_conditions=n_conditions, aggregation=aggregation, init=apg.init))
        self.layers = nn.ModuleList(layers)
        self.dropout = dropout
        self.out_dim = widths[-1]

    def forward(self, h: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            if self.variant == "base":
                h = layer(h)
            else:
                h = layer(h, h if self.self_wise else z)
            h = F.relu(h)
            if self.dropout:
                h = F.dropout(h, self.dropout, self.training)
        return h

    def merge_for_inference(self) -> "Tower":
        """A copy for inference whose `APGLinear` layers are `layer.merge_for_inference()`.

        A v5 tower becomes a v4 tower with U = U^l U^r and V = V^l V^r precomputed once (Sec. 3.2,
        "No Additional Inference Latency and Memory Cost"); other variants come back unchanged.
        """
        merged = copy.deepcopy(self)
        merged.layers = nn.ModuleList(layer.merge_for_inference() if isinstance(layer, APGLinear)
                                      else layer for layer in merged.layers)
        if self.variant == "v5":
            merged.variant = "v4"
        return merged
