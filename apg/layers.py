"""The APG layer family: one `APGLinear` class, the five versions of the paper's Table 3.

Notation follows Sec. 3: a hidden layer maps x (N_in) to y (N_out) with a weight W (N_out x N_in).
APG generates W, or part of its low-rank factorisation W = U S V (U: N_out x K, S: K x K,
V: K x N_in), per instance from a condition z (D) with a hypernetwork G (Eq. 1, 3, 5).

    v1  W_i = reshape(G(z_i));              y = W_i x                     (Eq. 1-2)
    v2  U_i, S_i, V_i = reshape(G(z_i));    W_i = U_i S_i V_i; y = W_i x  (Eq. 3)
    v3  same generation as v2;              y = U_i (S_i (V_i x))         (Eq. 4)
    v4  S_i = reshape(G(z_i)); U, V shared; y = U (S_i (V x))             (Eq. 5-6)
    v5  as v4 with U = U^l U^r, V = V^l V^r, inner width P >> K           (Eq. 7)

v2 materialises the per-instance N_out x N_in matrix U_i S_i V_i, because rebuilding it is what
v3 removes. v1 and v3 apply their generated factors by associativity, straight from the
generator's weights, without building W_i, U_i or V_i (same outputs and gradients, far less
memory traffic; `generate` still returns them for inspection); v4 and v5 generate only S_i.
`APGLinear.merge_for_inference()` turns v5 into a v4 layer with U and V precomputed once
("No Additional Inference Latency", Sec. 3.2).

Output aggregation of several conditions (Sec. 3.1.1, mix-wise) lives here as well, because it
needs one generator per condition: with `n_conditions = k > 1` the layer takes z of shape
(B, k, D), generates k parameter sets and aggregates them by mean, attention, or concatenation.
Concatenation keeps the k low-rank blocks side by side (S_i becomes block-diagonal, rank kK, and
U, V get kK columns/rows); for v1 it concatenates the k matrices along the input axis against a
repeated input, which equals their sum.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from apg.config import AGGREGATIONS, VERSIONS


class AttentionPooling(nn.Module):
    """Softmax weights over k condition vectors: a_j = softmax_j(q^T tanh(A z_j + b))."""

    def __init__(self, dim: int, hidden: int = 16):
        super().__init__()
        self.project = nn.Linear(dim, hidden)
        self.query = nn.Linear(hidden, 1, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, k, D) -> weights (B, k) that sum to one over k."""
        return torch.softmax(self.query(torch.tanh(self.project(z))).squeeze(-1), dim=-1)


