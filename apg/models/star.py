"""STAR (Sheng et al., CIKM 2021) on the Wide & Deep backbone: a star-topology tower whose every
layer combines a shared and a domain-specific weight, partitioned normalisation of its input
and an auxiliary network over the domain indicator (Table 6's "Base+Star")."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from apg.domains import DomainIndex
from apg.interactions import FirstOrder
from apg.models.base import CTRModel, ModelConfig


class DomainGroups:
    """A batch's rows grouped by domain, once per batch for every star layer: the domains
    present (U of them), and for each row its group and its place in it. `pack` lays rows out
    as (U, largest group, width), zero-padded, so one batched product serves every domain;
    `unpack` takes the rows back in batch order."""

    def __init__(self, domain: torch.Tensor):
        self.domains, group, counts = torch.unique(domain, return_inverse=True,
                                                   return_counts=True)
        order = torch.argsort(group, stable=True)
        starts = torch.cumsum(counts, 0) - counts
        place = torch.empty_like(order)
        place[order] = torch.arange(len(order), device=domain.device) - starts[group[order]]
        self.group, self.place, self.rows = group, place, int(counts.max())

    def pack(self, h: torch.Tensor) -> torch.Tensor:
        packed = h.new_zeros(len(self.domains), self.rows, h.shape[1])
        return packed.index_put((self.group, self.place), h)

    def unpack(self, packed: torch.Tensor) -> torch.Tensor:
        return packed[self.group, self.place]


class StarLinear(nn.Module):
    """A fully-connected layer of STAR's star topology: an instance of domain p is mapped by
    W_p ⊙ W and b_p + b, where W, b are shared by all domains. Domain weights start at one and
    domain biases at zero, so every domain starts as the shared layer (a default `nn.Linear`).
    The rows of each domain present in the batch go through one batched product with that
    domain's W_p ⊙ W (`DomainGroups`): no loop over domains, and no per-instance weights."""

    def __init__(self, in_features: int, out_features: int, n_domains: int):
        super().__init__()
        self.shared = nn.Linear(in_features, out_features)
        # (domain, in, out): the batched product's layout, so its gradient is contiguous
        self.domain_weight = nn.Parameter(torch.ones(n_domains, in_features, out_features))
        self.domain_bias = nn.Parameter(torch.zeros(n_domains, out_features))

    def forward(self, h: torch.Tensor, groups: DomainGroups) -> torch.Tensor:
        n, n_in, n_out = self.domain_weight.shape
        weight = (self.domain_weight.view(n, -1).index_select(0, groups.domains)
                  .view(-1, n_in, n_out) * self.shared.weight.t())
        bias = self.domain_bias.index_select(0, groups.domains) + self.shared.bias
        packed = torch.baddbmm(bias.unsqueeze(1), groups.pack(h), weight)
        return groups.unpack(packed)


