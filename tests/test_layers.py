"""APGLinear: the five versions of Table 3, their equalities and Table 1's parameter counts."""

import pytest
import torch

from apg.layers import AGGREGATIONS, VERSIONS, APGLinear

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
@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_output_aggregation_of_three_conditions(version, aggregation, batch):
    x, _ = batch
    z = torch.randn(B, 3, D)
    layer = make(version, n_conditions=3, aggregation=aggregation, generated_bias=True)
    assert layer(x, z).shape == (B, N_OUT)
    # one generator per condition (Sec. 3.1.1, output aggregation)
    assert layer.generator.weights[0].shape[0] == 3


@pytest.mark.parametrize("version", VERSIONS)
def test_self_wise_condition_is_the_layer_input(version, batch):
    x, _ = batch
    layer = APGLinear(N_IN, N_OUT, N_IN, version=version, rank=K,
                      overparam=P if version == "v5" else None)
    assert layer(x, x).shape == (B, N_OUT)


def test_v2_and_v3_agree_given_the_same_generated_factors(batch):
    x, z = batch
    v2, v3 = make("v2"), make("v3")
    v3.load_state_dict(v2.state_dict())
    torch.testing.assert_close(v2(x, z), v3(x, z), atol=1e-5, rtol=1e-5)


def generated_then_applied(layer, x, z):
    """The textbook forward: build W_i (v1) or U_i, S_i, V_i (v3) with `generate`, apply."""
    f = layer.generate(z)
    if layer.version == "v1":
        y = torch.einsum("bgmn,bn->bm", f["W"], x)
    else:                                                             # Eq. 4, block by block
        y = torch.einsum("bgmk,bgkl,bgln,bn->bm", f["U"], f["S"], f["V"], x)
    return y + f["b"].sum(dim=1) + layer.bias


@pytest.mark.parametrize("version", ["v1", "v3"])
@pytest.mark.parametrize("aggregation", [None, *AGGREGATIONS])
def test_v1_v3_equal_their_generated_factors_applied_to_x(version, aggregation, batch):
    """v1 and v3 never build W_i, U_i or V_i in forward; outputs and gradients must equal the
    generated factors applied to x (Eq. 1-2, Eq. 4)."""
    x, _ = batch
    k = 1 if aggregation is None else 3
    z = torch.randn(B, D) if k == 1 else torch.randn(B, k, D)
    layer = make(version, n_conditions=k, aggregation=aggregation, generated_bias=True,
                 hypernet_hidden=(8,))
    y = layer(x, z)
    y.square().sum().backward()
    fast = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    expected = generated_then_applied(layer, x, z)
    expected.square().sum().backward()
    torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-5)
    for got, want in zip(fast, (p.grad for p in layer.parameters())):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


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


def test_generated_bias_depends_on_the_condition(batch):
    x, z = batch
    layer = make("v4", generated_bias=True)
    assert layer.generate(z)["b"].shape == (B, 1, N_OUT)


@pytest.mark.parametrize("kwargs,message", [
    (dict(version="v6"), "unknown version"),
    (dict(version="v5"), "needs overparam"),
    (dict(version="v4", overparam=8), "only used by version 'v5'"),
    (dict(version="v4", n_conditions=2), "output aggregation"),
])
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        APGLinear(N_IN, N_OUT, D, **kwargs)
