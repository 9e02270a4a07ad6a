"""APGLinear: the five versions of Table 3, their equalities and Table 1's parameter counts."""

import pytest
import torch

from apg.config import APGConfig
from apg.layers import AGGREGATIONS, VERSIONS, APGLinear
from apg.tower import Tower

B, N_IN, N_OUT, D, K, P = 32, 20, 12, 6, 4, 16


def make(version, **kw):
    kw.setdefault("overparam", P if version == "v5" else None)
    return APGLinear(N_IN, N_OUT, D, version=version, rank=K, **kw)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(B, N_IN, generator=g), torch.randn(B, D, generator=g)


@pytest.mark.parametrize("version", VERSIONS)
def test_output_shape_with_one_condition(version, batch):
    x, z = batch
    assert make(version)(x, z).shape == (B, N_OUT)


@pytest.mark.parametrize("version", VERSIONS)
def test_self_wise_condition_is_each_layers_own_input(version, batch):
    """Self-wise (Sec. 3.1.1): layer l is conditioned on h^{l-1}, whatever z is passed."""
    x, z = batch
    torch.manual_seed(0)
    tower = Tower(N_IN, [N_OUT, 8], variant=version,
                  apg=APGConfig(rank=K, overparam=P), condition_dim=None)
    first, second = tower.layers
    h1 = torch.relu(first(x, x))
    expected = torch.relu(second(h1, h1))
    with torch.no_grad():
        assert torch.allclose(tower(x), expected, atol=1e-6)
        assert torch.allclose(tower(x, z), expected, atol=1e-6)      # z is not used
        assert not torch.allclose(torch.relu(second(h1, torch.zeros_like(h1))), expected)


def test_v2_and_v3_agree_given_the_same_generated_factors(batch):
    x, z = batch
    v2, v3 = make("v2"), make("v3")
    v3.load_state_dict(v2.state_dict())
    torch.testing.assert_close(v2(x, z), v3(x, z), atol=1e-5, rtol=1e-5)


def textbook_parameters(layer, z):
    """The layer's effective W_i (B, m, n) and generated bias (B, m), written out from the paper
    (Sec. 3.1.1, Eq. 1, 3, 5, 7) with the layer's own parameter tensors only, independently of
    its forward and `generate`: each condition's generator G_j(z^j) as an MLP, its output cut
    into the documented layout (W | U, S, V | S, then b), each condition's matrix W^j built
    (v2/v3 U^j S^j V^j; v4/v5 U S^j V with the shared factors, block j of them for concat),
    then W = sum_j a_j W^j with a_j = 1/k (mean), softmax_j q^T tanh(A z^j + c) (attention), or
    1 (concat, one condition)."""
    m, n, k, c = layer.out_features, layer.in_features, layer.rank, layer.n_conditions
    zs = z.unsqueeze(1) if c == 1 else z
    g = layer.generator
    if layer.aggregation == "attention":
        att = layer.attention
        scores = torch.tanh(zs @ att.project.weight.T + att.project.bias) @ att.query.weight.T
        mix = torch.softmax(scores.squeeze(-1), dim=1)
    else:
        mix = torch.full(zs.shape[:2], 1.0 / c if layer.aggregation == "mean" else 1.0)
    if layer.version == "v5":
        u_all, v_all = layer.U_l @ layer.U_r, layer.V_l @ layer.V_r
    elif layer.version == "v4":
        u_all, v_all = layer.U, layer.V
    w_sum, b_sum = 0, 0
    for j in range(c):
        h = zs[:, j]
        for i in range(len(g.weights)):
            h = h @ g.weights[i][j] + g.biases[i][j]
            h = torch.relu(h) if i < len(g.weights) - 1 else h
        theta, b = (h[:, :-m], h[:, -m:]) if layer.generated_bias else (h, 0)
        if layer.version == "v1":
            w = theta.reshape(-1, m, n)
        elif layer.version in ("v2", "v3"):
            u, s, v = theta.split([m * k, k * k, k * n], dim=1)
            w = u.reshape(-1, m, k) @ s.reshape(-1, k, k) @ v.reshape(-1, k, n)
        else:
            block = slice(j * k, (j + 1) * k) if layer.aggregation == "concat" else slice(0, k)
            w = u_all[:, block] @ theta.reshape(-1, k, k) @ v_all[block]
        w_sum = w_sum + mix[:, j, None, None] * w
        b_sum = b_sum + mix[:, j, None] * b
    return w_sum, b_sum


