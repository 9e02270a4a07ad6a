"""The multi-domain baselines of Table 6 (STAR, MMoE): each layer against hand arithmetic,
per domain in one batch, and a short training run on the fixture."""

import pytest
import torch

from apg.config import ConditionConfig, ModelConfig, MultiDomainConfig
from apg.domains import DomainIndex
from apg.models import build_model
from apg.models.mmoe import MMoE
from apg.models.star import DomainGroups, PartitionedNorm, StarLinear
from apg.train import TrainConfig, fit, seed_everything


def domain_config(field="genres", **multidomain):
    return ModelConfig(embedding_dim=8, hidden_units=[16, 8],
                       condition=ConditionConfig(strategy="group", fields=[field]),
                       multidomain=MultiDomainConfig(**multidomain))


def test_domain_index_reads_the_first_column_of_its_field(schema):
    columns = [c for f in schema["fields"] for c in f["columns"]]
    x = torch.arange(len(columns)).repeat(3, 1)
    genres = DomainIndex(schema, "genres")
    assert genres(x).tolist() == [columns.index("genres_0")] * 3
    assert DomainIndex(schema, "item_id").n_domains == next(
        f["vocab_size"] for f in schema["fields"] if f["name"] == "item_id")
    with pytest.raises(ValueError, match="unknown domain field 'brand'"):
        DomainIndex(schema, "brand")


def test_star_layer_is_the_shared_weight_times_the_domain_weight_per_instance():
    torch.manual_seed(0)
    layer = StarLinear(3, 2, n_domains=4)
    with torch.no_grad():
        layer.shared.weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]))
        layer.shared.bias.copy_(torch.tensor([0.1, -0.2]))
        layer.domain_weight.copy_(torch.randn(4, 3, 2))        # stored (domain, in, out)
        layer.domain_bias.copy_(torch.randn(4, 2))
    x = torch.randn(5, 3)
    domain = torch.tensor([0, 3, 3, 1, 2])
    y = layer(x, DomainGroups(domain))
    for i, p in enumerate(domain.tolist()):      # (W ⊙ W_p) x + b + b_p, one row at a time
        w = layer.shared.weight * layer.domain_weight[p].t()
        b = layer.shared.bias + layer.domain_bias[p]
        assert torch.allclose(y[i], w @ x[i] + b, atol=1e-6)


def test_domain_groups_pack_rows_by_domain_and_give_them_back_in_order():
    groups = DomainGroups(torch.tensor([5, 2, 5, 5, 9]))
    assert groups.domains.tolist() == [2, 5, 9] and groups.rows == 3
    h = torch.arange(10.0).view(5, 2)
    packed = groups.pack(h)
    assert packed.shape == (3, 3, 2)
    assert packed[1].tolist() == [[0, 1], [4, 5], [6, 7]]          # domain 5's rows, in order
    assert packed[0].tolist() == [[2, 3], [0, 0], [0, 0]]          # zero padding
    assert torch.equal(groups.unpack(packed), h)


def test_star_layer_gradients_match_the_per_instance_reference():
    torch.manual_seed(1)
    layer = StarLinear(4, 3, n_domains=6)
    with torch.no_grad():
        layer.domain_weight.normal_()
    x = torch.randn(9, 4, requires_grad=True)
    domain = torch.tensor([0, 5, 5, 2, 0, 0, 3, 5, 2])
    layer(x, DomainGroups(domain)).square().sum().backward()
    grads = [x.grad.clone(), layer.domain_weight.grad.clone(), layer.shared.weight.grad.clone()]
    x.grad = None
    layer.zero_grad()
    w = layer.domain_weight[domain].transpose(1, 2) * layer.shared.weight    # (B, out, in)
    y = (w @ x.unsqueeze(-1)).squeeze(-1) + layer.shared.bias + layer.domain_bias[domain]
    y.square().sum().backward()
    for ours, reference in zip(grads, [x.grad, layer.domain_weight.grad,
                                       layer.shared.weight.grad]):
        assert torch.allclose(ours, reference, atol=1e-5)


