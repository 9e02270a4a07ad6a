"""params.yaml holds exactly what `make tune` chose and recorded in reports/tuning/, so every
tuned value the pipeline runs with can be traced to a validation run and its grid."""

from pathlib import Path

import pandas as pd
import pytest

from apg.pipeline import load_params
from apg.pipeline import training_runs

ROOT = Path(__file__).resolve().parents[1]
TUNING = ROOT / "reports" / "tuning"
PARAMS = load_params(ROOT)


def chosen(name: str) -> pd.DataFrame:
    table = pd.read_csv(TUNING / f"{name}.csv")
    return table[table["chosen"]]


def test_k_and_p_are_the_rank_sweep_s_choice():
    [row] = chosen("rank").to_dict("records")
    assert (PARAMS["apg"]["rank"], PARAMS["apg"]["overparam"]) == (row["rank"], row["overparam"])


def test_the_condition_is_the_condition_sweep_s_choice():
    [row] = chosen("condition").fillna("").to_dict("records")
    condition = PARAMS["condition"]
    assert condition["strategy"] == row["strategy"]
    assert " + ".join(condition["fields"]) == row["fields"]
    assert (condition["aggregation"] or "") == row["aggregation"]


@pytest.mark.parametrize("table,model,variant", training_runs(PARAMS))
def test_every_run_s_learning_rate_is_its_sweep_s_choice(table, model, variant):
    rates = chosen("learning_rate")
    [rate] = rates.loc[(rates["table"] == table) & (rates["model"] == model)
                       & (rates["variant"] == variant), "learning_rate"]
    assert PARAMS["learning_rates"][table][model][variant] == rate
