"""The robustness check's plan: which runs it trains and which it takes from Table 2."""

import pandas as pd

from apg.pipeline import load_params
from apg.robustness import metrics_path, plan, reproduced


def table2(deltas: dict) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "variant": "apg", "delta": d, "p_value": p}
                         for m, (d, p) in deltas.items()])


def shared(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["model", "shared_rate", "rates_differ"])


def params_with(variations, shared_rate=False):
    params = load_params()
    params["robustness"] = {"variations": variations, "shared_rate": shared_rate}
    return params


def test_reproduced_backbones_are_those_whose_gain_passes_the_ledger_rule():
    t = table2({"wdl": (0.2, 0.01), "pnn": (0.05, 0.01), "dcn": (0.3, 0.2), "autoint": (0.15, 0.04)})
    assert reproduced(t, 0.05) == ["wdl", "autoint"]


def test_an_apg_override_retrains_only_apg_and_adds_the_reproduced_backbones():
    params = params_with({"init_default": {"overrides": {"apg": {"init": "default"}},
                                           "models": ["wdl"], "add_reproduced": True}})
    runs = plan(params, table2({"wdl": (0.2, 0.01), "dcn": (0.3, 0.001), "pnn": (0.0, 0.9)}),
                shared([]))
    assert [(r.model, r.variant, r.retrain) for r in runs] == [
        ("wdl", "base", False), ("wdl", "v5", True), ("dcn", "base", False), ("dcn", "v5", True)]
    assert runs[1].params["apg"]["init"] == "default"
    assert metrics_path(runs[0]) == "metrics/movielens-1m/table2/wdl-base.json"
    assert metrics_path(runs[1]) == "metrics/movielens-1m/robustness/init_default/wdl-v5.json"


def test_a_model_override_retrains_base_too():
    params = params_with({"wide": {"overrides": {"model": {"hidden_units": [256, 128, 64]}},
                                   "models": ["wdl"], "add_reproduced": False}})
    runs = plan(params, table2({}), shared([]))
    assert [(r.variant, r.retrain) for r in runs] == [("base", True), ("v5", True)]
    assert runs[0].params["model"]["hidden_units"] == [256, 128, 64]


def test_shared_rate_runs_train_only_the_variant_whose_own_rate_differs():
    params = params_with({}, shared_rate=True)
    params["learning_rates"]["table2"]["pnn"] = {"base": 0.01, "v5": 0.002}
    runs = plan(params, table2({}), shared([{"model": "pnn", "shared_rate": 0.01,
                                              "rates_differ": True},
                                             {"model": "wdl", "shared_rate": 0.005,
                                              "rates_differ": False}]))
    assert [(r.model, r.variant, r.retrain) for r in runs] == [("pnn", "base", False),
                                                              ("pnn", "v5", True)]
    assert runs[1].params["learning_rates"]["table2"]["pnn"] == {"base": 0.01, "v5": 0.01}