def test_a_fresh_star_layer_is_its_shared_layer_in_every_domain():
    layer = StarLinear(4, 3, n_domains=5)
    x = torch.randn(6, 4)
    assert torch.allclose(layer(x, DomainGroups(torch.tensor([0, 1, 2, 3, 4, 4]))),
                          layer.shared(x), atol=1e-6)


def test_star_layer_gradients_reach_only_the_domains_in_the_batch():
    layer = StarLinear(3, 2, n_domains=4)
    layer(torch.randn(4, 3), DomainGroups(torch.tensor([1, 3, 1, 3]))).sum().backward()
    touched = layer.domain_weight.grad.abs().sum((1, 2)) > 0
    assert touched.tolist() == [False, True, False, True]


def test_partitioned_norm_uses_each_domains_own_batch_moments():
    norm = PartitionedNorm(2, n_domains=3, min_rows=2)
    with torch.no_grad():
        norm.domain_weight[1] = torch.tensor([2.0, 3.0])
        norm.domain_bias[1] = torch.tensor([1.0, -1.0])
    z = torch.tensor([[1.0, 10.0], [3.0, 30.0], [100.0, 0.0], [102.0, 4.0], [7.0, 7.0]])
    domain = torch.tensor([0, 0, 1, 1, 2])
    out = norm(z, domain)
    eps = norm.eps
    # domain 0: mean (2, 20), biased var (1, 100); domain 1: mean (101, 2), var (1, 4)
    assert torch.allclose(out[0], torch.tensor([-1.0, -1.0]) / torch.sqrt(torch.tensor(
        [1.0, 100.0]) + eps) * torch.tensor([1.0, 10.0]), atol=1e-4)
    expected = torch.tensor([2.0, 3.0]) * torch.tensor([1.0, 1.0]) / torch.sqrt(
        torch.tensor([1.0, 4.0]) + eps) * torch.tensor([1.0, 2.0]) + torch.tensor([1.0, -1.0])
    assert torch.allclose(out[3], expected, atol=1e-4)
    # domain 2 has one row, fewer than min_rows: the whole batch's moments
    batch_mean, batch_var = z.mean(0), z.var(0, unbiased=False)
    assert torch.allclose(out[4], (z[4] - batch_mean) / torch.sqrt(batch_var + eps), atol=1e-5)
    assert norm.has_own.tolist() == [True, True, False]


def test_partitioned_norm_evaluates_with_running_moments_and_the_shared_ones_for_the_unseen():
    norm = PartitionedNorm(1, n_domains=2, min_rows=2, momentum=1.0)
    z, domain = torch.tensor([[1.0], [3.0], [5.0]]), torch.tensor([0, 0, 1])
    norm(z, domain)                               # momentum 1: running = this batch's
    norm.eval()
    out = norm(torch.tensor([[2.0], [2.0]]), torch.tensor([0, 1]))
    assert out[0].item() == pytest.approx(0.0, abs=1e-4)            # domain 0: mean 2
    shared_mean, shared_var = 3.0, torch.tensor([1.0, 3.0, 5.0]).var(unbiased=False).item()
    assert out[1].item() == pytest.approx((2.0 - shared_mean) / (shared_var + norm.eps) ** 0.5,
                                          abs=1e-4)


def test_partitioned_norm_refuses_a_minimum_below_two_rows():
    with pytest.raises(ValueError, match="min_rows must be at least 2"):
        PartitionedNorm(2, n_domains=2, min_rows=1)


def test_star_adds_the_auxiliary_logit(schema, splits):
    model = build_model("star", schema, domain_config())
    x = splits["train"][0][:16]
    with torch.no_grad():
        before = model(x)
        model.auxiliary[-1].bias.add_(1.5)
        assert torch.allclose(model(x), before + 1.5, atol=1e-5)


def test_mmoe_gates_sum_to_one_and_use_only_the_rows_own_domain(schema, splits):
    model = build_model("mmoe", schema, domain_config(experts=3))
    assert isinstance(model, MMoE)
    x = splits["train"][0][:32]
    h = model.embedding(x).flatten(1)
    domain = model.domain(x)
    gates = model.gates(h, domain)
    assert gates.shape == (32, 3) and torch.allclose(gates.sum(1), torch.ones(32))
    with torch.no_grad():
        before = model(x)
        other = int(domain.max()) + 1               # a domain no row of x belongs to
        model.gate_weight[other].normal_()
        model.head_weight[other].normal_()
        model.head_bias[other] = 5.0
        assert torch.equal(model(x), before)
        mine = int(domain[0])
        model.head_bias[mine] += 1.0
        changed = model(x) - before
    assert torch.allclose(changed[domain == mine], torch.ones(int((domain == mine).sum())))
    assert torch.all(changed[domain != mine] == 0)


