"""Tuning chooses on the validation split only, reports where each choice lies in its grid,
and grows the learning-rate grid past an edge."""

import pandas as pd
import pytest

from apg.pipeline import load_params, training_runs
from apg.tune import (cheapest_within, grid_position, mark_best_rates,
                      next_rate, overparam_grid, seed_resolution, shared_rate_comparison,
                      tune_condition, tune_learning_rate, tune_rank)


@pytest.fixture()
def params():
    params = load_params()
    params.update(model={"embedding_dim": 8, "hidden_units": [16, 8], "dropout": 0.0},
                  table2={"models": ["wdl", "deepfm"], "apg_version": "v4"},
                  table4={"model": "wdl", "versions": ["v4"],
                          "condition": {"strategy": "group", "fields": ["user_id"],
                                        "aggregation": None}})
    params["train"].update(batch_size=512, max_epochs=4)
    params["tuning"].update(learning_rates=[1e-4, 0.02], max_extensions=1, conditions=[
        {"strategy": "group", "fields": ["user_id"]},
        {"strategy": "mix_input", "fields": ["user_id", "item_id"], "aggregation": "mean"}])
    return params


def train_and_valid(splits):
    """What `python -m apg.tune` loads: no test split at all."""
    return {name: splits[name] for name in ("train", "valid")}


@pytest.mark.parametrize("grid,choice,position", [
    ([0.001, 0.002, 0.005], 0.002, "interior"), ([0.005, 0.001, 0.002], 0.001, "lower edge"),
    ([2, 4, 8, 16], 16, "upper edge"), ([8], 8, "only value")])
def test_grid_position_of_a_hand_built_sweep(grid, choice, position):
    assert grid_position(grid, choice) == position


def test_grid_position_refuses_a_value_that_was_not_swept():
    with pytest.raises(ValueError, match="not among the swept values"):
        grid_position([1, 2, 4], 3)


@pytest.mark.parametrize("rate,direction,neighbour", [
    (0.01, 1, 0.02), (0.02, 1, 0.05), (0.05, 1, 0.1), (0.0005, -1, 0.0002),
    (0.0001, -1, 5e-05), (0.002, -1, 0.001)])
def test_the_rate_grid_grows_along_the_1_2_5_series(rate, direction, neighbour):
    assert next_rate(rate, direction) == pytest.approx(neighbour, rel=1e-12)


def test_p_candidates_are_at_least_4k_and_one_is_above_the_widest_layer():
    assert overparam_grid(8, [4, 8, 16], widest=160) == [32, 64, 128, 256]
    assert overparam_grid(4, [4, 8], widest=64) == [16, 32, 128]
    with pytest.raises(ValueError, match="at least 4 K"):
        overparam_grid(8, [2, 4], widest=160)


def test_each_run_gets_its_own_best_rate_and_its_position():
    table = pd.DataFrame({"table": "table2", "model": "pnn",
                          "variant": ["base"] * 3 + ["v5"] * 3,
                          "learning_rate": [0.001, 0.002, 0.005] * 2,
                          "valid_auc": [81.4, 81.6, 81.5, 81.7, 81.5, 50.0]})
    marked = mark_best_rates(table)
    chosen = marked[marked["chosen"]].set_index("variant")
    assert chosen.loc["base", "learning_rate"] == 0.002
    assert chosen.loc["base", "position"] == "interior"
    assert chosen.loc["v5", "learning_rate"] == 0.001
    assert chosen.loc["v5", "position"] == "lower edge"
    assert (marked.loc[~marked["chosen"], "position"] == "").all()


def test_shared_and_own_rate_deltas_on_a_hand_built_sweep():
    table = pd.DataFrame({"table": "table2", "model": "pnn",
                          "variant": ["base"] * 3 + ["v5"] * 3,
                          "learning_rate": [0.001, 0.002, 0.005] * 2,
                          "valid_auc": [81.4, 81.6, 81.5, 81.7, 81.55, 50.0]})
    row = shared_rate_comparison(table).iloc[0]
    assert (row["rate_base"], row["rate_apg"]) == (0.002, 0.001)
    assert row["delta_own"] == pytest.approx(81.7 - 81.6)
    # mean over both: 0.001 -> 81.55, 0.002 -> 81.575, 0.005 -> 65.75
    assert row["shared_rate"] == 0.002
    assert row["delta_shared"] == pytest.approx(81.55 - 81.6)
    assert row["rates_differ"]


