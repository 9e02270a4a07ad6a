"""Table 6 (Sec. 4.5): parameters allocated by domain (MMoE, STAR) against parameters generated
per group (APG), coarse-grained (cg, the movie's genre) and fine-grained (fg, the movie), on
one backbone; its Base row is Table 2's Base run of that backbone.

Every row is 5 seeds on the same split; Δ is the paired per-seed difference to Base (or, for
the comparisons, to the other method) with the paired t-test (`apg.stats`). Memory is Table 5's
accounting (`apg.efficiency.memory_counts`) over each model's `hidden_tensors()`: the values
between the embeddings and the logit, float32 bytes of everything stored plus what APG
generates per instance; APG v5 as deployed, after `merge_for_inference()` (Sec. 3.2).
"""

from __future__ import annotations

import pandas as pd

from apg import paper
from apg.data.batches import load_schema
from apg.efficiency import memory_counts, memory_mb
from apg.models import ModelConfig, build_model
from apg.reporting import load_runs, versus_base
from apg.stats import paired_difference
from apg.tower import Tower

BASE = "base"


def run_name(method: str, setting: str) -> str:
    """A Table 6 run's file name: "mmoe-cg", "apg-fg" (`apg.pipeline.run_paths`)."""
    return f"{method}-{setting}"


def load_table6_runs(metrics_dir, base_metrics, methods, settings) -> pd.DataFrame:
    """One row per (method, setting, seed): Table 2's Base run (method "base", setting "") and
    every Table 6 run in `metrics_dir`. Raises FileNotFoundError naming a missing run."""
    frames = [load_runs(base_metrics).assign(method=BASE, setting="")]
    for method in methods:
        for setting in settings:
            frames.append(load_runs(f"{metrics_dir}/{run_name(method, setting)}.json")
                          .assign(method=method, setting=setting))
    return pd.concat(frames, ignore_index=True)


def deployed(model):
    """The model as it serves: an APG v5 tower merged (`Tower.merge_for_inference`)."""
    if isinstance(getattr(model, "tower", None), Tower):
        model.tower = model.tower.merge_for_inference()
    return model


def memory(data_dir, specs: dict[str, dict]) -> pd.DataFrame:
    """Hidden-layer values and megabytes of each run, built as it trains: `specs` maps a run
    name to its training parameters (`apg.pipeline.train_parameters`: model, variant and the
    model, APG and condition sections). Columns: run, hidden_stored, hidden_generated (per
    instance), memory_mb, n_params (every trainable value, embeddings included)."""
    schema = load_schema(data_dir)
    rows = []
    for name, spec in specs.items():
        config = ModelConfig.from_params(spec["variant"], spec["model_section"],
                                         spec["apg_section"], spec["condition_section"])
        model = build_model(spec["model"], schema, config)
        n_params = sum(p.numel() for p in model.parameters())
        model = deployed(model)
        counts = memory_counts(model, model.hidden_tensors())
        rows.append({"run": name, "hidden_stored": counts["stored"],
                     "hidden_generated": counts["generated"], "memory_mb": memory_mb(counts),
                     "n_params": n_params})
    return pd.DataFrame(rows)


def run_names(runs: pd.DataFrame) -> pd.Series:
    """Each row's run: "base", "mmoe-cg", ..."""
    return runs.apply(lambda r: BASE if r["method"] == BASE else
                      run_name(r["method"], r["setting"]), axis=1)


def seed_aucs(runs: pd.DataFrame) -> pd.DataFrame:
    """Test AUC (%) per seed (rows) and run (columns "base", "mmoe-cg", ...)."""
    return runs.assign(run=run_names(runs)).pivot_table(index="seed", columns="run",
                                                        values="test_auc") * 100


def table6(runs: pd.DataFrame, memory_table: pd.DataFrame, dataset: str, methods, settings,
           alpha: float) -> pd.DataFrame:
    """Table 6: a row per method and setting (and Base), ours beside the paper's.

    delta_vs_base is the mean per-seed difference to Base (`apg.reporting.versus_base`),
    memory_mb the hidden layers' megabytes (`memory`), paper_auc / paper_memory the paper's.
    """
    aucs = seed_aucs(runs)
    named = runs.assign(variant=run_names(runs))   # versus_base pairs runs by "variant"
    cost = memory_table.set_index("run")
    printed = paper.TABLE6[paper.PAPER_DATASET[dataset]]
    rows = []
    for method, setting in [(BASE, ""), *[(m, s) for s in settings for m in methods]]:
        name = BASE if method == BASE else run_name(method, setting)
        _, paper_auc, paper_memory = printed[BASE if method == BASE else f"{method}_{setting}"]
        compared = versus_base(named, aucs, name, alpha)
        rows.append({"dataset": dataset, "method": method, "setting": setting or "-",
                     **{k: compared[k] for k in ("auc_mean", "auc_std", "n_seeds", "delta",
                                                 "delta_std", "p_value", "significant")},
                     "memory_mb": cost.loc[name, "memory_mb"],
                     "hidden_values": int(cost.loc[name, "hidden_stored"]
                                          + cost.loc[name, "hidden_generated"]),
                     "n_params": int(cost.loc[name, "n_params"]),
                     "paper_auc": paper_auc, "paper_memory": paper_memory,
                     "best_epoch_mean": compared["best_epoch_mean"],
                     "hit_cap": compared["hit_cap"],
                     "train_wall_seconds": float(named.loc[named["variant"] == name,
                                                           "train_wall_seconds"].iloc[0])})
    return pd.DataFrame(rows).rename(columns={"delta": "delta_vs_base"})


def comparisons(runs: pd.DataFrame, table: pd.DataFrame, methods, settings,
                alpha: float) -> pd.DataFrame:
    """The pairs Table 6's claims are about, seed by seed: APG against each baseline in each
    setting (AUC Δ, and APG's memory as a share of the baseline's), and APG fg against APG cg.
    The paper's Δ and memory share come from its printed Table 6."""
    aucs = seed_aucs(runs)
    indexed = table.set_index(["method", "setting"])
    pairs = [("apg", s, m, s) for s in settings for m in methods if m != "apg"]
    if "apg" in methods and {"cg", "fg"} <= set(settings):
        pairs.append(("apg", "fg", "apg", "cg"))
    rows = []
    for method, setting, other, other_setting in pairs:
        ours, theirs = indexed.loc[(method, setting)], indexed.loc[(other, other_setting)]
        difference = paired_difference(aucs[run_name(method, setting)],
                                       aucs[run_name(other, other_setting)], alpha)
        rows.append({"dataset": table["dataset"].iloc[0],
                     "comparison": f"{run_name(method, setting)} vs "
                                   f"{run_name(other, other_setting)}",
                     **{k: difference[k] for k in ("delta", "delta_std", "ci_low", "ci_high",
                                                   "p_value")},
                     "n_seeds": difference["n_pairs"],
                     "paper_delta": ours["paper_auc"] - theirs["paper_auc"],
                     "memory_share": ours["memory_mb"] / theirs["memory_mb"],
                     "paper_memory_share": ours["paper_memory"] / theirs["paper_memory"]})
    return pd.DataFrame(rows)