def textbook_forward(layer, x, z):
    """y_i = W_i x_i + b_i (+ the static bias) from `textbook_parameters`."""
    w, b = textbook_parameters(layer, z)
    return torch.einsum("bmn,bn->bm", w, x) + b + layer.bias


CONDITIONS = [(version, aggregation) for version in VERSIONS
              for aggregation in (None, *AGGREGATIONS)
              if not (aggregation == "concat" and version in ("v1", "v2", "v3"))]


@pytest.mark.parametrize("version,aggregation", CONDITIONS)
@pytest.mark.parametrize("generated_bias,hidden", [(False, ()), (True, (8,))])
def test_every_version_equals_its_textbook_definition(version, aggregation, generated_bias,
                                                      hidden, batch):
    """Outputs and gradients of the layer's fast forward (v1 and v3 never build W_i, U_i or
    V_i; v4/v5 aggregate S_i) equal the materialised W_i^j aggregated and applied to x."""
    x, _ = batch
    k = 1 if aggregation is None else 3
    z = torch.randn(B, D) if k == 1 else torch.randn(B, k, D)
    layer = make(version, n_conditions=k, aggregation=aggregation,
                 generated_bias=generated_bias, hypernet_hidden=hidden)
    y = layer(x, z)
    y.square().sum().backward()
    fast = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    expected = textbook_forward(layer, x, z)
    expected.square().sum().backward()
    torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-5)
    for got, want in zip(fast, (p.grad for p in layer.parameters())):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("version,aggregation", CONDITIONS)
def test_kit_init_starts_with_the_variance_of_a_default_linear_layer(version, aggregation):
    """init="kit": for z = 0, W_i's entries have mean 0 and variance 1 / (3 N_in), the variance
    of nn.Linear's weight, whatever the version and the aggregation of k conditions; a
    generated bias has nn.Linear's bias variance, also 1 / (3 N_in)."""
    n, m, k = 96, 48, 3
    n_conditions = 1 if aggregation is None else k
    torch.manual_seed(0)
    weights, biases = [], []
    for _ in range(30):                  # a rank-K W is one draw of few values: average inits
        layer = APGLinear(n, m, D, version=version, rank=K, generated_bias=True,
                          overparam=P if version == "v5" else None,
                          n_conditions=n_conditions, aggregation=aggregation)
        z = torch.zeros(1, D) if n_conditions == 1 else torch.zeros(1, k, D)
        with torch.no_grad():
            w, b = textbook_parameters(layer, z)
        weights.append(w.flatten())
        biases.append(b.flatten())
    w, b = torch.cat(weights), torch.cat(biases)
    target = 1 / (3 * n)
    assert abs(w.mean()) < 0.05 * target ** 0.5
    assert w.var().item() == pytest.approx(target, rel=0.15)
    assert b.var().item() == pytest.approx(target, rel=0.15)


def test_hidden_generator_layers_start_like_nn_linear():
    """A generator's hidden layer (k, fan_in, fan_out) starts as nn.Linear(fan_in, fan_out)
    does: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), whose variance is 1 / (3 fan_in)."""
    torch.manual_seed(0)
    layer = make("v4", hypernet_hidden=(64, 32), n_conditions=2, aggregation="mean")
    reference = [torch.nn.Linear(D, 64).weight, torch.nn.Linear(64, 32).weight]
    for weight, ref in zip(layer.generator.weights[:2], reference):
        assert weight.abs().max() <= ref.abs().max() * 1.05
        assert weight.std().item() == pytest.approx(ref.std().item(), rel=0.1)


@pytest.mark.parametrize("version", VERSIONS)
def test_default_init_is_what_pytorch_libraries_use(version):
    """init="default": every generator layer as a default nn.Linear (weight and bias
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))), the shared factors Xavier-normal."""
    torch.manual_seed(0)
    layer = APGLinear(128, 64, 32, version=version, rank=8, init="default",
                      overparam=64 if version == "v5" else None, hypernet_hidden=(48,))
    for weight, bias, fan_in in zip(layer.generator.weights, layer.generator.biases, (32, 48)):
        bound = fan_in ** -0.5
        for t in (weight, bias):
            assert t.abs().max() <= bound
            assert t.std().item() == pytest.approx(bound / 3 ** 0.5, rel=0.15)
    names = {"v4": ["U", "V"], "v5": ["U_l", "U_r", "V_l", "V_r"]}.get(version, [])
    for name in names:
        factor = getattr(layer, name)
        xavier = (2 / sum(factor.shape)) ** 0.5
        assert factor.std().item() == pytest.approx(xavier, rel=0.15)


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_concatenation_without_shared_factors_is_refused(version):
    with pytest.raises(ValueError, match="k times 'mean'"):
        make(version, n_conditions=2, aggregation="concat")


