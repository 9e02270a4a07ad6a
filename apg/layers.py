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
(B, k, D), generates one parameter set W_i^j per condition and aggregates the parameters,
W_i = sum_j a_ij W_i^j, with a_ij = 1/k (mean) or softmax attention weights over the k
conditions. For v2 and v3, W_i^j = U_i^j S_i^j V_i^j, so the products are aggregated, not the
factors. Concatenation keeps k rank-K blocks side by side: S_i is block-diagonal (rank kK) and
the shared U, V of v4 / v5 get kK columns / rows, one block per condition. Without shared
factors (v1-v3) a concatenation of the k generated matrices can only meet the input repeated k
times, which is their sum, k times their mean: the layer refuses it.

Initialisation (`init`). "kit" (the default) makes every version start like a default
`nn.Linear`: with the condition at zero, each entry of the effective weight W_i (aggregated over
conditions as above) has mean 0 and variance 1 / (3 N_in), and a generated bias that of
nn.Linear's bias; a unit-scale condition moves each generated value by the same order.
"default" initialises as PyTorch libraries usually do: every layer of G as a default
`nn.Linear`, the shared U, V (v5: U^l, U^r, V^l, V^r) Xavier-normal. The paper states neither.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from apg.config import AGGREGATIONS, INITS, VERSIONS


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

    init="kit": `init_std` gives, per output position, the standard deviation of the parameter
    being generated. The last layer's bias is drawn with that spread (so for z = 0 the layer
    starts like a well-initialised static layer) and its weight is scaled so that a unit-scale
    input moves each generated value by the same order; hidden layers start as nn.Linear's
    weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with zero biases. init="default": every layer
    as a default nn.Linear(fan_in, fan_out), weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """

    def __init__(self, condition_dim: int, init_std: torch.Tensor, hidden: Sequence[int] = (),
                 n_conditions: int = 1, init: str = "kit"):
        super().__init__()
        self.n_conditions = n_conditions
        widths = [condition_dim, *hidden, init_std.numel()]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            self.weights.append(nn.Parameter(torch.empty(n_conditions, fan_in, fan_out)))
            self.biases.append(nn.Parameter(torch.empty(n_conditions, fan_out)))
        with torch.no_grad():
            for layer, (weight, bias) in enumerate(zip(self.weights, self.biases)):
                bound = 1.0 / math.sqrt(widths[layer])      # nn.Linear's, by its true fan-in
                if init == "default":
                    weight.uniform_(-bound, bound)
                    bias.uniform_(-bound, bound)
                elif layer < len(self.weights) - 1:
                    weight.uniform_(-bound, bound)
                    bias.zero_()
                else:
                    weight.normal_().mul_(init_std / math.sqrt(widths[layer]))
                    bias.normal_().mul_(init_std)

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
                 aggregation: str | None = None, init: str = "kit"):
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
        if n_conditions > 1 and aggregation == "concat" and version in ("v1", "v2", "v3"):
            raise ValueError(f"APGLinear: output aggregation 'concat' needs shared factors (v4, "
                             f"v5); for {version!r} the k generated matrices concatenated against "
                             "the input repeated k times are their sum, k times 'mean': use "
                             "'mean' or 'attention'")
        if init not in INITS:
            raise ValueError(f"APGLinear: unknown init {init!r}; choose one of {INITS}")
        if rank < 1 or in_features < 1 or out_features < 1 or condition_dim < 1:
            raise ValueError("APGLinear: in_features, out_features, condition_dim and rank "
                             "must be positive")
        self.in_features, self.out_features = in_features, out_features
        self.condition_dim, self.version, self.rank = condition_dim, version, rank
        self.overparam = overparam
        self.n_conditions = n_conditions
        self.aggregation = aggregation if n_conditions > 1 else None
        self.generated_bias = generated_bias
        self.init = init
        # Number of rank-K blocks side by side: k when concatenating conditions, else one.
        self.blocks = n_conditions if self.aggregation == "concat" else 1
        n, m, k, g = in_features, out_features, rank, self.blocks

        # init="kit": spreads that give the effective weight (W, or the sum over blocks of
        # U S V) the variance of a default nn.Linear weight, 1 / (3 n): var(U) = var(S) = 1 / K
        # and the K x K terms cancel; g blocks each carry 1 / g of it. Mean and attention
        # weights (1/k each at z = 0) shrink the variance of k parameter sets by k, which the
        # last generated factor makes up for.
        mix_gain = math.sqrt(n_conditions) if self.aggregation in ("mean", "attention") else 1.0
        w_std, uv_std = 1.0 / math.sqrt(3 * n * g), 1.0 / math.sqrt(k)
        chunks: list[tuple[str, tuple[int, ...], float]] = []
        if version == "v1":
            chunks.append(("W", (m, n), mix_gain * w_std))
        elif version in ("v2", "v3"):
            chunks += [("U", (m, k), uv_std), ("S", (k, k), uv_std),
                       ("V", (k, n), mix_gain * w_std)]
        else:
            chunks.append(("S", (k, k), mix_gain * uv_std))
        if generated_bias:
            chunks.append(("b", (m,), mix_gain * w_std))
        self._chunks = [(name, shape) for name, shape, _ in chunks]
        init_std = torch.cat([torch.full((math.prod(shape),), std) for _, shape, std in chunks])
        self.generator = HyperNetwork(condition_dim, init_std, hypernet_hidden, n_conditions,
                                      init)
        self.attention = (AttentionPooling(condition_dim)
                          if self.aggregation == "attention" else None)

        if version == "v4":
            self.U = nn.Parameter(torch.randn(m, g * k) * uv_std)
            self.V = nn.Parameter(torch.randn(g * k, n) * w_std)
            shared = (self.U, self.V)
        elif version == "v5":
            p = overparam
            # U = U^l U^r and V = V^l V^r keep the spreads of v4's U and V (Eq. 7).
            self.U_l = nn.Parameter(torch.randn(m, p) / math.sqrt(p))
            self.U_r = nn.Parameter(torch.randn(p, g * k) * uv_std)
            self.V_l = nn.Parameter(torch.randn(g * k, p) / math.sqrt(p))
            self.V_r = nn.Parameter(torch.randn(p, n) * w_std)
            shared = (self.U_l, self.U_r, self.V_l, self.V_r)
        else:
            shared = ()
        if init == "default":
            for factor in shared:
                nn.init.xavier_normal_(factor)
        self.bias = nn.Parameter(torch.zeros(m)) if bias else None

    # -- generation ------------------------------------------------------------------------
    def generate(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run G on z and split its output into the named factors of this version, one set per
        condition (not yet aggregated; `mixing_weights` gives the weights W_i^j get).

        Returns tensors with a leading batch axis and a condition axis (size k):
        W (B, k, m, n), U (B, k, m, K), S (B, k, K, K), V (B, k, K, n), b (B, k, m).
        """
        theta = self.generator(z)
        if self.n_conditions == 1:
            theta = theta.unsqueeze(1)
        batch, k = theta.shape[:2]
        # split, not slicing: a slice's backward zero-fills a full-size gradient per factor
        parts = (theta.split([math.prod(shape) for _, shape in self._chunks], dim=-1)
                 if len(self._chunks) > 1 else (theta,))
        return {name: part.reshape(batch, k, *shape)
                for (name, shape), part in zip(self._chunks, parts)}

    def mixing_weights(self, z: torch.Tensor) -> torch.Tensor:
        """a_ij of the output aggregation W_i = sum_j a_ij W_i^j (Sec. 3.1.1), shape (B, k):
        1/k for mean, softmax attention over the k conditions, 1 for concatenation (whose
        blocks add up) and for a single condition."""
        if self.aggregation == "attention":
            return self.attention(z)
        weight = 1.0 / self.n_conditions if self.aggregation == "mean" else 1.0
        return z.new_full((z.shape[0], self.n_conditions), weight)

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
        """G's output as weighted rows of its last layer: theta_ij = sum_q w_ijq a_jq.

        G's last layer is linear, theta = A^T h + c with h its input, so with q running over
        h's entries and a constant 1, a_q are the rows of [A; c^T] and w_iq = [h_i, 1]_q, for
        each condition j. Returns w (B, k, Q) and a (k, Q, out).
        """
        h = self.generator.hidden(z)
        if self.n_conditions == 1:
            h = h.unsqueeze(1)                                        # (B, k, D')
        w = torch.cat([h, h.new_ones(*h.shape[:2], 1)], dim=-1)      # (B, k, D'+1)
        a = torch.cat([self.generator.weights[-1], self.generator.biases[-1][:, None]], dim=1)
        return w, a

    def _v1_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """y_i = W_i x_i (Eq. 1-2) without building the B matrices W_i.

        W_i = sum_j a_ij W_i^j is linear in G's output, so W_i = sum_q w_iq reshape(a_q) with
        the k conditions' rows stacked (q over k (D' + 1) rows, w scaled by the mixing weights;
        `_linear_terms`), and W_i x_i = sum_q w_iq (A_q x_i): one matrix product of the batch x
        with the generator's weights, then a weighted sum over q. Same function and gradients
        as materialising W_i (`generate`), at a fraction of the memory traffic.
        """
        m, n = self.out_features, self.in_features
        w, a = self._linear_terms(z)
        if self.n_conditions > 1:
            w = w * self.mixing_weights(z).unsqueeze(-1)
        w, a = w.flatten(1), a.flatten(0, 1)           # conditions' rows stacked: (B, kQ), (kQ, out)
        a_w, a_b = a.split([m * n, a.shape[-1] - m * n], dim=-1)
        ax = (x @ a_w.reshape(-1, n).t().contiguous()).view(x.shape[0], -1, m)   # A_q x_i
        y = (ax * w.unsqueeze(-1)).sum(dim=1)
        if self.generated_bias:
            y = y + w @ a_b
        return y

    def _v2_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """y_i = W_i x_i with W_i = sum_j a_ij U_i^j S_i^j V_i^j built from the generated
        factors (Eq. 3): the k conditions' factors side by side, S_i block-diagonal with its
        blocks scaled by the mixing weights."""
        p = self.generate(z)
        mix = self.mixing_weights(z)                                  # (B, k)
        w = torch.bmm(_blocks_to_rank(p["U"], 3) @ _block_diagonal(p["S"] * mix[..., None, None]),
                      _blocks_to_rank(p["V"], 2))                    # (B, m, n) = U_i S_i V_i
        y = BatchedMatVec.apply(w, x)
        if self.generated_bias:
            y = y + (p["b"] * mix.unsqueeze(-1)).sum(dim=1)
        return y

    def _v3_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """y_i = sum_j a_ij U_i^j (S_i^j (V_i^j x_i)) (Eq. 4) without building U_i or V_i: as
        for v1, V_i x_i = sum_q w_iq (A^V_q x_i) and U_i t_i = sum_q w_iq A^U_q t_i, i.e. one
        product of the outer products w_i t_i^T with the generator's U rows, which also sums
        over the conditions. Only the K x K factor S_i is generated per instance."""
        m, n, k = self.out_features, self.in_features, self.rank
        w, a = self._linear_terms(z)
        g, q = a.shape[:2]
        a_u, a_s, a_v, a_b = a.split([m * k, k * k, k * n, a.shape[-1] - k * (m + k + n)], -1)
        vx = (x @ a_v.reshape(g * q * k, n).t()).view(-1, g, q, k)    # A^V_q x_i
        vx = (vx * w.unsqueeze(-1)).sum(2)                            # V_i x_i, (B, g, K)
        s = torch.einsum("bgq,gqe->bge", w, a_s).view(-1, g, k, k)    # S_i
        t = (s * vx.unsqueeze(-2)).sum(-1)                            # S_i V_i x_i
        if self.n_conditions > 1:
            w = w * self.mixing_weights(z).unsqueeze(-1)              # a_ij U_i^j, a_ij b_i^j
        outer = (w.unsqueeze(-1) * t.unsqueeze(-2)).flatten(1)        # (B, g Q K)
        y = outer @ a_u.view(g, q, m, k).transpose(2, 3).reshape(g * q * k, m)   # sums blocks
        if self.generated_bias:
            y = y + torch.einsum("bgq,gqm->bm", w, a_b)
        return y

    def _shared_forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """v4 and v5: y = U (S_i (V x)) + b (Eq. 6), three thin products.

        U and V are shared by the conditions, so mean or attention aggregation of the
        parameters U S_i^j V is U (sum_j a_ij S_i^j) V; concatenation keeps one S_i^j per block
        of U and V (block-diagonal S_i). With one condition and no generated bias, G's output
        is S_i itself and is used as is: `generate`'s split and dict cost more than the K x K
        product they feed (reports/efficiency.ipynb times each step). `F.linear` multiplies by
        the transposed weights in place and adds the bias in the same kernel; `x @ v.t()` and a
        separate bias add each cost an extra pass over the data.
        """
        k = self.rank
        if self.n_conditions == 1 and not self.generated_bias:
            s = self.generator(z).view(-1, k, k)                    # (B, K, K)
        else:
            p = self.generate(z)
            if self.aggregation == "concat":
                s = p["S"].flatten(0, 1)                              # (B k, K, K)
            else:
                s = torch.einsum("bj,bjpq->bpq", self.mixing_weights(z), p["S"])  # sum_j a_ij S^j
        u, v = self.shared_factors()
        h = BatchedMatVec.apply(s, F.linear(x, v).view(s.shape[0], k))   # S_i (V x), per block
        y = F.linear(h.view(x.shape[0], -1), u, self.bias)                # U (...) + b
        if self.generated_bias:
            y = y + (p["b"] * self.mixing_weights(z).unsqueeze(-1)).sum(dim=1)
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
