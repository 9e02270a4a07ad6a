"""WDL with a plain or APG tower, under every condition strategy of Sec. 3.1.1."""

import pytest
import torch

from apg.conditions import ConditionConfig
from apg.models import ModelConfig, build_model
from apg.tower import VARIANTS, APGConfig

CONDITIONS = {
    "group": ConditionConfig("group", ["user_id"]),
    "group_own_embedding": ConditionConfig("group", ["item_id"], share_embeddings=False, dim=4),
    "mix_input_concat": ConditionConfig("mix_input", ["user_id", "item_id"], "concat"),
    "mix_input_mean": ConditionConfig("mix_input", ["user_id", "item_id"], "mean"),
    "mix_input_attention": ConditionConfig("mix_input", ["user_id", "item_id", "genres"],
                                           "attention"),
    "mix_output_concat": ConditionConfig("mix_output", ["user_id", "item_id"], "concat"),
    "mix_output_mean": ConditionConfig("mix_output", ["user_id", "item_id"], "mean"),
    "mix_output_attention": ConditionConfig("mix_output", ["user_id", "gender"], "attention"),
    "self": ConditionConfig("self", []),
}


def wdl(schema, variant, condition=None, hidden=(16, 8)):
    config = ModelConfig(variant=variant, embedding_dim=8, hidden_units=list(hidden),
                         apg=APGConfig(overparam=8),
                         condition=condition or ConditionConfig())
    torch.manual_seed(0)
    return build_model("wdl", schema, config)


NO_SHARED_FACTORS = ("v1", "v2", "v3")   # output concatenation needs v4 / v5's shared U, V


@pytest.mark.parametrize("variant,condition", [
    (v, c) for v in VARIANTS for c in CONDITIONS
    if not (c == "mix_output_concat" and v in NO_SHARED_FACTORS)])
def test_forward_and_backward_for_every_variant_and_condition(schema, splits, variant,
                                                               condition):
    model = wdl(schema, variant, CONDITIONS[condition])
    x = splits["train"][0][:64]
    logits = model(x)
    assert logits.shape == (64,)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.tower.parameters())


@pytest.mark.parametrize("condition", ["group", "mix_input_concat", "mix_output_attention"])
def test_the_apg_tower_adapts_to_the_condition(schema, splits, condition):
    """Same features, a different user: the condition changes the tower's output."""
    model = wdl(schema, "v4", CONDITIONS[condition]).eval()
    x = splits["train"][0][:32].clone()
    columns = [c for f in schema["fields"] for c in f["columns"]]
    h = model.embedding(x).flatten(1)
    other = x.clone()
    user = columns.index("user_id")
    other[:, user] = torch.where(x[:, user] == 1, 2, 1)
    with torch.no_grad():
        for p in model.embedding.parameters():   # make user embeddings clearly distinct
            p.normal_(std=0.5)
        z1 = model.condition(x, model.embedding(x), model.embedding)
        z2 = model.condition(other, model.embedding(other), model.embedding)
        assert not torch.allclose(model.tower(h, z1), model.tower(h, z2), atol=1e-5)


@pytest.mark.parametrize("bad,message", [
    (dict(strategy="group", fields=["user_id", "item_id"]), "exactly one field"),
    (dict(strategy="mix_input", fields=["user_id"], aggregation="mean"), "two or more"),
    (dict(strategy="mix_output", fields=["user_id", "item_id"], aggregation="max"),
     "aggregation must be one of"),
    (dict(strategy="self", fields=["user_id"]), "leave condition.fields empty"),
    (dict(strategy="instance", fields=[]), "is not one of"),
    (dict(strategy="group", fields=["user_id"], dim=8), "only applies with share_embeddings"),
    (dict(strategy="self", fields=[], share_embeddings=False, dim=8), "only applies with"),
])
def test_bad_condition_settings_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        ConditionConfig(**bad)


def test_unknown_condition_field_is_refused(schema):
    with pytest.raises(ValueError, match="not among the model's features"):
        wdl(schema, "v4", ConditionConfig("group", ["favourite_colour"]))


def test_unknown_model_and_variant_are_refused(schema):
    with pytest.raises(ValueError, match="unknown model"):
        build_model("xgboost", schema, ModelConfig())
    with pytest.raises(ValueError, match="unknown variant"):
        wdl(schema, "v9")


@pytest.mark.parametrize("variant", NO_SHARED_FACTORS)
def test_output_concatenation_without_shared_factors_is_refused(schema, variant):
    with pytest.raises(ValueError, match="needs shared factors"):
        wdl(schema, variant, CONDITIONS["mix_output_concat"])


@pytest.mark.parametrize("share", [True, False])
def test_a_multi_valued_condition_field_is_its_first_value(schema, splits, share):
    """Group-wise on genres: z_i is the embedding of the movie's first genre (the rule Table 6's
    domains follow), whatever its other genres are, not their mean."""
    condition = ConditionConfig("group", ["genres"], share_embeddings=share,
                                dim=None if share else 4)
    model = wdl(schema, "v4", condition)
    columns = [c for f in schema["fields"] for c in f["columns"]]
    first, second = columns.index("genres_0"), columns.index("genres_1")
    x = splits["train"][0][:64].clone()
    x[:, first] = torch.arange(64) % 5 + 1
    table = model.embedding if share else model.condition.own_embedding
    offset = table.offsets[table.fields.index("genres") if not share else first]
    with torch.no_grad():
        z = model.condition(x, model.embedding(x), model.embedding)
        assert torch.equal(z, table.table.weight[x[:, first] + offset])
        other = x.clone()
        other[:, second] = torch.where(x[:, second] == 2, 3, 2)    # another second genre
        assert torch.equal(model.condition(other, model.embedding(other), model.embedding), z)
