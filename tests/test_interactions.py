"""Known answers for the shared interaction layers, on inputs small enough to check by hand."""

import pytest
import torch

from apg.interactions import (SENET, Bilinear, CrossNetwork, InnerProduct, MultiHeadSelfAttention,
                              fm_second_order, pair_indices)

# One row, three fields, two dims: e_0 = (1, 2), e_1 = (3, -1), e_2 = (0, 2).
E = torch.tensor([[[1.0, 2.0], [3.0, -1.0], [0.0, 2.0]]])


def test_pairs_are_enumerated_in_row_major_order():
    i, j = pair_indices(4)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def test_fm_second_order_is_the_sum_of_pairwise_inner_products():
    # <e0,e1> = 3 - 2 = 1, <e0,e2> = 0 + 4 = 4, <e1,e2> = 0 - 2 = -2; sum = 3
    assert fm_second_order(E).tolist() == [3.0]


def test_inner_products_of_every_pair_in_order():
    product = InnerProduct(3)
    out = product(E)
    assert product.out_dim == 3 and out.shape == (1, 3)
    assert out.tolist() == [[1.0, 4.0, -2.0]]   # (0,1), (0,2), (1,2)


def test_one_cross_layer_follows_its_formula():
    cross = CrossNetwork(3, n_layers=1)
    with torch.no_grad():
        cross.w.copy_(torch.tensor([[1.0, 0.0, -1.0]]))
        cross.b.copy_(torch.tensor([[0.5, 0.0, 1.0]]))
    x0 = torch.tensor([[1.0, 2.0, 3.0]])
    # x0^T w = 1 - 3 = -2;  x1 = x0 * (-2) + b + x0 = (-2, -4, -6) + (0.5, 0, 1) + (1, 2, 3)
    assert cross(x0).tolist() == [[-0.5, -2.0, -2.0]]


def test_senet_scales_each_field_by_its_excitation_weight():
    senet = SENET(3, reduction=3)                # one hidden unit
    with torch.no_grad():
        senet.squeeze_to.weight.copy_(torch.tensor([[1.0, 1.0, 1.0]]))
        senet.excite.weight.copy_(torch.tensor([[1.0], [0.5], [-1.0]]))
    # field means 1.5, 1, 1 -> hidden ReLU(3.5) = 3.5 -> weights ReLU(3.5, 1.75, -3.5)
    expected = [[[3.5, 7.0], [5.25, -1.75], [0.0, 0.0]]]
    assert torch.allclose(senet(E), torch.tensor(expected))


def test_bilinear_field_all_is_e_i_w_times_e_j():
    bilinear = Bilinear(3, 2, "field_all")
    with torch.no_grad():
        bilinear.weight.copy_(torch.tensor([[[1.0, 2.0], [0.0, 1.0]]]))
    # e W: e0 -> (1, 4), e1 -> (3, 5); then ⊙ e_j
    expected = [[[3.0, -4.0], [0.0, 8.0], [0.0, 10.0]]]   # (0,1), (0,2), (1,2)
    assert bilinear(E).tolist() == expected


@pytest.mark.parametrize("kind,scales,expected", [
    # W_i = s_i I per field i: p01 = e0⊙e1, p02 = e0⊙e2, p12 = 2 e1⊙e2
    ("field_each", [1.0, 2.0, 5.0], [[[3.0, -2.0], [0.0, 4.0], [0.0, -4.0]]]),
    # W_ij = s_p I per pair p: p01 = e0⊙e1, p02 = 2 e0⊙e2, p12 = 3 e1⊙e2
    ("field_interaction", [1.0, 2.0, 3.0], [[[3.0, -2.0], [0.0, 8.0], [0.0, -6.0]]]),
])
def test_bilinear_field_each_and_field_interaction_pick_their_own_weight(kind, scales,
                                                                        expected):
    bilinear = Bilinear(3, 2, kind)
    with torch.no_grad():
        bilinear.weight.copy_(torch.tensor(scales).view(3, 1, 1) * torch.eye(2))
    assert bilinear(E).tolist() == expected


def test_autoint_attention_rows_sum_to_one():
    torch.manual_seed(0)
    layer = MultiHeadSelfAttention(in_dim=4, head_dim=3, n_heads=2)
    e = torch.randn(5, 6, 4)
    a = layer.attention(e)
    assert a.shape == (5, 2, 6, 6)
    assert torch.allclose(a.sum(-1), torch.ones(5, 2, 6))
    assert layer(e).shape == (5, 6, 6) and (layer(e) >= 0).all()


def _attention_by_the_formula(layer, e):
    """AutoInt's interacting layer written out per head with batched matrix products."""
    heads = lambda t: t.unflatten(-1, (layer.n_heads, layer.head_dim)).transpose(1, 2)
    q, k, v = heads(layer.query(e)), heads(layer.key(e)), heads(layer.value(e))
    a = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
    return torch.relu((a @ v).transpose(1, 2).flatten(2) + layer.residual(e))


def test_attention_equals_its_formula_in_both_layouts():
    torch.manual_seed(0)
    layer = MultiHeadSelfAttention(in_dim=4, head_dim=3, n_heads=2).double()
    e = torch.randn(5, 6, 4, dtype=torch.double)
    expected = _attention_by_the_formula(layer, e)
    assert torch.allclose(layer(e), expected, atol=1e-12)
    batch_last = layer.interact(e.permute(1, 2, 0).contiguous())           # (F, d, B)
    assert torch.allclose(batch_last.permute(2, 0, 1), expected, atol=1e-12)


def test_attention_backward_matches_autograd_of_its_formula():
    torch.manual_seed(1)
    layer = MultiHeadSelfAttention(in_dim=4, head_dim=3, n_heads=2).double()
    e = torch.randn(5, 6, 4, dtype=torch.double, requires_grad=True)
    grads = []
    for forward in (layer, lambda e: _attention_by_the_formula(layer, e)):
        layer.zero_grad()
        e.grad = None
        (forward(e) * torch.linspace(-1, 1, 36, dtype=torch.double).view(6, 6)).sum().backward()
        grads.append([e.grad.clone()] + [p.grad.clone() for p in layer.parameters()])
    for ours, reference in zip(*grads):
        assert torch.allclose(ours, reference, atol=1e-10)
    assert torch.autograd.gradcheck(layer, (e,))


def test_attention_with_equal_keys_averages_the_values():
    layer = MultiHeadSelfAttention(in_dim=2, head_dim=2, n_heads=1)
    with torch.no_grad():
        layer.query.weight.copy_(torch.eye(2))
        layer.key.weight.zero_()                 # all scores 0: uniform attention 1/3
        layer.value.weight.copy_(torch.eye(2))
        layer.residual.weight.zero_()
    # mean of the fields = (4/3, 1); ReLU keeps it; every field gets the same output
    assert torch.allclose(layer(E), torch.tensor([[[4 / 3, 1.0]] * 3]))
