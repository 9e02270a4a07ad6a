"""Learning curves: the validation AUC of every epoch, and Base against + APG at equal budgets.

APG variants stop several epochs before their Base. A converged gain can then be a gain in
accuracy or only in speed of convergence; comparing both after the same number of epochs (and
each at its own best epoch, which is what early stopping keeps) tells them apart. Everything
here reads the per-epoch `history` that `apg.train.fit` records on the validation split (each
run's own curve over its seeds is written by `apg.train.save_curve`); the test split is never
touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from apg.stats import paired_difference


def load_histories(*paths: str | Path) -> pd.DataFrame:
    """Every epoch of every seed in the given metrics JSON files (or folders of them): one row
    per (dataset, model, variant, seed, epoch) with valid_auc in %, and each seed's best and
    stopping epoch."""
    files = [f for p in map(Path, paths) for f in ([p] if p.is_file() else sorted(p.glob("*.json")))]
    rows = []
    for file in files:
        metrics = json.loads(file.read_text())
        for run in metrics["runs"]:
            for h in run["history"]:
                rows.append({"dataset": metrics["dataset"], "model": metrics["model"],
                             "variant": metrics["variant"], "seed": run["seed"],
                             "epoch": h["epoch"], "valid_auc": 100 * h["valid_auc"],
                             "best_epoch": run["best_epoch"],
                             "stopped_epoch": run["stopped_epoch"]})
    return pd.DataFrame(rows)


def budget_aucs(histories: pd.DataFrame, budgets) -> pd.DataFrame:
    """Per variant and seed: the validation AUC after each epoch budget in `budgets`, and
    "best", the AUC of the epoch early stopping kept (the converged number). A seed that
    stopped before a budget has no value there (NaN)."""
    rows = []
    for (variant, seed), seed_history in histories.groupby(["variant", "seed"]):
        by_epoch = seed_history.set_index("epoch")["valid_auc"]
        rows.append({"variant": variant, "seed": seed, "best": by_epoch.max(),
                     **{str(b): by_epoch.get(b, float("nan")) for b in budgets}})
    return pd.DataFrame(rows).set_index(["variant", "seed"])


def budget_deltas(histories: pd.DataFrame, apg_variant: str, budgets, *,
                  alpha: float) -> pd.DataFrame:
    """One backbone: + APG minus Base in validation AUC (points), paired by seed, after 1, 2, 3
    epochs and at each run's best epoch ("best"), with the paired test of `apg.stats`."""
    aucs = budget_aucs(histories, budgets)
    rows = []
    for budget in [*map(str, budgets), "best"]:
        difference = paired_difference(aucs.loc[apg_variant, budget], aucs.loc["base", budget],
                                       alpha)
        rows.append({"budget": budget, "base": aucs.loc["base", budget].mean(),
                     "apg": aucs.loc[apg_variant, budget].mean(), **difference})
    return pd.DataFrame(rows)


def budget_table(histories: pd.DataFrame, models, apg_version: str, budgets, *,
                 alpha: float) -> pd.DataFrame:
    """`budget_deltas` of every backbone in one table, a `model` column first."""
    return pd.concat([budget_deltas(histories[histories["model"] == model], apg_version,
                                    budgets, alpha=alpha).assign(model=model)
                      for model in models])[["model", "budget", "base", "apg", "delta",
                                             "delta_std", "ci_low", "ci_high", "p_value",
                                             "n_pairs"]].reset_index(drop=True)


def plot_curves(histories: pd.DataFrame, models, apg_version: str):
    """One panel per backbone: validation AUC by epoch, Base and + APG, the mean over the seeds
    that trained that epoch as a line and their range as a band; a marker at each variant's
    mean best epoch."""
    import matplotlib.pyplot as plt

    columns = min(4, len(models))
    rows = -(-len(models) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.8 * rows), squeeze=False)
    for ax, model in zip(axes.flat, models):
        for variant, colour, label in (("base", "tab:gray", "Base"),
                                       (apg_version, "tab:green", f"+ APG ({apg_version})")):
            h = histories[(histories["model"] == model) & (histories["variant"] == variant)]
            by_epoch = h.groupby("epoch")["valid_auc"].agg(["mean", "min", "max"])
            ax.plot(by_epoch.index, by_epoch["mean"], color=colour, label=label)
            ax.fill_between(by_epoch.index, by_epoch["min"], by_epoch["max"], color=colour,
                            alpha=0.2, linewidth=0)
            best = h.groupby("seed")["best_epoch"].first().mean()
            ax.axvline(best, color=colour, linestyle=":", linewidth=1)
        top = histories.loc[histories["model"] == model, "valid_auc"].max()
        ax.set_ylim(top - 1.5, top + 0.2)
        ax.set_title(model)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation AUC (%)")
    for ax in list(axes.flat)[len(models):]:
        ax.axis("off")
    axes.flat[0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