def test_learning_rate_sweep_extends_past_an_edge_on_the_fixture(params, schema, splits):
    """Every run of Tables 2 and 4 is swept; a best rate on an edge gets one more rate beyond
    it (max_extensions = 1), so no chosen rate is on an edge unless the extension ran out."""
    table = mark_best_rates(tune_learning_rate(params, train_and_valid(splits), schema))
    assert list(table[["table", "model", "variant"]].drop_duplicates().itertuples(
        index=False, name=None)) == training_runs(params)
    for _, run in table.groupby(["table", "model", "variant"]):
        # with two rates the best is always on an edge: exactly one extension beyond it
        first_two = run[run["learning_rate"].isin([1e-4, 0.02])]
        best = first_two.loc[first_two["valid_auc"].idxmax(), "learning_rate"]
        extra = set(run["learning_rate"]) - {1e-4, 0.02}
        assert extra == {5e-05 if best == 1e-4 else 0.05}
    assert table["valid_auc"].between(50, 100).all()      # in %, like the reports
    assert table.groupby(["table", "model", "variant"])["chosen"].sum().eq(1).all()


def test_condition_sweep_trains_the_apg_variant_and_marks_one(params, schema, splits):
    table = tune_condition(params, train_and_valid(splits), schema)
    assert list(table["strategy"]) == ["group", "mix_input"]
    assert list(table["fields"]) == ["user_id", "user_id + item_id"]
    assert table["chosen"].sum() == 1
    assert table.loc[table["chosen"], "valid_auc"].item() == table["valid_auc"].max()


def test_rank_sweep_tries_each_k_then_each_p_then_the_best_two_on_a_second_seed(
        params, schema, splits):
    params["table2"]["apg_version"] = "v5"
    params["tuning"].update(start={"rank": 2, "overparam": 8, "learning_rate": 0.02},
                            ranks=[1, 2], overparam_multiples=[4], tolerance=0.0)
    table = tune_rank(params, train_and_valid(splits), schema)
    k_rows = table[table["sweep"] == "K"]
    assert list(k_rows["rank"]) == [1, 2] and set(k_rows["overparam"]) == {8}
    k = k_rows.loc[k_rows["valid_auc"].idxmax(), "rank"]
    widest = 10 * 8                                        # the fixture's 10 fields x dim 8
    grid = overparam_grid(k, [4], widest)
    p_rows = table[table["sweep"] == "P"]
    assert list(p_rows["overparam"]) == [p for p in grid if p != 8]   # P = 8 not trained twice
    assert (p_rows["rank"] == k).all()
    assert table["chosen"].sum() == 1
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["position"].startswith("K: ") and ", P: " in chosen["position"]
    second = table[table["sweep"] == "second seed"]
    assert len(second) == 2 and (second["seed"] == params["tuning"]["second_seed"]).all()
    resolution = seed_resolution(table)
    assert len(resolution) == 2
    assert (resolution["b_minus_a"] == resolution["valid_auc_seed_b"]
            - resolution["valid_auc_seed_a"]).all()


def test_the_cheapest_value_within_the_tolerance_is_chosen():
    rows = [{"rank": 4, "valid_auc": 81.53}, {"rank": 8, "valid_auc": 81.63},
            {"rank": 16, "valid_auc": 81.66}]
    assert cheapest_within(rows, "rank", 0.05)["rank"] == 8
    assert cheapest_within(rows, "rank", 0.0)["rank"] == 16
    assert cheapest_within(rows, "rank", 0.2)["rank"] == 4


def test_rank_sweep_of_a_version_without_p_only_varies_k(params, schema, splits):
    params["tuning"].update(ranks=[2, 4], second_seed=2)
    table = tune_rank(params, train_and_valid(splits), schema)
    assert list(table["rank"][:2]) == [2, 4] and table["overparam"].isna().all()
    assert list(table["sweep"]) == ["K", "K", "second seed", "second seed"]
