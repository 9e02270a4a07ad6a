"""MMoE (Ma et al., KDD 2018) used for domains, on the Wide & Deep backbone (Table 6's
"Base+MMoE"): expert towers shared by all domains, a softmax gate and a head per domain."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from apg.domains import DomainIndex
from apg.interactions import FirstOrder
from apg.models.base import CTRModel, ModelConfig


def _uniform(shape: tuple[int, ...], fan_in: int) -> nn.Parameter:
    """nn.Linear's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class Experts(nn.Module):
    """E expert towers of the same widths, evaluated together: h (B, in) -> (B, E, out), each
    expert an MLP with ReLU after every layer, initialised like `nn.Linear` layers."""

    def __init__(self, in_dim: int, hidden_units: list[int], n_experts: int):
        super().__init__()
        widths = [in_dim, *hidden_units]
        self.weights = nn.ParameterList(_uniform((n_experts, n_out, n_in), n_in)
                                        for n_in, n_out in zip(widths[:-1], widths[1:]))
        self.biases = nn.ParameterList(_uniform((n_experts, n_out), n_in)
                                       for n_in, n_out in zip(widths[:-1], widths[1:]))
        self.out_dim = widths[-1]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        t = h.unsqueeze(0).expand(len(self.weights[0]), -1, -1)          # (E, B, in)
        for weight, bias in zip(self.weights, self.biases):
            t = F.relu(torch.baddbmm(bias.unsqueeze(1), t, weight.transpose(1, 2)))
        return t.transpose(0, 1)                                          # (B, E, out)


class MMoE(CTRModel):
    """logit = wide + head_p(sum_k g_p(h)_k expert_k(h)), h the flattened embeddings, p the
    instance's domain: gate g_p(h) = softmax(A_p h + a_p) over the `multidomain.experts`
    experts, head_p(m) = w_p^T m + c_p. Only the instance's own domain's gate and head are
    used; the gate and head tables are gathered per instance (no loop over domains)."""

    def __init__(self, schema: dict, config: ModelConfig):
        super().__init__(schema, config)
        self.domain = DomainIndex.of_model(schema, config, "MMoE")
        n_domains, n_experts = self.domain.n_domains, config.multidomain.experts
        in_dim = self.embedding.n_fields * config.embedding_dim
        self.wide = FirstOrder(schema)
        self.experts = Experts(in_dim, config.hidden_units, n_experts)
        self.gate_weight = _uniform((n_domains, n_experts, in_dim), in_dim)
        self.gate_bias = nn.Parameter(torch.zeros(n_domains, n_experts))
        self.head_weight = _uniform((n_domains, self.experts.out_dim), self.experts.out_dim)
        self.head_bias = nn.Parameter(torch.zeros(n_domains))

    @property
    def tower(self) -> Experts:
        """The experts, which stand where WDL's deep tower does."""
        return self.experts

    def gates(self, h: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
        """Each row's own domain's gate over the experts, (B, E); rows sum to one."""
        logits = torch.bmm(self.gate_weight.index_select(0, domain), h.unsqueeze(-1))
        return torch.softmax(logits.squeeze(-1) + self.gate_bias.index_select(0, domain), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embedding(x).flatten(1)
        domain = self.domain(x)
        mixed = (self.gates(h, domain).unsqueeze(-1) * self.experts(h)).sum(1)    # (B, out)
        head = (self.head_weight.index_select(0, domain) * mixed).sum(-1)
        return head + self.head_bias.index_select(0, domain) + self.wide(x)

    def hidden_tensors(self) -> list[nn.Parameter]:
        """What Table 6's memory counts: the experts, the gates and the heads (not the
        embeddings, as in the paper's footnote 6)."""
        return [*self.experts.parameters(), self.gate_weight, self.gate_bias,
                self.head_weight, self.head_bias]
