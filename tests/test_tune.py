"""Tuning chooses on the validation split only, and marks the best candidate of each group."""

import pytest

from apg.pipeline import load_params
from apg.tune import mark_best_rates, tune_condition, tune_learning_rate


@pytest.fixture()
def params():
    params = load_params()
    params.update(model={"embedding_dim": 8, "hidden_units": [16, 8], "dropout": 0.0},
                  table2={"models": ["wdl", "deepfm"], "apg_version": "v4"})
    params["train"].update(batch_size=512, max_epochs=4)
    params["tuning"].update(learning_rates=[1e-4, 0.02], conditions=[
        {"strategy": "group", "fields": ["user_id"]},
        {"strategy": "mix_input", "fields": ["user_id", "item_id"], "aggregation": "mean"}])
    return params


def train_and_valid(splits):
    """What `python -m apg.tune` loads: no test split at all."""
    return {name: splits[name] for name in ("train", "valid")}


def test_learning_rate_sweep_marks_each_backbones_best(params, schema, splits):
    table = mark_best_rates(tune_learning_rate(params, train_and_valid(splits), schema))
    assert list(table["model"]) == ["wdl", "wdl", "deepfm", "deepfm"]
    assert list(table["learning_rate"]) == [1e-4, 0.02] * 2
    for _, group in table.groupby("model"):
        assert group["chosen"].sum() == 1
        assert group.loc[group["chosen"], "valid_auc"].item() == group["valid_auc"].max()
    assert table["valid_auc"].between(50, 100).all()          # in %, like the reports


def test_condition_sweep_trains_the_apg_variant_and_marks_one(params, schema, splits):
    table = tune_condition(params, train_and_valid(splits), schema)
    assert list(table["strategy"]) == ["group", "mix_input"]
    assert list(table["fields"]) == ["user_id", "user_id + item_id"]
    assert table["chosen"].sum() == 1
    assert table.loc[table["chosen"], "valid_auc"].item() == table["valid_auc"].max()