def test_mmoe_output_is_the_gated_mix_of_the_experts_by_hand(schema, splits):
    model = build_model("mmoe", schema, domain_config(experts=2))
    x = splits["train"][0][:4]
    with torch.no_grad():
        h = model.embedding(x).flatten(1)
        domain = model.domain(x)
        expert_out = []
        for k in range(2):                          # each expert as a plain MLP
            t = h
            for weight, bias in zip(model.experts.weights, model.experts.biases):
                t = torch.relu(t @ weight[k].T + bias[k])
            expert_out.append(t)
        for i in range(4):
            p = int(domain[i])
            g = torch.softmax(model.gate_weight[p] @ h[i] + model.gate_bias[p], 0)
            mixed = g[0] * expert_out[0][i] + g[1] * expert_out[1][i]
            logit = model.head_weight[p] @ mixed + model.head_bias[p] + model.wide(x[i:i + 1])[0]
            assert torch.allclose(model(x[i:i + 1])[0], logit, atol=1e-5)


@pytest.mark.parametrize("name", ["star", "mmoe"])
@pytest.mark.parametrize("field", ["genres", "item_id"])
def test_multidomain_models_train_on_the_fixture(schema, splits, name, field):
    seed_everything(1)
    model = build_model(name, schema, domain_config(field, pn_min_rows=8))
    run = fit(model, splits, TrainConfig(batch_size=512, max_epochs=3, learning_rate=0.005),
              seed=1, log=lambda line: None)
    losses = [e["train_loss"] for e in run["history"]]
    assert losses[-1] < losses[0] and run["test_auc"] > 0.6


@pytest.mark.parametrize("name", ["star", "mmoe"])
def test_multidomain_models_refuse_a_setting_without_one_domain_field(schema, name):
    bad = ModelConfig(embedding_dim=8, hidden_units=[8],
                      condition=ConditionConfig(strategy="mix_input",
                                                fields=["item_id", "genres"],
                                                aggregation="concat"))
    with pytest.raises(ValueError, match="group-wise condition"):
        build_model(name, schema, bad)


def test_table6_memory_of_each_method_by_hand(schema):
    """Stored hidden-layer values (and APG's per-instance generated ones) on small shapes."""
    from apg.efficiency import memory_counts
    from apg.tower import APGConfig

    n_fields, dim = len(schema["fields"]), 8
    genres = next(f["vocab_size"] for f in schema["fields"] if f["name"] == "genres")
    d_in = n_fields * dim
    tower = (d_in * 16 + 16) + (16 * 8 + 8)
    head = 8 + 1

    def counts(name, **overrides):
        config = domain_config(**overrides)
        model = build_model(name, schema, config)
        return memory_counts(model, model.hidden_tensors())

    assert counts("wdl") == {"stored": tower + head, "generated": 0}
    star_layers = (tower + head) * (1 + genres)              # shared + one copy per domain
    norm = 4 * d_in * (1 + genres)       # γ, β and the running moments, shared and per domain
    aux = (d_in + dim) * 32 + 32 + 32 + 1
    assert counts("star") == {"stored": star_layers + norm + aux, "generated": 0}
    experts = 3 * tower
    gates_and_heads = genres * (3 * d_in + 3) + genres * (8 + 1)
    assert counts("mmoe", experts=3) == {"stored": experts + gates_and_heads, "generated": 0}
    apg = build_model("wdl", schema, ModelConfig(
        variant="v4", embedding_dim=dim, hidden_units=[16, 8], apg=APGConfig(rank=4),
        condition=ConditionConfig(strategy="group", fields=["genres"])))
    assert memory_counts(apg, apg.hidden_tensors())["generated"] == 2 * 4 * 4   # S_i per layer