class HyperNetwork(nn.Module):
    """The parameter generator G: an MLP from the condition z to a flat parameter vector.

    With `hidden=()` it is the single linear layer the paper's complexity analysis assumes
    (Sec. 3.3). With `n_conditions = k` it holds k independent generators evaluated in one
    batched product, mapping (B, k, D) to (B, k, out_dim).

    `init_std` gives, per output position, the standard deviation of the parameter being
    generated. The last layer's bias is drawn with that spread (so at start the layer behaves
    like a well-initialised static layer) and its weight is scaled so that a unit-scale condition
    moves each generated value by the same order.
    """

    def __init__(self, condition_dim: int, init_std: torch.Tensor, hidden: Sequence[int] = (),
                 n_conditions: int = 1):
        super().__init__()
        self.n_conditions = n_conditions
        widths = [condition_dim, *hidden, init_std.numel()]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            self.weights.append(nn.Parameter(torch.empty(n_conditions, fan_in, fan_out)))
            self.biases.append(nn.Parameter(torch.empty(n_conditions, fan_out)))
        with torch.no_grad():
            for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
                nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
                bias.zero_()
            last_fan_in = widths[-2]
            self.weights[-1].normal_().mul_(init_std / math.sqrt(last_fan_in))
            self.biases[-1].normal_().mul_(init_std)

    @property
    def out_dim(self) -> int:
        return self.biases[-1].shape[-1]

    def _linear(self, h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        if self.n_conditions == 1:
            return torch.addmm(bias[0], h, weight[0])
        return torch.einsum("bkd,kdo->bko", h, weight) + bias

    def hidden(self, z: torch.Tensor) -> torch.Tensor:
        """What the last (linear) layer reads: z itself, or the MLP's last hidden activation."""
        for i in range(len(self.weights) - 1):   # indexing, not slicing: a ParameterList
            z = F.relu(self._linear(z, self.weights[i], self.biases[i]))   # slice is slow
        return z

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, D) when n_conditions == 1, else (B, k, D); returns (B, out) or (B, k, out)."""
        return self._linear(self.hidden(z), self.weights[-1], self.biases[-1])


class APGLinear(nn.Module):
    """A linear layer whose weights are generated per instance from a condition z (Table 3).

    Called as `layer(x, z)` with x: (B, in_features) and z: (B, condition_dim), or
    z: (B, n_conditions, condition_dim) for output aggregation; returns (B, out_features).
    """

    def __init__(self, in_features: int, out_features: int, condition_dim: int,
                 version: str = "v4", rank: int = 4, overparam: int | None = None,
                 hypernet_hidden: Sequence[int] = (), bias: bool = True,
                 generated_bias: bool = False, n_conditions: int = 1,
                 aggregation: str | None = None):
        super().__init__()
        if version not in VERSIONS:
            raise ValueError(f"APGLinear: unknown version {version!r}; choose one of {VERSIONS}")
        if version == "v5" and not overparam:
            raise ValueError("APGLinear: version 'v5' needs overparam=P (P >> rank), e.g. 32")
        if version != "v5" and overparam:
            raise ValueError(f"APGLinear: overparam is only used by version 'v5', not {version!r}")
        if n_conditions > 1 and aggregation not in AGGREGATIONS:
            raise ValueError(f"APGLinear: {n_conditions} conditions need an output aggregation, "
                             f"one of {AGGREGATIONS}; got {aggregation!r}")
        if rank < 1 or in_features < 1 or out_features < 1 or condition_dim < 1:
            raise ValueError("APGLinear: in_features, out_features, condition_dim and rank "
                             "must be positive")
        self.in_features, self.out_features = in_features, out_features
        self.condition_dim, self.version, self.rank = condition_dim, version, rank
        self.overparam = overparam
        self.n_conditions = n_conditions
        self.aggregation = aggregation if n_conditions > 1 else None
        self.generated_bias = generated_bias
        # Number of rank-K blocks side by side: k when concatenating conditions, else one.
        self.blocks = n_conditions if self.aggregation == "concat" else 1
        n, m, k, g = in_features, out_features, rank, self.blocks

        # Spread of each generated or stored factor, chosen so that the effective weight
        # (W, or the sum over blocks of U S V) starts with the variance of a default nn.Linear
        # weight, 1 / (3 n): var(U) = var(S) = 1 / K and the K x K terms cancel.
        w_std, uv_std = 1.0 / math.sqrt(3 * n * g), 1.0 / math.sqrt(k)
        chunks: list[tuple[str, tuple[int, ...], float]] = []
        if version == "v1":
            chunks.append(("W", (m, n), w_std))
        elif version in ("v2", "v3"):
            chunks += [("U", (m, k), uv_std), ("S", (k, k), uv_std), ("V", (k, n), w_std)]
        else:
            chunks.append(("S", (k, k), uv_std))
        if generated_bias:
            chunks.append(("b", (m,), 1.0 / math.sqrt(n)))
        self._chunks = [(name, shape) for name, shape, _ in chunks]
        init_std = torch.cat([torch.full((math.prod(shape),), std) for _, shape, std in chunks])
        self.generator = HyperNetwork(condition_dim, init_std, hypernet_hidden, n_conditions)
        self.attention = (AttentionPooling(condition_dim)
                          if self.aggregation == "attention" else None)

        if version == "v4":
            self.U = nn.Parameter(torch.randn(m, g * k) * uv_std)
            self.V = nn.Parameter(torch.randn(g * k, n) * w_std)
        elif version == "v5":
            p = overparam
            # U = U^l U^r and V = V^l V^r keep the spreads of v4's U and V (Eq. 7).
            self.U_l = nn.Parameter(torch.randn(m, p) / math.sqrt(p))
            self.U_r = nn.Parameter(torch.randn(p, g * k) * uv_std)
            self.V_l = nn.Parameter(torch.randn(g * k, p) / math.sqrt(p))
            self.V_r = nn.Parameter(torch.randn(p, n) * w_std)
        self.bias = nn.Parameter(torch.zeros(m)) if bias else None

    # -- generation ------------------------------------------------------------------------
    def generate(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run G on z and split its output into the named factors of this version.

        Returns tensors with a leading batch axis and a block axis (size `self.blocks`):
        W (B, g, m, n), U (B, g, m, K), S (B, g, K, K), V (B, g, K, n), b (B, g, m).
        """
        theta = self.generator(z)
        if self.n_conditions == 1:
            theta = theta.unsqueeze(1)
        elif self.aggregation == "mean":
            theta = theta.mean(dim=1, keepdim=True)
        elif self.aggregation == "attention":
            theta = torch.einsum("bk,bkp->bp", self.attention(z), theta).unsqueeze(1)
        batch, blocks = theta.shape[:2]
        # split, not slicing: a slice's backward zero-fills a full-size gradient per factor
        parts = (theta.split([math.prod(shape) for _, shape in self._chunks], dim=-1)
                 if len(self._chunks) > 1 else (theta,))
        return {name: part.reshape(batch, blocks, *shape)
                for (name, shape), part in zip(self._chunks, parts)}

    def shared_factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The shared U (m, gK) and V (gK, n) of v4, or their products for v5 (Eq. 7)."""
        if self.version == "v4":
            return self.U, self.V
        return self.U_l @ self.U_r, self.V_l @ self.V_r

    # -- forward -----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if self.version in ("v4", "v5"):
            return self._shared_forward(x, z)
        forward = {"v1": self._v1_forward, "v2": self._v2_forward, "v3": self._v3_forward}
        y = forward[self.version](x, z)
        if self.bias is not None:
            y = y + self.bias
        return y

    def _linear_terms(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """G's output as weighted rows of its last layer: theta_ig = sum_q w_igq a_gq.

        G's last layer is linear, theta = A^T h + c with h its input, so with q running over
        h's entries and a constant 1, a_q are the rows of [A; c^T] and w_iq = [h_i, 1]_q. Mean
        and attention aggregation mix the k generators' outputs, so their rows are stacked
        (g = 1, q over k (D' + 1) rows, w scaled by 1/k or the attention weights); concatenation
        keeps them apart (g = k). Returns w (B, g, Q) and a (g, Q, out).
        """
        h = self.generator.hidden(z)
        if self.n_conditions == 1:
            h = h.unsqueeze(1)                                        # (B, k, D')
        w = torch.cat([h, h.new_ones(*h.shape[:2], 1)], dim=-1)      # (B, k, D'+1)
        a = torch.cat([self.generator.weights[-1], self.generator.biases[-1][:, None]], dim=1)
        if self.aggregation in ("mean", "attention"):
            mix = (self.attention(z) if self.aggregation == "attention"
                   else w.new_full(w.shape[:2], 1.0 / self.n_conditions))
            w, a = (w * mix.unsqueeze(-1)).flatten(1).unsqueeze(1), a.flatten(0, 1).unsqueeze(0)
        return w, a

    def _v1_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """y_i = W_i x_i (Eq. 1-2) without building the B matrices W_i.

        With W_i = sum_q w_iq reshape(a_q) (`_linear_terms`), W_i x_i = sum_q w_iq (A_q x_i):
        one matrix product of the batch x with the generator's weights, then a weighted sum
        over q. Same function and gradients as materialising W_i (`generate`), at a fraction of
        the memory traffic.
        """
        m, n = self.out_features, self.in_features
        w, a = self._linear_terms(z)
        g, q = a.shape[:2]
        a_w, a_b = a.split([m * n, a.shape[-1] - m * n], dim=-1)
        ax = (x @ a_w.reshape(g * q * m, n).t().contiguous()).view(-1, g, q, m)     # A_q x_i
        y = (ax * w.unsqueeze(-1)).sum(dim=(1, 2))
        if self.generated_bias:
            y = y + torch.einsum("bgq,gqm->bm", w, a_b)
        return y

    def _v2_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """y_i = W_i x_i with W_i = U_i S_i V_i built from the generated factors (Eq. 3)."""
        p = self.generate(z)
        w = torch.bmm(_blocks_to_rank(p["U"], 3) @ _block_diagonal(p["S"]),
                      _blocks_to_rank(p["V"], 2))                    # (B, m, n) = U_i S_i V_i
        y = BatchedMatVec.apply(w, x)
        return y + p["b"].sum(dim=1) if self.generated_bias else y

    def _v3_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """y_i = U_i (S_i (V_i x_i)) (Eq. 4) without building U_i or V_i: as for v1,
        V_i x_i = sum_q w_iq (A^V_q x_i) and U_i t_i = sum_q w_iq A^U_q t_i, i.e. one product of
        the outer products w_i t_i^T with the generator's U rows. Only the K x K factor S_i is
        generated per instance."""
        m, n, k = self.out_features, self.in_features, self.rank
        w, a = self._linear_terms(z)
        g, q = a.shape[:2]
        a_u, a_s, a_v, a_b = a.split([m * k, k * k, k * n, a.shape[-1] - k * (m + k + n)], -1)
        vx = (x @ a_v.reshape(g * q * k, n).t()).view(-1, g, q, k)    # A^V_q x_i
        vx = (vx * w.unsqueeze(-1)).sum(2)                            # V_i x_i, (B, g, K)
        s = torch.einsum("bgq,gqe->bge", w, a_s).view(-1, g, k, k)    # S_i
        t = (s * vx.unsqueeze(-2)).sum(-1)                            # S_i V_i x_i
        outer = (w.unsqueeze(-1) * t.unsqueeze(-2)).flatten(1)        # (B, g Q K)
        y = outer @ a_u.view(g, q, m, k).transpose(2, 3).reshape(g * q * k, m)   # sums blocks
        if self.generated_bias:
            y = y + torch.einsum("bgq,gqm->bm", w, a_b)
        return y

    def _shared_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """v4 and v5: y = U (S_i (V x)) + b with block-diagonal S_i (Eq. 6), three thin products.

        With one condition and no generated bias, G's output is S_i itself and is used as is:
        `generate`'s split and dict cost more than the K x K product they feed
        (reports/efficiency.ipynb times each step). `F.linear` multiplies by the transposed
        weights in place and adds the bias in the same kernel; `x @ v.t()` and a separate bias
        add each cost an extra pass over the data.
        """
        k = self.rank
        if self.n_conditions == 1 and not self.generated_bias:
            s = self.generator(z).view(-1, k, k)                    # (B, K, K)
        else:
            p = self.generate(z)
            s = p["S"].flatten(0, 1)                                # (B g, K, K)
        u, v = self.shared_factors()
        h = BatchedMatVec.apply(s, F.linear(x, v).view(s.shape[0], k))   # S_i (V x), per block
        y = F.linear(h.view(x.shape[0], -1), u, self.bias)                # U (...) + b
        if self.generated_bias:
            y = y + p["b"].sum(dim=1)
        return y

    # -- inference ---------------------------------------------------------------------------
    def merge_for_inference(self) -> "APGLinear":
        """A copy with the same outputs at v4's cost: v5's U = U^l U^r, V = V^l V^r precomputed.

        Other versions have nothing to merge and come back as an unchanged copy.
        """
        merged = copy.deepcopy(self)
        if self.version != "v5":
            return merged
        with torch.no_grad():
            u, v = self.shared_factors()
        for name in ("U_l", "U_r", "V_l", "V_r"):
            delattr(merged, name)
        merged.version, merged.overparam = "v4", None
        merged.U = nn.Parameter(u.detach().clone())
        merged.V = nn.Parameter(v.detach().clone())
        return merged

    def extra_repr(self) -> str:
        extra = f", P={self.overparam}" if self.overparam else ""
        agg = f", conditions={self.n_conditions} ({self.aggregation})" if self.aggregation else ""
        return (f"{self.in_features} -> {self.out_features}, version={self.version}, "
                f"K={self.rank}{extra}, D={self.condition_dim}{agg}")


class BatchedMatVec(torch.autograd.Function):
    """y_i = W_i x_i for a batch of per-instance matrices (v2's W_i, v4's and v5's S_i). Its
    backward forms the outer product dL/dW_i = dy_i x_i^T elementwise: on CPU torch's generic
    bmm backward spends a large part of the step zero-filling and multiplying by width-1
    matrices."""

    @staticmethod
    def forward(ctx, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(w, x)
        return torch.bmm(w, x.unsqueeze(-1)).squeeze(-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        w, x = ctx.saved_tensors
        grad_w = grad.unsqueeze(-1) * x.unsqueeze(1) if ctx.needs_input_grad[0] else None
        grad_x = torch.bmm(grad.unsqueeze(1), w).squeeze(1) if ctx.needs_input_grad[1] else None
        return grad_w, grad_x


def _blocks_to_rank(t: torch.Tensor, rank_axis: int) -> torch.Tensor:
    """(B, g, ...) factor blocks side by side along their rank axis: U (B, m, gK), V (B, gK, n)."""
    return torch.cat(t.unbind(1), dim=rank_axis - 1) if t.shape[1] > 1 else t[:, 0]


def _block_diagonal(s: torch.Tensor) -> torch.Tensor:
    """(B, g, K, K) blocks -> (B, gK, gK) block-diagonal S_i."""
    if s.shape[1] == 1:
        return s[:, 0]
    batch, g, k = s.shape[:3]
    out = s.new_zeros(batch, g * k, g * k)
    for j in range(g):
        out[:, j * k:(j + 1) * k, j * k:(j + 1) * k] = s[:, j]
    return out
