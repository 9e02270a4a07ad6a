"""Tuning chooses on the validation split only, and marks the best candidate of each group."""

import pandas as pd
import pytest

from apg.pipeline import load_params
from apg.tune import (cheapest_within, mark_best_rates, tune_condition, tune_learning_rate,
                      tune_rank)


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


def test_learning_rate_sweep_runs_base_and_apg_and_marks_one_rate_per_backbone(params, schema,
                                                                                splits):
    table = mark_best_rates(tune_learning_rate(params, train_and_valid(splits), schema))
    assert list(table["model"]) == ["wdl"] * 4 + ["deepfm"] * 4
    assert list(table["variant"]) == ["base", "base", "v4", "v4"] * 2
    assert list(table["learning_rate"]) == [1e-4, 0.02] * 4
    for _, group in table.groupby("model"):
        mean = group.groupby("learning_rate")["valid_auc"].mean()
        assert set(group.loc[group["chosen"], "learning_rate"]) == {mean.idxmax()}
        assert group["chosen"].sum() == 2                    # Base and + APG share the rate
    assert table["valid_auc"].between(50, 100).all()          # in %, like the reports


def test_the_chosen_rate_is_not_one_at_which_the_apg_variant_diverges():
    table = pd.DataFrame({"model": ["pnn"] * 4, "variant": ["base", "base", "v5", "v5"],
                          "learning_rate": [0.01, 0.02] * 2,
                          "valid_auc": [81.48, 81.63, 81.40, 50.0]})
    chosen = mark_best_rates(table)
    assert set(chosen.loc[chosen["chosen"], "learning_rate"]) == {0.01}


def test_condition_sweep_trains_the_apg_variant_and_marks_one(params, schema, splits):
    table = tune_condition(params, train_and_valid(splits), schema)
    assert list(table["strategy"]) == ["group", "mix_input"]
    assert list(table["fields"]) == ["user_id", "user_id + item_id"]
    assert table["chosen"].sum() == 1
    assert table.loc[table["chosen"], "valid_auc"].item() == table["valid_auc"].max()


def test_rank_sweep_tries_each_k_then_each_p_at_the_chosen_k(params, schema, splits):
    params["table2"]["apg_version"] = "v5"
    params["tuning"].update(start={"rank": 4, "overparam": 8, "learning_rate": 0.02},
                            ranks=[2, 4], overparams=[8, 16], tolerance=0.0)
    table = tune_rank(params, train_and_valid(splits), schema)
    best_k = table.loc[table.index[:2], "valid_auc"].idxmax()
    assert list(table["rank"]) == [2, 4, table.loc[best_k, "rank"]]
    assert list(table["overparam"]) == [8, 8, 16]            # P = 8 is not trained twice
    assert table["chosen"].sum() == 1
    at_k = table[table["rank"] == table.loc[best_k, "rank"]]
    assert table.loc[table["chosen"], "valid_auc"].item() == at_k["valid_auc"].max()
    assert table["valid_auc"].nunique() > 1                  # K and P reach the model


def test_the_cheapest_value_within_the_tolerance_is_chosen():
    rows = [{"rank": 4, "valid_auc": 81.53}, {"rank": 8, "valid_auc": 81.63},
            {"rank": 16, "valid_auc": 81.66}]
    assert cheapest_within(rows, "rank", 0.05)["rank"] == 8
    assert cheapest_within(rows, "rank", 0.0)["rank"] == 16
    assert cheapest_within(rows, "rank", 0.2)["rank"] == 4


def test_rank_sweep_of_a_version_without_p_only_varies_k(params, schema, splits):
    params["tuning"].update(ranks=[2, 4], overparams=[8, 16])
    table = tune_rank(params, train_and_valid(splits), schema)
    assert list(table["rank"]) == [2, 4] and table["overparam"].isna().all()
