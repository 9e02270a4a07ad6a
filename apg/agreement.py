"""Do two trainings of the whole pipeline, on different devices, reach the same verdicts?

The reference runs are the pipeline's (`metrics/<dataset>/<table>/`, trained on a CPU); the
other set is `python -m apg.parallel`'s, on a GPU (`metrics/<dataset>/cuda/<table>/`). Same
seeds, splits, models and learning rates: the runs differ only in floating-point order, which
early stopping can turn into a different stopping epoch. Every paired comparison a claim of
Tables 2, 4 and 6 rests on is computed on both sets with the same rules (`apg.stats`,
`apg.claims.gain_verdict`), and the report (`reports/training_cuda.ipynb`) sets them side by
side.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from apg.claims import gain_verdict
from apg.pipeline import run_paths, table6_methods, training_runs
from apg.reporting import load_runs
from apg.stats import paired_difference

Run = tuple[str, str, str]       # (table, model, variant), as `training_runs` lists them


def claim_pairs(params: dict) -> list[tuple[str, Run, Run]]:
    """(name, ours, against) of every paired comparison a claim of Tables 2, 4 and 6 rests on:
    each backbone + APG against its Base, each Table 4 version against Base (Table 2's Base
    run), APG against each multi-domain baseline in each setting, and fine- against
    coarse-grained APG."""
    version = params["table2"]["apg_version"]
    pairs = [(f"table2 {m}: +APG vs Base", ("table2", m, version), ("table2", m, "base"))
             for m in params["table2"]["models"]]
    model = params["table4"]["model"]
    pairs += [(f"table4 {model} {v} vs Base", ("table4", model, v), ("table2", model, "base"))
              for v in params["table4"]["versions"]]
    settings = list(params["table6"]["settings"])
    pairs += [(f"table6 apg-{s} vs {m}-{s}", ("table6", "apg", s), ("table6", m, s))
              for s in settings for m in table6_methods(params) if m != "apg"]
    if {"cg", "fg"} <= set(settings):
        pairs.append(("table6 apg-fg vs apg-cg", ("table6", "apg", "fg"), ("table6", "apg", "cg")))
    return pairs


def run_metrics(root: Path, dataset: str, run: Run, folder: str = "") -> Path:
    """A run's metrics JSON: the pipeline's, or, with `folder`, `apg.parallel`'s copy of it."""
    table, model, variant = run
    return Path(root) / run_paths(dataset, f"{folder}/{table}" if folder else table, model,
                                  variant)["metrics"]


def seed_aucs(root: Path, dataset: str, run: Run, folder: str = "") -> pd.Series:
    """Test AUC (%) of a run by seed."""
    runs = load_runs(run_metrics(root, dataset, run, folder))
    return runs.set_index("seed")["test_auc"] * 100


def compare_runs(root: Path, params: dict, folder: str) -> pd.DataFrame:
    """Per run: mean test AUC (%) over seeds on each device, the largest per-seed difference,
    the mean stopping epoch and training seconds per seed on each."""
    dataset = params["data"]["dataset"]
    rows = []
    for run in training_runs(params):
        sides = {side: load_runs(run_metrics(root, dataset, run, where)).set_index("seed")
                 for side, where in (("reference", ""), ("device", folder))}
        gap = (sides["device"]["test_auc"] - sides["reference"]["test_auc"]) * 100
        rows.append({"table": run[0], "run": f"{run[1]}-{run[2]}",
                     **{f"auc_{side}": 100 * s["test_auc"].mean() for side, s in sides.items()},
                     "auc_gap": gap.mean(), "largest_seed_gap": gap.abs().max(),
                     **{f"epochs_{side}": s["stopped_epoch"].mean()
                        for side, s in sides.items()},
                     **{f"seconds_{side}": s["train_seconds"].mean()
                        for side, s in sides.items()}})
    return pd.DataFrame(rows)


def compare_verdicts(root: Path, params: dict, folder: str, alpha: float) -> pd.DataFrame:
    """Per claim pair (`claim_pairs`): Δ (points), paired p and `gain_verdict` on each device,
    and whether the two verdicts agree."""
    dataset = params["data"]["dataset"]
    rows = []
    for name, ours, against in claim_pairs(params):
        row = {"comparison": name}
        for side, where in (("reference", ""), ("device", folder)):
            d = paired_difference(seed_aucs(root, dataset, ours, where),
                                  seed_aucs(root, dataset, against, where), alpha)
            row |= {f"delta_{side}": d["delta"], f"p_{side}": d["p_value"],
                    f"verdict_{side}": gain_verdict(d["delta"], d["p_value"], alpha)}
        row["agree"] = row["verdict_reference"] == row["verdict_device"]
        rows.append(row)
    return pd.DataFrame(rows)


def training_wall(root: Path, params: dict, folder: str) -> dict:
    """Wall seconds of all training: the pipeline's stages one after another (each its seeds
    side by side), against `apg.parallel`'s one pool (its `wall.json`)."""
    dataset = params["data"]["dataset"]
    reference = sum(json.loads(run_metrics(root, dataset, run).read_text())["train_wall_seconds"]
                    for run in training_runs(params))
    device = json.loads((Path(root) / "metrics" / dataset / folder / "wall.json").read_text())
    return {"reference_seconds": reference, "device_seconds": device["wall_seconds"],
            "device": device["device"], "workers": device["workers"]}
