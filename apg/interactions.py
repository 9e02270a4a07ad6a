"""Feature-interaction layers the backbones share, written once.

All layers take field embeddings e of shape (B, F, d) (F fields, d dims) unless noted. Field pairs
(i, j), i < j, are always enumerated in row-major order, (0,1), (0,2), ..., (1,2), ..., the order
of `torch.triu_indices`, and precomputed once as index buffers.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from apg.features import FeatureEmbedding


def pair_indices(n_fields: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(i, j) of the F(F-1)/2 field pairs with i < j, in row-major order."""
    return tuple(torch.triu_indices(n_fields, n_fields, offset=1))


def fm_second_order(e: torch.Tensor) -> torch.Tensor:
    """FM's pairwise term sum_{i<j} <e_i, e_j> in O(F d) (Rendle 2010, Lemma 3.1):
    0.5 * sum_d ((sum_i e_i)^2 - sum_i e_i^2). (B, F, d) -> (B,)."""
    return 0.5 * (e.sum(1).pow(2) - e.pow(2).sum(1)).sum(-1)


class FirstOrder(nn.Module):
    """The linear part w_0 + sum_i w_i(x): one weight per feature value (multi-valued fields
    mean-pooled). `field_weights` (B, F), if given, rescales each field's term (DIFM)."""

    def __init__(self, schema: dict):
        super().__init__()
        self.weight = FeatureEmbedding(schema, 1)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, field_weights: torch.Tensor | None = None) -> torch.Tensor:
        w = self.weight(x).squeeze(-1)                                   # (B, F)
        if field_weights is not None:
            w = w * field_weights
        return w.sum(1) + self.bias


class InnerProduct(nn.Module):
    """The product signals of the inner-product PNN (Qu et al. 2016): p_ij = <e_i, e_j> for
    every pair i < j. (B, F, d) -> (B, F(F-1)/2)."""

    def __init__(self, n_fields: int):
        super().__init__()
        i, j = pair_indices(n_fields)
        self.register_buffer("i", i, persistent=False)
        self.register_buffer("j", j, persistent=False)
        self.out_dim = len(i)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return (e.index_select(1, self.i) * e.index_select(1, self.j)).sum(-1)


class SENET(nn.Module):
    """FiBiNET's squeeze-excitation re-weighting (Huang et al. 2019, SENET layer).

    Squeeze z_i = mean(e_i); excitation a = ReLU(W_2 ReLU(W_1 z)) with W_1: F -> F/r and
    W_2: F/r -> F (no biases, as in the paper); re-weight v_i = a_i e_i. (B, F, d) -> (B, F, d).
    """

    def __init__(self, n_fields: int, reduction: int = 3):
        super().__init__()
        hidden = max(1, n_fields // reduction)
        self.squeeze_to = nn.Linear(n_fields, hidden, bias=False)
        self.excite = nn.Linear(hidden, n_fields, bias=False)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.excite(F.relu(self.squeeze_to(e.mean(-1)))))
        return e * a.unsqueeze(-1)


class Bilinear(nn.Module):
    """FiBiNET's bilinear interaction (Huang et al. 2019, bilinear-interaction layer):
    p_ij = (e_i W) ⊙ e_j for every pair i < j. (B, F, d) -> (B, F(F-1)/2, d).

    `kind` picks the paper's three types: "field_all" (one W shared by all pairs), "field_each"
    (W_i per field i) or "field_interaction" (W_ij per pair).
    """

    KINDS = ("field_all", "field_each", "field_interaction")

    def __init__(self, n_fields: int, dim: int, kind: str = "field_all"):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"unknown bilinear type {kind!r}; choose one of {self.KINDS}")
        i, j = pair_indices(n_fields)
        self.register_buffer("i", i, persistent=False)
        self.register_buffer("j", j, persistent=False)
        self.per_pair = kind == "field_interaction"
        n_weights = {"field_all": 1, "field_each": n_fields, "field_interaction": len(i)}[kind]
        self.weight = nn.Parameter(torch.randn(n_weights, dim, dim) * dim ** -0.5)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        if len(self.weight) == 1:               # e_i W: one product for all fields
            left = (e @ self.weight[0]).index_select(1, self.i)
        elif self.per_pair:                     # e_i W_ij: one product per pair
            left = (e.index_select(1, self.i).transpose(0, 1) @ self.weight).transpose(0, 1)
        else:                                   # e_i W_i: one product per field, then paired
            left = (e.transpose(0, 1) @ self.weight).transpose(0, 1).index_select(1, self.i)
        return left * e.index_select(1, self.j)


