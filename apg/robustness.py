"""Does a Table 2 gain survive what the paper leaves open? (`make robustness`)

The paper states neither how its generator is initialised, nor how wide a tower it used, nor
how the learning rates were tuned. Each variation in params.yaml's `robustness:` section
retrains Table 2's comparison with one of those choices changed, on the same seeds, split and
condition:

- an `overrides` variation merges params.yaml sections over the pipeline's (e.g. `apg.init:
  default`, a wider tower) for its backbones: WDL and, with `add_reproduced`, every backbone
  whose Table 2 gain reproduces. Base is retrained only when the overrides change it (an `apg`
  override does not; Table 2's Base run is then the reference, as in Table 2);
- `shared_rate` trains every backbone whose Base and + APG got different rates at the one rate
  with the best mean validation AUC of the two (`reports/tuning/learning_rate_shared.csv`), so
  the Δ under both tuning rules can be set side by side.

Each run is the training notebook, as the pipeline runs it; `summary` pairs them by seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from apg.claims import REPRODUCES, gain_verdict
from apg.pipeline import (ROBUSTNESS_DIR, TUNING_DIR, merge, run_notebook, run_paths,
                          train_parameters)
from apg.stats import paired_difference

BASE_SECTIONS = ("seeds", "model", "train", "learning_rates")   # what a Base run reads


@dataclass(frozen=True)
class Run:
    variation: str
    model: str
    variant: str
    params: dict          # params.yaml with the variation applied
    retrain: bool         # False: Table 2's run of the same model and variant is the same run


def reproduced(table2: pd.DataFrame, alpha: float) -> list[str]:
    """The backbones whose Table 2 gain reproduces (`claims.gain_verdict`)."""
    apg = table2[table2["variant"] == "apg"]
    return [r["model"] for _, r in apg.iterrows()
            if gain_verdict(r["delta"], r["p_value"], alpha) == REPRODUCES]


def plan(params: dict, table2: pd.DataFrame, shared: pd.DataFrame) -> list[Run]:
    """Every run the robustness check needs, Base before + APG per backbone and variation.
    `table2` is Table 2's report table, `shared` the tuning's shared-rate comparison."""
    section, apg_version = params["robustness"], params["table2"]["apg_version"]
    runs = []
    for name, variation in section["variations"].items():
        models = list(variation["models"])
        if variation["add_reproduced"]:
            models += [m for m in reproduced(table2, params["report"]["alpha"])
                       if m not in models]
        changed = merge(params, variation["overrides"])
        base_changes = any(changed.get(s) != params.get(s) for s in BASE_SECTIONS)
        for model in models:
            runs.append(Run(name, model, "base", changed, base_changes))
            runs.append(Run(name, model, apg_version, changed, True))
    if section["shared_rate"]:
        for row in shared[shared["rates_differ"]].itertuples():
            rates = params["learning_rates"]["table2"][row.model]
            at_shared = {**rates, "base": row.shared_rate, apg_version: row.shared_rate}
            changed = merge(params, {"learning_rates": {"table2": {row.model: at_shared}}})
            for variant in ("base", apg_version):
                runs.append(Run("shared_rate", row.model, variant, changed,
                                rates[variant] != row.shared_rate))
    return runs


def folder(variation: str) -> str:
    """Where a variation's runs write, in place of a table's name (`pipeline.run_paths`)."""
    return f"robustness/{variation}"


def metrics_path(run: Run) -> str:
    """The metrics of a run: its own, or Table 2's run that it is the same as."""
    dataset = run.params["data"]["dataset"]
    table = folder(run.variation) if run.retrain else "table2"
    return run_paths(dataset, table, run.model, run.variant)["metrics"]


def train(root: Path, runs: list[Run], log=print) -> None:
    """Train every run that is not one of Table 2's (its notebook as the pipeline runs it)."""
    for run in runs:
        if not run.retrain:
            continue
        log(f"robustness: {run.variation}, {run.model}-{run.variant}")
        dataset = run.params["data"]["dataset"]
        parameters = train_parameters(run.params, "table2", run.model, run.variant,
                                      out=folder(run.variation))
        notebook = run_paths(dataset, folder(run.variation), run.model, run.variant)["notebook"]
        run_notebook("notebooks/train.ipynb", notebook, parameters, root)


def summary(root: Path, runs: list[Run], table2: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per variation and backbone: + APG against Base in test AUC (%), paired by seed, beside
    Table 2's Δ of the same backbone, and where Base came from."""
    from apg.reporting import load_runs

    rows = []
    by_pair = {}
    for run in runs:
        by_pair.setdefault((run.variation, run.model), {})[run.variant] = run
    for (variation, model), pair in by_pair.items():
        aucs = {variant: load_runs(root / metrics_path(run)).set_index("seed")["test_auc"] * 100
                for variant, run in pair.items()}
        apg_variant = next(v for v in pair if v != "base")
        d = paired_difference(aucs[apg_variant], aucs["base"], alpha)
        reference = table2[(table2["model"] == model) & (table2["variant"] == "apg")]
        rows.append({"dataset": pair["base"].params["data"]["dataset"], "variation": variation,
                     "model": model, "base_retrained": pair["base"].retrain,
                     "auc_base": aucs["base"].mean(), "auc_apg": aucs[apg_variant].mean(),
                     **{k: d[k] for k in ("delta", "delta_std", "ci_low", "ci_high",
                                          "p_value")},
                     "n_seeds": d["n_pairs"],
                     "table2_delta": reference["delta"].iloc[0] if len(reference) else None})
    return pd.DataFrame(rows)


def main() -> None:
    """`python -m apg.robustness`: plan from params.yaml and the committed Table 2 and tuning
    tables, train what is not Table 2's, write reports/robustness/<dataset>.csv|md (which the
    Table 2 report and the claims ledger read)."""
    from apg.pipeline import REPORT_DIRS, load_params, project_root
    from apg.reporting import write_table

    root = project_root()
    params = load_params(root)
    table2 = pd.read_csv(root / REPORT_DIRS["tables_dir"] / "table2.csv")
    shared = pd.read_csv(root / TUNING_DIR / "learning_rate_shared.csv")
    runs = plan(params, table2, shared)
    train(root, runs)
    table = summary(root, runs, table2, params["report"]["alpha"])
    write_table(table, root / ROBUSTNESS_DIR / params["data"]["dataset"])
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
