"""Every backbone, Base and +APG: runs, learns, differs from Base only in its deep tower, and
combines its parts into the logit as its paper's formula does."""

import pytest
import torch

from apg.layers import APGLinear
from apg.models import MODELS, ModelConfig, build_model
from apg.tower import APGConfig
from apg.train import TrainConfig, fit, seed_everything

BACKBONES = ["wdl", "pnn", "fibinet", "difm", "deepfm", "dcn", "autoint"]
CASES = [(name, variant) for name in BACKBONES for variant in ("base", "v4")] + [("dcn", "v5")]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are tiny: one thread is faster, and two thrash when the cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(schema, name, variant, seed=0):
    config = ModelConfig(variant=variant, embedding_dim=8, hidden_units=[16, 8],
                         apg=APGConfig(overparam=8))
    seed_everything(seed)
    return build_model(name, schema, config)


def test_every_backbone_and_multidomain_baseline_is_registered():
    assert sorted(MODELS) == sorted([*BACKBONES, "mmoe", "star"])   # tests/test_multidomain.py


@pytest.mark.parametrize("name,variant", CASES)
def test_forward_and_backward(schema, splits, name, variant):
    model = build(schema, name, variant)
    logits = model(splits["train"][0][:64])
    assert logits.shape == (64,) and torch.isfinite(logits).all()
    logits.sum().backward()
    grads = [p.grad for p in model.tower.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", BACKBONES)
def test_base_and_apg_differ_only_in_the_tower(schema, name):
    base, apg = build(schema, name, "base"), build(schema, name, "v4")
    assert all(isinstance(layer, torch.nn.Linear) for layer in base.tower.layers)
    assert all(isinstance(layer, APGLinear) for layer in apg.tower.layers)
    def outside_tower(m):
        return {k: v.shape for k, v in m.state_dict().items()
                if not k.startswith(("tower.", "condition."))}
    assert outside_tower(base) == outside_tower(apg)


@pytest.mark.parametrize("name", BACKBONES)
def test_the_apg_tower_adapts_to_the_condition(schema, splits, name):
    """Same features, the condition z of a different user: the logits change."""
    model = build(schema, name, "v4").eval()
    x = splits["train"][0][:32]
    user = [c for f in schema["fields"] for c in f["columns"]].index("user_id")
    other = x.clone()
    other[:, user] = torch.where(x[:, user] == 1, 2, 1)
    with torch.no_grad():
        for p in model.embedding.parameters():   # make user embeddings clearly distinct
            p.normal_(std=0.5)
        z_other = model.condition(other, model.embedding(other), model.embedding)
        same = model(x)
        handle = model.condition.register_forward_hook(lambda module, args, z: z_other)
        swapped = model(x)
        handle.remove()
    assert not torch.allclose(same, swapped, atol=1e-5)


@pytest.mark.parametrize("variant", ["base", "v4"])
@pytest.mark.parametrize("name", BACKBONES)
def test_a_short_training_run_lowers_the_loss_and_beats_chance(schema, splits, name, variant):
    model = build(schema, name, variant, seed=1)
    run = fit(model, splits, TrainConfig(batch_size=512, max_epochs=2), seed=1,
              log=lambda line: None)
    losses = [epoch["train_loss"] for epoch in run["history"]]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert run["test_auc"] > 0.6


# Each backbone's logit recomputed from its parts, combined by hand after its paper's formula.
# The model's submodules give the embeddings, the attention layers and (for +APG) the tower;
# every combination and every simple piece (first-order sum, FM pairs, linear heads, the Base
# tower's layers) is written out here. Double precision, and embeddings and biases made large
# enough that every term of a logit lies far above the tolerance: dropping one shows.

def lively(model):
    """The model in double precision for evaluation, embedding tables of std 0.5, no zero
    parameters."""
    model.double().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("table.weight"):
                p.normal_(std=0.5)
            elif not p.abs().sum():
                p.uniform_(-0.5, 0.5)
    return model


def pairs(n_fields):
    return [(i, j) for i in range(n_fields) for j in range(i + 1, n_fields)]


def dot(a, b):
    return (a * b).sum(-1)


def dense(layer, h):
    """h W^T (+ b) of an nn.Linear."""
    return h @ layer.weight.T + (0 if layer.bias is None else layer.bias)


def first_order(linear, x):
    """w_0 + sum_i w_i(x), the per-value weights being a one-dim embedding of every field."""
    return linear.weight(x).squeeze(-1).sum(1) + linear.bias


def fm_pairs(e):
    """sum_{i<j} <e_i, e_j>, pair by pair."""
    return sum(dot(e[:, i], e[:, j]) for i, j in pairs(e.shape[1]))


def mlp(layers, h):
    """ReLU(W_l h + b_l), layer after layer: the Base tower."""
    for layer in layers:
        h = torch.relu(dense(layer, h))
    return h


def deep_part(model, h, x, e):
    """The tower's output on h: by hand for Base, the model's conditioned tower for +APG."""
    return mlp(model.tower.layers, h) if model.config.variant == "base" else model.deep(h, x, e)


def by_hand(schema, splits, name, variant="base"):
    """The model made lively, a batch of fixture rows and its field embeddings (B, F, d)."""
    model = lively(build(schema, name, variant))
    x = splits["train"][0][:16]
    return model, x, model.embedding(x)


def assert_logit(model, x, reference):
    with torch.no_grad():
        assert torch.allclose(model(x), reference, atol=1e-5)


@pytest.mark.parametrize("variant", ["base", "v5"])
def test_wdl_logit_is_wide_plus_deep(schema, splits, variant):
    """WDL: logit = (w_0 + sum_i w_i) + head(tower(flattened embeddings)); +APG: the tower only."""
    model, x, e = by_hand(schema, splits, "wdl", variant)
    deep = dense(model.head, deep_part(model, e.flatten(1), x, e)).squeeze(-1)
    assert_logit(model, x, first_order(model.wide, x) + deep)


def test_pnn_product_layer_feeds_the_tower(schema, splits):
    """IPNN: l_1 = ReLU(l_z + l_p + b_1), z = flat embeddings, p_ij = <e_i, e_j>; head(tower)."""
    model, x, e = by_hand(schema, splits, "pnn")
    z = e.flatten(1)
    p = torch.stack([dot(e[:, i], e[:, j]) for i, j in pairs(e.shape[1])], dim=1)
    first, *rest = model.tower.layers
    w_z, w_p = first.weight[:, :z.shape[1]], first.weight[:, z.shape[1]:]
    l1 = torch.relu(z @ w_z.T + p @ w_p.T + first.bias)
    assert_logit(model, x, dense(model.head, mlp(rest, l1)).squeeze(-1))


def test_fibinet_combines_bilinear_of_embeddings_and_of_senet(schema, splits):
    """FiBiNET: logit = w_0 + sum_i w_i + head(tower([Bilinear(E), Bilinear(SENET(E))]))."""
    model, x, e = by_hand(schema, splits, "fibinet")
    squeeze, excite = model.senet.squeeze_to, model.senet.excite
    a = torch.relu(dense(excite, torch.relu(dense(squeeze, e.mean(-1)))))        # (B, F)
    v = e * a.unsqueeze(-1)
    w, w_senet = model.bilinear.weight[0], model.bilinear_senet.weight[0]
    p = [(e[:, i] @ w) * e[:, j] for i, j in pairs(e.shape[1])]
    q = [(v[:, i] @ w_senet) * v[:, j] for i, j in pairs(e.shape[1])]
    deep = mlp(model.tower.layers, torch.cat([*p, *q], dim=1))
    assert_logit(model, x, first_order(model.linear, x) + dense(model.head, deep).squeeze(-1))


def test_difm_reweights_the_fm_by_the_input_aware_factor(schema, splits):
    """DIFM: m = P_vec O_vec + P_bit O_bit; logit = w_0 + sum m_i w_i + sum <m_i e_i, m_j e_j>."""
    model, x, e = by_hand(schema, splits, "difm")
    o_vec = model.attention(e).flatten(1)
    o_bit = mlp(model.tower.layers, e.flatten(1))
    m = o_vec @ model.vector_wise.weight.T + o_bit @ model.bit_wise.weight.T      # (B, F)
    w = model.linear.weight(x).squeeze(-1)                                        # (B, F)
    fm = sum(m[:, i] * m[:, j] * dot(e[:, i], e[:, j]) for i, j in pairs(e.shape[1]))
    assert_logit(model, x, model.linear.bias + (m * w).sum(1) + fm)


@pytest.mark.parametrize("variant", ["base", "v5"])
def test_deepfm_logit_is_first_order_plus_fm_plus_deep(schema, splits, variant):
    """DeepFM: logit = w_0 + sum_i w_i + sum_{i<j} <e_i, e_j> + y_DNN (Eq. 1-2); +APG: tower."""
    model, x, e = by_hand(schema, splits, "deepfm", variant)
    y_dnn = dense(model.head, deep_part(model, e.flatten(1), x, e)).squeeze(-1)
    assert_logit(model, x, first_order(model.linear, x) + fm_pairs(e) + y_dnn)


def test_dcn_head_reads_the_cross_and_the_deep_outputs(schema, splits):
    """DCN: x_{l+1} = x_0 x_l^T w_l + b_l + x_l (Eq. 3); logit = w^T [x_L1, h_L2] + b (Eq. 5)."""
    model, x, e = by_hand(schema, splits, "dcn")
    x0 = x_l = e.flatten(1)
    for w, b in zip(model.cross.w, model.cross.b):
        x_l = (x0.unsqueeze(2) @ x_l.unsqueeze(1)) @ w + b + x_l
    h = mlp(model.tower.layers, x0)
    w_cross, w_deep = model.head.weight[0, :x0.shape[1]], model.head.weight[0, x0.shape[1]:]
    assert_logit(model, x, x_l @ w_cross + h @ w_deep + model.head.bias)


def test_autoint_logit_is_interacting_head_plus_deep(schema, splits):
    """AutoInt+: logit = sum_m <w_m, e^Res_m> + b + head(tower(flattened embeddings))."""
    model, x, e = by_hand(schema, splits, "autoint")
    res = e
    for layer in model.interacting:
        res = layer(res)                                                  # (B, F, H * d')
    w = model.interacting_head.weight.view(e.shape[1], -1)               # w_m, field by field
    interacting = (res * w).sum((1, 2)) + model.interacting_head.bias
    deep = dense(model.head, mlp(model.tower.layers, e.flatten(1))).squeeze(-1)
    assert_logit(model, x, interacting + deep)