class CrossNetwork(nn.Module):
    """DCN's cross network (Wang et al. 2017, Eq. 3):
    x_{l+1} = x_0 x_l^T w_l + b_l + x_l, with w_l, b_l vectors of the input width.
    (B, D) -> (B, D)."""

    def __init__(self, dim: int, n_layers: int = 3):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n_layers, dim) * dim ** -0.5)
        self.b = nn.Parameter(torch.zeros(n_layers, dim))

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x = x0
        for w, b in zip(self.w, self.b):
            x = x0 * (x @ w).unsqueeze(-1) + b + x
        return x


class MultiHeadSelfAttention(nn.Module):
    """AutoInt's interacting layer (Song et al. 2019), also DIFM's vector-wise part
    (Lu et al. 2020).

    Per head h: a^h_mk = softmax_k(<W_Q^h e_m, W_K^h e_k>) (inner product, unscaled, as in
    the paper), e^h_m = sum_k a^h_mk W_V^h e_k; heads concatenated into e^att_m, then
    e^Res_m = ReLU(e^att_m + W_Res e_m).

    `forward` maps (B, F, in_dim) to (B, F, n_heads * head_dim). `interact` does the same in the
    batch-last layout (F, in_dim, B) that AutoInt keeps between its stacked layers: there the
    F x F products per instance and head (far too small for batched matrix kernels on CPU)
    become head_dim or F vectorised multiply-adds over the whole batch (`_SelfAttention`), and
    the projections are F products of the weights with (in_dim, B) blocks.
    """

    def __init__(self, in_dim: int, head_dim: int, n_heads: int = 2):
        super().__init__()
        self.n_heads, self.head_dim = n_heads, head_dim
        self.out_dim = n_heads * head_dim
        self.query = nn.Linear(in_dim, self.out_dim, bias=False)
        self.key = nn.Linear(in_dim, self.out_dim, bias=False)
        self.value = nn.Linear(in_dim, self.out_dim, bias=False)
        self.residual = nn.Linear(in_dim, self.out_dim, bias=False)

    def _project(self, t: torch.Tensor) -> torch.Tensor:
        """W_Q t, W_K t, W_V t and W_Res t in one batched product: (F, in_dim, B) ->
        (F, 4, H, head_dim, B)."""
        weight = torch.cat([self.query.weight, self.key.weight, self.value.weight,
                            self.residual.weight])
        p = torch.bmm(weight.expand(t.shape[0], -1, -1), t)
        return p.view(t.shape[0], 4, self.n_heads, self.head_dim, t.shape[-1])

    def attention(self, e: torch.Tensor) -> torch.Tensor:
        """The attention weights a^h_mk, (B, H, F, F); each row sums to one over k."""
        q, k, _, _ = self._project(e.permute(1, 2, 0)).unbind(1)
        return torch.softmax(_dot(q, k), dim=1).permute(3, 2, 0, 1)

    def interact(self, t: torch.Tensor) -> torch.Tensor:
        """(F, in_dim, B) -> (F, n_heads * head_dim, B)."""
        return F.relu(_SelfAttention.apply(self._project(t)).flatten(1, 2))

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return self.interact(e.permute(1, 2, 0)).permute(2, 0, 1)


def _dot(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """s[m, k, h, b] = sum_d q[m, h, d, b] k[k, h, d, b]: (F, H, D, B) x2 -> (F, F, H, B)."""
    s = q[:, None, :, 0] * k[None, :, :, 0]
    for d in range(1, q.shape[2]):
        s.addcmul_(q[:, None, :, d], k[None, :, :, d])
    return s


def _mix(a: torch.Tensor, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out[m, h, d, b] += sum_k a[m, k, h, b] v[k, h, d, b]: (F, F, H, B), (F, H, D, B) ->
    (F, H, D, B), accumulated into `out` in place."""
    for k in range(a.shape[1]):
        out.addcmul_(a[:, k, :, None], v[k])
    return out


class _SelfAttention(torch.autograd.Function):
    """attention + residual from the projections p = [q, k, v, r] (F, 4, H, D, B), with a
    hand-written backward built from the same two contractions (`_dot`, `_mix`)."""

    @staticmethod
    def forward(ctx, p: torch.Tensor) -> torch.Tensor:
        q, k, v, r = p.unbind(1)
        a = torch.softmax(_dot(q, k), dim=1)
        ctx.save_for_backward(p, a)
        return _mix(a, v, r.clone())

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor) -> torch.Tensor:
        p, a = ctx.saved_tensors
        q, k, v, _ = p.unbind(1)
        grad_p = torch.zeros_like(p)
        grad_q, grad_k, grad_v, grad_r = grad_p.unbind(1)
        grad_r.copy_(grad_y)
        grad_a = _dot(grad_y, v)
        _mix(a.transpose(0, 1), grad_y, out=grad_v)
        grad_s = grad_a.sub_((grad_a * a).sum(1, keepdim=True)).mul_(a)   # softmax backward
        _mix(grad_s, k, out=grad_q)
        _mix(grad_s.transpose(0, 1), q, out=grad_k)
        return grad_p