def test_v2_reconstructs_w_from_its_generated_factors(batch):
    x, z = batch
    layer = make("v2")
    f = layer.generate(z)
    w = f["U"][:, 0] @ f["S"][:, 0] @ f["V"][:, 0]                 # Eq. 3: W_i = U_i S_i V_i
    expected = torch.einsum("bmn,bn->bm", w, x) + layer.bias
    torch.testing.assert_close(layer(x, z), expected, atol=1e-5, rtol=1e-5)


def test_v4_applies_shared_u_v_around_the_generated_s(batch):
    x, z = batch
    layer = make("v4")
    s = layer.generate(z)["S"][:, 0]
    expected = torch.einsum("mk,bkl,ln,bn->bm", layer.U, s, layer.V, x) + layer.bias  # Eq. 6
    torch.testing.assert_close(layer(x, z), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("aggregation", [None, *AGGREGATIONS])
def test_v5_merged_equals_unmerged_in_eval_mode(aggregation, batch):
    x, _ = batch
    k = 1 if aggregation is None else 3
    z = torch.randn(B, D) if k == 1 else torch.randn(B, k, D)
    layer = make("v5", n_conditions=k, aggregation=aggregation).eval()
    merged = layer.merge_for_inference()
    with torch.no_grad():
        torch.testing.assert_close(merged(x, z), layer(x, z), atol=1e-5, rtol=1e-5)
    assert merged.version == "v4" and not hasattr(merged, "U_l")
    # at v4's cost: exactly the parameters of a v4 layer of the same shape
    assert n_params(merged) == n_params(make("v4", n_conditions=k, aggregation=aggregation))


def test_parameter_counts_follow_table1():
    n, m = N_IN, N_OUT
    gen_bias = lambda size: size  # noqa: E731 - the generator's bias, one per generated value
    assert n_params(make("v1")) == D * m * n + gen_bias(m * n) + m
    low_rank = m * K + K * K + K * n
    assert n_params(make("v2")) == D * low_rank + gen_bias(low_rank) + m
    assert n_params(make("v3")) == n_params(make("v2"))
    assert n_params(make("v4")) == (n * K + m * K) + D * K * K + gen_bias(K * K) + m
    assert n_params(make("v5")) == (m * P + P * K + K * P + P * n) + D * K * K + K * K + m


def test_v4_stores_far_fewer_parameters_than_a_dense_layer_at_scale():
    n = m = 1024
    layer = APGLinear(n, m, condition_dim=D, version="v4", rank=K)
    shared = layer.U.numel() + layer.V.numel()
    assert shared == n * K + m * K
    assert layer.generator.weights[0].numel() == D * K * K
    assert n_params(layer) < 0.01 * n * m


@pytest.mark.parametrize("version,size", [("v1", N_OUT * N_IN),
                                          ("v2", N_OUT * K + K * K + K * N_IN),
                                          ("v4", K * K), ("v5", K * K)])
def test_generated_values_per_instance_follow_table1(version, size, batch):
    _, z = batch
    generated = make(version).generate(z)
    assert sum(t[0].numel() for t in generated.values()) == size


@pytest.mark.parametrize("version", VERSIONS)
def test_outputs_change_when_the_condition_changes(version, batch):
    x, z = batch
    layer = make(version)
    with torch.no_grad():
        assert not torch.allclose(layer(x, z), layer(x, z + 1.0), atol=1e-4)


@pytest.mark.parametrize("version", VERSIONS)
def test_gradients_reach_the_hypernetwork(version, batch):
    x, z = batch
    z = z.clone().requires_grad_()
    layer = make(version, hypernet_hidden=(8,))
    layer(x, z).pow(2).sum().backward()
    for weight in layer.generator.weights:
        assert weight.grad is not None and weight.grad.abs().sum() > 0
    assert z.grad.abs().sum() > 0


@pytest.mark.parametrize("kwargs,message", [
    (dict(version="v6"), "unknown version"),
    (dict(version="v5"), "needs overparam"),
    (dict(version="v4", overparam=8), "only used by version 'v5'"),
    (dict(version="v4", n_conditions=2), "output aggregation"),
    (dict(version="v4", init="xavier"), "unknown init"),
])
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        APGLinear(N_IN, N_OUT, D, **kwargs)
