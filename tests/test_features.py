"""The shared feature layer against a hand lookup: single-valued fields are rows of their own
slice of one table, multi-valued fields the mean of their non-padding values' rows."""

import torch

from apg.features import FeatureEmbedding

SCHEMA = {"fields": [
    {"name": "user", "kind": "single", "columns": ["user"], "vocab_size": 5},
    {"name": "genres", "kind": "multi", "columns": ["genres_0", "genres_1", "genres_2"],
     "vocab_size": 4},
    {"name": "hour", "kind": "single", "columns": ["hour"], "vocab_size": 3},
]}
X = torch.tensor([[1, 2, 3, 0, 2],      # user 1, genres {2, 3}, hour 2
                  [4, 1, 1, 1, 0],      # user 4, genres {1, 1, 1}, hour 0
                  [0, 0, 0, 0, 1]])     # user 0 (out of vocabulary), no genre, hour 1


def reference(table: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Field by field: user's rows 0-4, genres' rows 5-8, hour's rows 9-11 of the table."""
    rows = []
    for user, g0, g1, g2, hour in x.tolist():
        genres = [table[5 + g] for g in (g0, g1, g2) if g > 0]
        pooled = torch.stack(genres).mean(0) if genres else torch.zeros(table.shape[1])
        rows.append(torch.stack([table[user], pooled, table[9 + hour]]))
    return torch.stack(rows)


def test_fields_are_looked_up_in_their_slice_and_multi_valued_ones_mean_pooled():
    torch.manual_seed(0)
    layer = FeatureEmbedding(SCHEMA, dim=4, init_std=1.0)
    out = layer(X)
    assert out.shape == (3, 3, 4)
    assert torch.allclose(out, reference(layer.table.weight.detach(), X), atol=1e-6)
    assert torch.equal(out[2, 1], torch.zeros(4))          # no genre: the zero vector


def test_the_gather_backward_is_the_gradient_of_the_lookup():
    torch.manual_seed(1)
    layer = FeatureEmbedding(SCHEMA, dim=4, init_std=1.0)
    weights = torch.randn(3, 3, 4)
    (layer(X) * weights).sum().backward()
    table = layer.table.weight.detach().clone().requires_grad_()
    (reference(table, X) * weights).sum().backward()
    assert torch.allclose(layer.table.weight.grad, table.grad, atol=1e-6)
    assert torch.equal(layer.table.weight.grad[5], torch.zeros(4))  # padding: masked out


def test_a_subset_of_fields_in_another_order_reads_the_right_columns():
    torch.manual_seed(2)
    layer = FeatureEmbedding(SCHEMA, dim=2, fields=["hour", "user"], init_std=1.0)
    table = layer.table.weight.detach()          # hour's rows 0-2, then user's rows 3-7
    expected = torch.stack([torch.stack([table[hour], table[3 + user]])
                            for user, *_, hour in X.tolist()])
    assert torch.allclose(layer(X), expected)


def test_first_value_is_the_first_listed_not_the_mean():
    torch.manual_seed(3)
    layer = FeatureEmbedding(SCHEMA, dim=4, init_std=1.0)
    table = layer.table.weight.detach()
    first = layer.first_value(X, "genres")
    assert torch.allclose(first, torch.stack([table[5 + 2], table[5 + 1], table[5 + 0]]))