class PartitionedNorm(nn.Module):
    """STAR's partitioned normalisation: z' = (γ ⊙ γ_p) ⊙ (z − μ_p) / sqrt(σ²_p + ε)
    + (β + β_p), with the moments μ_p, σ²_p of the instance's own domain p.

    STAR trains on batches of one domain, so there a batch's moments are its domain's. Our
    batches mix domains: in training each domain uses the (biased) moments of its own rows in
    the batch, and a domain with fewer than `min_rows` rows there (too few for a variance) the
    moments of the whole batch. In evaluation each domain uses its running moments, updated in
    training (exponentially, `momentum`) from the batches where it had its own, and a domain
    that never had any the running moments of whole batches."""

    def __init__(self, dim: int, n_domains: int, min_rows: int = 32, momentum: float = 0.1,
                 eps: float = 1e-5):
        super().__init__()
        if min_rows < 2:
            raise ValueError(f"min_rows must be at least 2 (a variance needs two rows), got "
                             f"{min_rows}")
        self.min_rows, self.momentum, self.eps = min_rows, momentum, eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.domain_weight = nn.Parameter(torch.ones(n_domains, dim))
        self.domain_bias = nn.Parameter(torch.zeros(n_domains, dim))
        self.register_buffer("running_mean", torch.zeros(n_domains, dim))
        self.register_buffer("running_var", torch.ones(n_domains, dim))
        self.register_buffer("has_own", torch.zeros(n_domains, dtype=torch.bool))
        self.register_buffer("shared_mean", torch.zeros(dim))
        self.register_buffer("shared_var", torch.ones(dim))

    def domain_moments(self, z: torch.Tensor, domain: torch.Tensor):
        """Per-domain row counts, means and (biased) variances of z's rows: (n_domains,),
        (n_domains, dim) twice; a domain without rows has mean and variance 0."""
        n_domains = self.domain_weight.shape[0]
        counts = torch.bincount(domain, minlength=n_domains)
        rows = counts.clamp(min=1).unsqueeze(-1).to(z.dtype)
        mean = z.new_zeros(n_domains, z.shape[1]).index_add(0, domain, z) / rows
        square = z.new_zeros(n_domains, z.shape[1]).index_add(0, domain, z * z) / rows
        return counts, mean, (square - mean * mean).clamp(min=0)

    def forward(self, z: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
        if self.training:
            counts, mean, var = self.domain_moments(z, domain)
            own = counts >= self.min_rows
            batch_mean, batch_var = z.mean(0), z.var(0, unbiased=False)
            mean = torch.where(own.unsqueeze(-1), mean, batch_mean)
            var = torch.where(own.unsqueeze(-1), var, batch_var)
            with torch.no_grad():
                m = self.momentum
                self.running_mean[own] = (1 - m) * self.running_mean[own] + m * mean[own]
                self.running_var[own] = (1 - m) * self.running_var[own] + m * var[own]
                self.has_own |= own
                self.shared_mean.mul_(1 - m).add_(m * batch_mean)
                self.shared_var.mul_(1 - m).add_(m * batch_var)
        else:
            own = self.has_own.unsqueeze(-1)
            mean = torch.where(own, self.running_mean, self.shared_mean)
            var = torch.where(own, self.running_var, self.shared_var)
        z_hat = (z - mean[domain]) / torch.sqrt(var[domain] + self.eps)
        return (self.weight * self.domain_weight[domain] * z_hat
                + self.bias + self.domain_bias[domain])


class STAR(CTRModel):
    """logit = wide + star tower (PN(flattened embeddings)) + auxiliary network.

    The domain is the group-wise condition's field (`condition.fields`, `apg.domains`). Every
    hidden layer and the output layer are `StarLinear`; the auxiliary network is a small tower
    over a domain-indicator embedding beside the flattened embeddings, whose logit is added.
    `config.multidomain` sets PN's `min_rows` and the auxiliary tower's widths."""

    def __init__(self, schema: dict, config: ModelConfig):
        super().__init__(schema, config)
        self.domain = DomainIndex.of_model(schema, config, "STAR")
        n_domains, dim = self.domain.n_domains, config.embedding_dim
        in_dim = self.embedding.n_fields * dim
        self.wide = FirstOrder(schema)
        self.norm = PartitionedNorm(in_dim, n_domains, min_rows=config.multidomain.pn_min_rows)
        widths = [in_dim, *config.hidden_units]
        self.tower = nn.ModuleList(StarLinear(n_in, n_out, n_domains)     # the star tower
                                   for n_in, n_out in zip(widths[:-1], widths[1:]))
        self.head = StarLinear(widths[-1], 1, n_domains)
        self.domain_embedding = nn.Embedding(n_domains, dim)
        nn.init.normal_(self.domain_embedding.weight, std=0.01)
        aux = [in_dim + dim, *config.multidomain.aux_hidden, 1]
        self.auxiliary = nn.ModuleList(nn.Linear(n_in, n_out)
                                       for n_in, n_out in zip(aux[:-1], aux[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embedding(x).flatten(1)
        domain = self.domain(x)
        groups = DomainGroups(domain)
        h = self.norm(e, domain)
        for layer in self.tower:
            h = F.relu(layer(h, groups))
        a = torch.cat([self.domain_embedding(domain), e], dim=1)
        for i, layer in enumerate(self.auxiliary):
            a = layer(a) if i == len(self.auxiliary) - 1 else F.relu(layer(a))
        return (self.head(h, groups) + a).squeeze(-1) + self.wide(x)

    def hidden_tensors(self) -> list[torch.Tensor]:
        """What Table 6's memory counts: PN with its running moments, the star tower with its
        output layer and the auxiliary network (not the embeddings, as in the paper's
        footnote 6)."""
        moments = [b for b in self.norm.buffers() if b.is_floating_point()]
        return [*moments, *(p for module in (self.norm, *self.tower, self.head,
                                             *self.auxiliary) for p in module.parameters())]
