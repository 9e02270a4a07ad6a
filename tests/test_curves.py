"""Learning curves and Δ at equal epoch budgets, against hand-made histories."""

import json

import numpy as np
import pandas as pd
import pytest

from apg.curves import budget_deltas, budget_table, load_histories
from apg.train import learning_curve


def run(seed, aucs):
    """One seed's metrics as apg.train.fit records them (AUC as a fraction), best = argmax."""
    best = int(np.argmax(aucs)) + 1
    return {"seed": seed, "best_epoch": best, "stopped_epoch": len(aucs),
            "history": [{"epoch": e, "valid_auc": a} for e, a in enumerate(aucs, start=1)]}


def test_learning_curve_averages_the_seeds_that_trained_each_epoch():
    curve = learning_curve([run(1, [0.70, 0.80, 0.79]), run(2, [0.72, 0.78, 0.81, 0.80])])
    assert list(curve["epoch"]) == [1, 2, 3, 4]
    assert curve["valid_auc"].tolist() == pytest.approx([71.0, 79.0, 80.0, 80.0])
    assert curve["valid_auc_min"].tolist() == pytest.approx([70.0, 78.0, 79.0, 80.0])
    assert curve["valid_auc_max"].tolist() == pytest.approx([72.0, 80.0, 81.0, 80.0])
    assert curve["n_seeds"].tolist() == [2, 2, 2, 1]


@pytest.fixture
def histories(tmp_path):
    """Base converges slowly to a higher AUC; + APG is ahead early and stops first."""
    for variant, seeds in {"base": [[0.70, 0.76, 0.79, 0.810, 0.805, 0.80],
                                    [0.71, 0.75, 0.78, 0.812, 0.81, 0.80]],
                           "v5": [[0.75, 0.79, 0.800, 0.79, 0.78],
                                  [0.76, 0.78, 0.806, 0.80, 0.79]]}.items():
        metrics = {"dataset": "movielens-1m", "model": "wdl", "variant": variant,
                   "runs": [run(s, a) for s, a in enumerate(seeds, start=1)]}
        (tmp_path / f"wdl-{variant}.json").write_text(json.dumps(metrics))
    return load_histories(tmp_path)


def test_load_histories_has_a_row_per_epoch_of_every_seed(histories):
    assert len(histories) == 6 + 6 + 5 + 5
    first = histories[(histories["variant"] == "v5") & (histories["seed"] == 2)]
    assert first["valid_auc"].iloc[0] == pytest.approx(76.0)
    assert set(first["best_epoch"]) == {3} and set(first["stopped_epoch"]) == {5}


def test_a_gain_at_small_budgets_can_be_a_loss_once_converged(histories):
    deltas = budget_deltas(histories, "v5", [1, 2, 3], alpha=0.05).set_index("budget")
    # after 1 epoch: +5 points on both seeds; after 2: +3 and +3
    assert deltas.loc["1", "delta"] == pytest.approx(5.0)
    assert deltas.loc["2", ["base", "apg"]].tolist() == pytest.approx([75.5, 78.5])
    assert deltas.loc["3", "delta"] == pytest.approx(((80.0 - 79.0) + (80.6 - 78.0)) / 2)
    # converged: each seed at its own best epoch, 80.0 vs 81.0 and 80.6 vs 81.2
    assert deltas.loc["best", "delta"] == pytest.approx(-0.8)
    assert deltas.loc["best", "n_pairs"] == 2


def test_a_budget_past_a_run_s_last_epoch_pairs_nothing(histories):
    deltas = budget_deltas(histories, "v5", [6], alpha=0.05).set_index("budget")
    assert deltas.loc["6", "n_pairs"] == 0 and np.isnan(deltas.loc["6", "delta"])


def test_budget_table_stacks_the_backbones(histories):
    two = pd.concat([histories, histories.assign(model="pnn")])
    table = budget_table(two, ["wdl", "pnn"], "v5", [1], alpha=0.05)
    assert list(table["model"]) == ["wdl", "wdl", "pnn", "pnn"]
    assert list(table["budget"]) == ["1", "best"] * 2
