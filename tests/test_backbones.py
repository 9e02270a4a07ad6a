"""Every backbone, Base and +APG: runs, learns, and differs from Base only in its deep tower."""

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
