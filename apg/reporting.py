"""Turning per-run metrics JSON into the paper's tables: mean ± std over seeds, paired tests,
paper values beside ours, verdicts in words, and shared plot styling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from apg import paper
from apg.config import throughput_name
from apg.stats import paired_difference


def load_runs(*paths: str | Path) -> pd.DataFrame:
    """One row per (dataset, model, variant, seed) from metrics JSON files: each path is one
    file or a folder whose JSON files (at any depth) are all read. A file's wall time of
    training (its seeds side by side) is repeated on each of its rows."""
    files = []
    for path in map(Path, paths):
        found = [path] if path.is_file() else sorted(path.glob("**/*.json"))
        if not found:
            raise FileNotFoundError(f"no metrics JSON at {path}; run the training stages "
                                    "first (dvc repro)")
        files += found
    rows = []
    for file in files:
        run = json.loads(file.read_text())
        for seed_run in run["runs"]:
            rows.append({"dataset": run["dataset"], "model": run["model"],
                         "variant": run["variant"], **{k: v for k, v in seed_run.items()
                                                       if k != "history"},
                         "train_wall_seconds": run["train_wall_seconds"]})
    return pd.DataFrame(rows)


def seed_aucs(runs: pd.DataFrame, dataset: str, model: str) -> pd.DataFrame:
    """Test AUC (%) of one backbone on one data set: a row per seed, a column per variant."""
    runs = runs[(runs["dataset"] == dataset) & (runs["model"] == model)]
    return runs.pivot_table(index="seed", columns="variant", values="test_auc") * 100


def require_runs(runs: pd.DataFrame, dataset: str, models, variants) -> None:
    """Raise a ValueError naming every `<model>-<variant>` with no runs on `dataset`."""
    runs = runs[runs["dataset"] == dataset]
    have = set(zip(runs["model"], runs["variant"]))
    missing = [f"{m}-{v}" for m in models for v in variants if (m, v) not in have]
    if missing:
        raise ValueError(f"no runs for {missing} on {dataset}; run their training stages "
                         "first")


def versus_base(runs: pd.DataFrame, aucs: pd.DataFrame, variant: str, alpha: float,
                **paper_values) -> dict:
    """One variant of one backbone: test AUC (%) over seeds and its gain over Base.

    `runs` are this backbone's runs, `aucs` its `seed_aucs`. delta is the mean of the per-seed
    differences to Base (same seeds, same split), with its spread, its 1 - alpha confidence
    interval and the two-sided paired t-test (`apg.stats.paired_difference`); significant
    means p < alpha, a gain or a loss. The paper's values go in between, as given. Shared by
    Table 2 and Table 4.
    """
    r = runs[runs["variant"] == variant]
    is_base = variant == "base"
    difference = (dict(delta=0.0, delta_std=0.0, ci_low=0.0, ci_high=0.0, p_value=np.nan)
                  if is_base else paired_difference(aucs[variant], aucs["base"], alpha))
    return {
        "auc_mean": aucs[variant].mean(), "auc_std": aucs[variant].std(ddof=1),
        "n_seeds": int(aucs[variant].notna().sum()),
        **{k: difference[k] for k in ("delta", "delta_std", "ci_low", "ci_high", "p_value")},
        "significant": bool(difference["p_value"] < alpha),
        "beyond_0.1": bool(difference["delta"] >= paper.SIGNIFICANT_AUC_GAIN),
        **paper_values,
        "best_epoch_mean": r["best_epoch"].mean(),
        "stopped_epoch_mean": r["stopped_epoch"].mean(),
        "hit_cap": bool(r["hit_cap"].any()),
        "n_params": int(r["n_params"].iloc[0]),
    }


def table4(runs: pd.DataFrame, dataset: str, model: str, versions, *,
           alpha: float) -> pd.DataFrame:
    """Table 4: test AUC (%) of each APG version on one backbone, ours beside the paper's.

    delta_vs_base is the mean of the per-seed differences to Base (same seeds, same split);
    p_value is the two-sided paired t-test of those differences.
    """
    require_runs(runs, dataset, [model], versions)
    auc = seed_aucs(runs, dataset, model)
    runs = runs[(runs["dataset"] == dataset) & (runs["model"] == model)]
    rows = [{"dataset": dataset, "version": version,
             **versus_base(runs, auc, version, alpha,
                           paper_auc=paper.table4_auc(version, dataset),
                           paper_delta_vs_base=paper.table4_delta(version, dataset))}
            for version in versions]
    return pd.DataFrame(rows).rename(columns={"delta": "delta_vs_base"})


def table2(runs: pd.DataFrame, dataset: str, models, apg_version: str, *,
           alpha: float) -> pd.DataFrame:
    """Table 2 (Sec. 4.2): each backbone as Base and as Base + APG, ours beside the paper's.

    A row per backbone and variant ("base", "apg"); the APG rows are the runs of
    `apg_version`. delta, delta_std and p_value compare with Base seed by seed (see
    `versus_base`); significant means a significant gain. paper_delta is recomputed from the
    printed AUCs, paper_delta_printed is the Δ row as printed.
    """
    require_runs(runs, dataset, models, ("base", apg_version))
    rows = []
    for model in models:
        auc = seed_aucs(runs, dataset, model)
        model_runs = runs[(runs["dataset"] == dataset) & (runs["model"] == model)]
        for variant, run_variant in (("base", "base"), ("apg", apg_version)):
            r = model_runs[model_runs["variant"] == run_variant]
            rows.append({
                "dataset": dataset, "model": model, "variant": variant,
                "apg_version": apg_version,
                **versus_base(model_runs, auc, run_variant, alpha,
                              paper_auc=paper.table2_auc(model, variant, dataset),
                              paper_delta=paper.table2_delta(model, variant, dataset),
                              paper_delta_printed=(paper.table2_delta_printed(model, dataset)
                                                   if variant == "apg" else float("nan"))),
                "device": ",".join(sorted(r["device"].unique())),
            })
    table = pd.DataFrame(rows)
    table["significant"] &= table["delta"] > 0  # Table 2 claims gains; a clear loss is none
    return table


def grid_position(grid, choice) -> str:
    """Where a chosen value lies in the values swept: "interior" (swept values on both
    sides), "lower edge" / "upper edge", or "only value"."""
    values = sorted(set(grid))
    if choice not in values:
        raise ValueError(f"the choice {choice!r} is not among the swept values {values}")
    if len(values) == 1:
        return "only value"
    if choice == values[0]:
        return "lower edge"
    return "upper edge" if choice == values[-1] else "interior"


def tuning_choices(tuning_dir: str | Path) -> pd.DataFrame:
    """Every value `make tune` chose (reports/tuning/), the values it was chosen among and
    where it lies in them (`grid_position`): a choice on an edge may have its optimum outside
    the grid. The condition is a choice among categories, not on a grid."""
    tuning_dir = Path(tuning_dir)
    rows = []
    rates = pd.read_csv(tuning_dir / "learning_rate.csv")
    for (table, model, variant), run in rates.groupby(["table", "model", "variant"], sort=False):
        chosen = run.loc[run["chosen"], "learning_rate"].item()
        rows.append({"knob": "learning rate", "run": f"{table}/{model}-{variant}",
                     "chosen": chosen, "grid": " ".join(f"{r:g}" for r in run["learning_rate"]),
                     "position": grid_position(run["learning_rate"], chosen)})
    rank = pd.read_csv(tuning_dir / "rank.csv")
    first_seed = rank[rank["sweep"] != "second seed"]
    chosen = rank[rank["chosen"]].iloc[0]
    k_grid = first_seed.loc[first_seed["sweep"] == "K", "rank"]
    rows.append({"knob": "K", "run": "table2 (WDL + APG)", "chosen": chosen["rank"],
                 "grid": " ".join(map(str, k_grid)), "position": grid_position(k_grid,
                                                                              chosen["rank"])})
    if pd.notna(chosen["overparam"]):
        p_grid = first_seed.loc[first_seed["rank"] == chosen["rank"], "overparam"].astype(int)
        rows.append({"knob": "P", "run": "table2 (WDL + APG)", "chosen": int(chosen["overparam"]),
                     "grid": " ".join(map(str, sorted(p_grid))),
                     "position": grid_position(p_grid, int(chosen["overparam"]))})
    conditions = pd.read_csv(tuning_dir / "condition.csv",
                             dtype={"fields": str, "aggregation": str}).fillna("")
    label = conditions["strategy"] + " " + conditions["fields"] + " " + conditions["aggregation"]
    rows.append({"knob": "condition", "run": "table2 (WDL + APG)",
                 "chosen": label[conditions["chosen"]].item().strip(),
                 "grid": " | ".join(label.str.strip()), "position": "categories"})
    return pd.DataFrame(rows)


COLLAPSED_AUC_MARGIN = 1.0  # AUC points above chance (50) under which a cell failed to train


def table2_verdicts(table: pd.DataFrame) -> list[str]:
    """Table 2's claim, "APG improves every backbone" (Sec. 4.2), checked per backbone.

    REPRODUCES: our gain is at least the paper's 0.1 points and significant in the paired
    test; PARTLY: a gain, but not both; DOES NOT REPRODUCE: no gain (the words and rule of the
    claims ledger, `apg.claims.gain_verdict`). Then a summary, with the
    paper's average Δ recomputed from its AUCs beside its printed Ave.
    """
    apg = table[table["variant"] == "apg"]
    reproduces = apg["beyond_0.1"] & apg["significant"]
    lines = []
    for (_, row), ok in zip(apg.iterrows(), reproduces):
        if ok:
            verdict, detail = "REPRODUCES", ""
        elif row["delta"] > 0:
            shortfalls = [text for text, short in
                          (("below the paper's 0.1-point threshold", not row["beyond_0.1"]),
                           ("not significant", not row["significant"])) if short]
            verdict, detail = "PARTLY", ", " + " and ".join(shortfalls)
        else:
            verdict, detail = "DOES NOT REPRODUCE", ""
        printed = ("" if np.isclose(row["paper_delta_printed"], row["paper_delta"])
                   else f", printed {row['paper_delta_printed']:+.2f}")
        lines.append(f"{verdict}: {row['model']} + APG ({row['apg_version']}) — ours Δ "
                     f"{row['delta']:+.2f} ± {row['delta_std']:.2f} over Base "
                     f"(p = {row['p_value']:.2g}){detail}; paper Δ {row['paper_delta']:+.2f}"
                     f"{printed}.")
    n = len(apg)
    printed_ave = paper.table2_delta_printed("ave", table["dataset"].iloc[0])
    lines.append(f"SUMMARY: {int(reproduces.sum())} of the paper's {n} improvements "
                 f"reproduce; {int((apg['delta'] > 0).sum())} of {n} are positive, "
                 f"{int(apg['significant'].sum())} significant gains in the paired test. "
                 f"Average Δ: ours {apg['delta'].mean():+.2f}, paper "
                 f"{apg['paper_delta'].mean():+.2f} (recomputed from its AUCs; its printed Ave "
                 f"over all seven backbones is {printed_ave:+.2f}).")
    capped = [f"{r.model}-{r.variant}" for r in table.itertuples() if r.hit_cap]
    if capped:
        lines.append(f"CAUTION: {capped} stopped at the epoch cap, not by early stopping; "
                     "their comparison may be unfair.")
    collapsed = [f"{r.model}-{r.variant}" for r in table.itertuples()
                 if r.auc_mean < 50 + COLLAPSED_AUC_MARGIN]
    if collapsed:
        lines.append(f"CAUTION: {collapsed} ended at chance level (test AUC within "
                     f"{COLLAPSED_AUC_MARGIN} points of 50): training collapsed to a constant "
                     "prediction (see the per-epoch loss in reports/runs/); its Δ measures a "
                     "failed training, not the model.")
    return lines


# Training-throughput targets of this kit, not of the paper: MovieLens-1M on a 2-core CPU
# without GPU, set in the kit's issue 3 at 2.5x a widely used PyTorch CTR library. Base must
# reach train_samples_per_s; each + APG variant at least apg_over_base times its Base.
THROUGHPUT_TARGETS = {
    "dataset": "movielens-1m", "device": "cpu", "apg_over_base": 0.8,
    "train_samples_per_s": dict(wdl=100_000, deepfm=85_000, dcn=85_000, pnn=90_000,
                                difm=65_000, autoint=58_000, fibinet=45_000),
}


def speed_ratio(throughput: dict, name: str, reference: str) -> float:
    """Training samples/s of model `name` over `reference` in the throughput stage's metrics
    (`apg.benchmark.time_models`): the median of the ratios within each round, where the two
    were timed back to back."""
    rounds = [np.asarray(throughput["models"][n]["train_rounds"]) for n in (name, reference)]
    return float(np.median(rounds[0] / rounds[1]))


def throughput_summary(throughput: dict, entries: list[dict]) -> pd.DataFrame:
    """One row per timed model of the throughput stage (`entries` as
    `pipeline.throughput_parameters` gives them): its samples/s, parameter count and, for an
    APG model whose backbone's Table 2 Base was timed too, its training speed over that Base
    (`speed_ratio`)."""
    rows = []
    for entry in entries:
        speed = throughput["models"][entry["name"]]
        base = throughput_name("table2", entry["model"], "base")
        paired = entry["variant"] != "base" and base in throughput["models"]
        rows.append({"timed": entry["name"], "train_samples_per_s": speed["train_samples_per_s"],
                     "infer_samples_per_s": speed["infer_samples_per_s"],
                     "n_params": speed["n_params"],
                     "train_over_base": (speed_ratio(throughput, entry["name"], base) if paired
                                         else None)})
    return pd.DataFrame(rows)


def throughput_table(throughput: dict, runs: pd.DataFrame, dataset: str, models,
                     apg_version: str) -> pd.DataFrame:
    """Per backbone: training and inference samples/s of Base and + APG as the throughput
    stage timed them (interleaved, on all threads; the ratio paired by round, `speed_ratio`),
    parameter counts, and the training samples/s the runs themselves saw (mean over seeds,
    which trained side by side on a share of the threads), against THROUGHPUT_TARGETS.

    base_met and apg_met are None unless the timing ran on the targets' data set and device.
    """
    if throughput["dataset"] != dataset:
        raise ValueError(f"the throughput metrics are for {throughput['dataset']!r}, the runs "
                         f"for {dataset!r}; run the throughput stage on the same data set")
    targets = THROUGHPUT_TARGETS
    applies = dataset == targets["dataset"] and throughput["device"] == targets["device"]
    runs = runs[runs["dataset"] == dataset]
    rows = []
    for model in models:
        names = {v: throughput_name("table2", model, v) for v in ("base", apg_version)}
        missing = [n for n in names.values() if n not in throughput["models"]]
        if missing:
            raise ValueError(f"the throughput metrics have no {missing}; re-run the throughput "
                             "stage with this params.yaml")
        base, apg = (throughput["models"][names[v]] for v in ("base", apg_version))
        r = runs[runs["model"] == model]
        in_runs = (r["train_samples"] / r["train_seconds"]).groupby(r["variant"]).mean()
        ratio = speed_ratio(throughput, names[apg_version], names["base"])
        target = targets["train_samples_per_s"][model]
        rows.append({
            "dataset": dataset, "device": throughput["device"],
            "threads": throughput["threads"], "model": model,
            "train_base": base["train_samples_per_s"], "train_apg": apg["train_samples_per_s"],
            "apg_over_base": ratio,
            "infer_base": base["infer_samples_per_s"], "infer_apg": apg["infer_samples_per_s"],
            "n_params_base": base["n_params"], "n_params_apg": apg["n_params"],
            "train_base_in_runs": in_runs.get("base", np.nan),
            "train_apg_in_runs": in_runs.get(apg_version, np.nan),
            "train_target": target,
            "base_met": bool(base["train_samples_per_s"] >= target) if applies else None,
            "apg_met": bool(ratio >= targets["apg_over_base"]) if applies else None,
        })
    return pd.DataFrame(rows)


def throughput_verdicts(throughput: pd.DataFrame) -> list[str]:
    """A line per missed training-throughput target, or why the targets were not checked."""
    targets = THROUGHPUT_TARGETS
    if throughput["base_met"].isna().any():
        runs_on = sorted(set(zip(throughput["dataset"], throughput["device"])))
        return [f"NOTE: the throughput targets are for {targets['dataset']} on "
                f"{targets['device']}; these runs (data set, device: {runs_on}) are not checked "
                "against them."]
    lines = []
    for row in throughput.itertuples(index=False):
        if not row.base_met:
            lines.append(f"MISSED: {row.model} Base trains {row.train_base:,.0f} samples/s, "
                         f"target {row.train_target:,.0f}.")
        if not row.apg_met:
            lines.append(f"MISSED: {row.model} + APG trains at {row.apg_over_base:.2f}× Base, "
                         f"target {targets['apg_over_base']}×.")
    return lines or ["All training-throughput targets met."]


def v4_training_verdict(timed: dict, model: str) -> str:
    """The kit's training-throughput target for APG v4 on Table 4's backbone (Table 5's model):
    at least THROUGHPUT_TARGETS' apg_over_base times its Base, timed back to back."""
    ratio = speed_ratio(timed, throughput_name("table4", model, "v4"),
                        throughput_name("table2", model, "base"))
    target = THROUGHPUT_TARGETS["apg_over_base"]
    return (f"{'MET' if ratio >= target else 'MISSED'}: APG-{model} (v4, Table 4's condition) "
            f"trains at {ratio:.2f}× {model}, target {target}× (the median of the per-round "
            "ratios).")


def training_time(runs: pd.DataFrame, apg_version: str | None = None) -> pd.DataFrame:
    """What the runs cost: per backbone and variant, epochs over all seeds, the wall minutes
    their training took (seeds side by side), and the minutes the same epochs would take one
    after another at exactly THROUGHPUT_TARGETS (Base at its target, `apg_version` at
    apg_over_base times it; NaN for other variants and for runs the targets do not apply to).
    Early stopping sets the epochs, so this separates a slow model from a long run."""
    targets = THROUGHPUT_TARGETS
    rows = []
    for (dataset, model, variant), r in runs.groupby(["dataset", "model", "variant"],
                                                     sort=False):
        samples = r["train_samples"].sum()   # rows x epochs
        speed = targets["train_samples_per_s"].get(model, np.nan) * (
            1.0 if variant == "base" else targets["apg_over_base"] if variant == apg_version
            else np.nan)
        applies = dataset == targets["dataset"] and set(r["device"]) == {targets["device"]}
        rows.append({"model": model, "variant": variant, "n_seeds": len(r),
                     "epochs": int(r["stopped_epoch"].sum()),
                     "train_minutes": r["train_wall_seconds"].iloc[0] / 60,
                     "minutes_at_target": samples / speed / 60 if applies else np.nan})
    return pd.DataFrame(rows)


def training_time_summary(cost: pd.DataFrame) -> str:
    """One line under `training_time`'s table: total training minutes, and at the targets."""
    at_target = cost["minutes_at_target"].sum(min_count=1)
    targets = (f"{at_target:.1f} min" if not np.isnan(at_target) else
               f"not checked (the targets are for {THROUGHPUT_TARGETS['dataset']} on "
               f"{THROUGHPUT_TARGETS['device']})")
    return (f"Total: {cost['train_minutes'].sum():.1f} min of training (wall, seeds side by "
            f"side) in {cost['n_seeds'].sum()} runs; the same epochs one after another at the "
            f"targets' throughput: {targets}.")


def table4_comparisons(table: pd.DataFrame, aucs: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The claims of Sec. 4.3 (paper.TABLE4_CLAIMS) against our runs: one row per claim with the two
    versions compared (a run standing in for a paper row, v3 for v2, is named), their paired
    difference a - b over seeds (`apg.stats.paired_difference`) and whether the claim holds:
    a gain holds when a's mean is higher, "about as well" when the means are within the
    paper's 0.1 points. Versions that were not run (`table4.versions`) give a row with
    `run` False and no numbers. `aucs` is `seed_aucs(...)`."""
    t = table.set_index("version")
    stand_in = {paper_row: ours for ours, paper_row in paper.TABLE4_ROW.items()
                if ours in t.index and paper_row not in t.index}
    rows = []
    for a, b, claim, kind in paper.TABLE4_CLAIMS:
        ours_a, ours_b = stand_in.get(a, a), stand_in.get(b, b)
        row = {"claim": claim, "kind": kind, "a": ours_a, "b": ours_b,
               "stand_in": ", ".join(f"{v} run as {stand_in[v]}" for v in (a, b)
                                     if v in stand_in),
               "run": ours_a in t.index and ours_b in t.index}
        if row["run"]:
            d = paired_difference(aucs[ours_a], aucs[ours_b], alpha)
            holds = (abs(d["delta"]) < paper.SIGNIFICANT_AUC_GAIN if kind == "close"
                     else d["delta"] > 0)
            row.update({"auc_a": t.loc[ours_a, "auc_mean"], "auc_b": t.loc[ours_b, "auc_mean"],
                        **{k: d[k] for k in ("delta", "ci_low", "ci_high", "p_value")},
                        "holds": bool(holds)})
        rows.append(row)
    return pd.DataFrame(rows)


def table4_verdicts(comparisons: pd.DataFrame, table: pd.DataFrame, alpha: float) -> list[str]:
    """`table4_comparisons` in plain words: whether each claim holds, with the paper's 0.1-point
    bar and the paired test for a gain; NOT RUN for a claim whose versions were not run."""
    lines = []
    for c in comparisons.itertuples():
        claim = c.claim + (f" ({c.stand_in}, the same function)" if c.stand_in else "")
        if not c.run:
            missing = [v for v in (c.a, c.b) if v not in set(table["version"])]
            lines.append(f"NOT RUN: {claim} — no runs of {', '.join(missing)} (add them to "
                         "table4.versions in params.yaml).")
            continue
        ours = (f"ours: {c.a} {c.auc_a:.2f} vs {c.b} {c.auc_b:.2f}, paired difference "
                f"{c.delta:+.2f} (95 % CI {c.ci_low:+.2f} to {c.ci_high:+.2f}, p = {c.p_value:.2g})")
        if c.kind == "close":
            detail = "" if c.holds else "; the gap exceeds the paper's 0.1-point threshold"
        else:
            bar = ("at least the paper's 0.1-point threshold"
                   if c.delta >= paper.SIGNIFICANT_AUC_GAIN
                   else "below the paper's 0.1-point threshold")
            test = "significant" if c.p_value < alpha else "not significant"
            detail = f"; {bar}, {test} at {alpha}" if c.holds else ""
        lines.append(f"{'HOLDS' if c.holds else 'DOES NOT HOLD'}: {claim} — {ours}{detail}.")
    capped = list(table.loc[table["hit_cap"], "version"])
    if capped:
        lines.append(f"CAUTION: {capped} stopped at the epoch cap, not by early stopping; "
                     "their comparison may be unfair.")
    return lines


def table4_agreement(table: pd.DataFrame) -> list[str]:
    """Per version: our gain over Base beside the paper's, and whether they agree.

    Absolute AUCs are not comparable across preprocessing choices (the paper's split and
    features are unknown); the gain over a Base trained on the same data is.
    """
    lines = []
    for row in table[table["version"] != "base"].itertuples():
        ours, theirs = row.delta_vs_base, row.paper_delta_vs_base
        if theirs is None or np.isnan(theirs):
            continue
        if ours >= paper.SIGNIFICANT_AUC_GAIN and theirs >= paper.SIGNIFICANT_AUC_GAIN:
            verdict = "AGREES: both gain at least 0.1 points"
        elif ours > 0:
            verdict = "PARTLY: we also gain, but by less than the 0.1-point threshold"
        else:
            verdict = "DISAGREES: we see no gain"
        lines.append(f"{row.version}: paper {theirs:+.2f}, ours {ours:+.2f} "
                     f"(p = {row.p_value:.2g}) — {verdict}.")
    return lines


def to_markdown(df: pd.DataFrame, floatfmt: str = ".2f") -> str:
    """A GitHub markdown table (no extra dependency)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else format(v, floatfmt)
        return "" if v is None else str(v)

    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def rounded(value):
    """A float kept to 4 decimal places, or to 4 significant digits where that is finer (a
    learning rate of 5e-05 must not become 0.0001); anything else unchanged."""
    if not isinstance(value, (float, np.floating)) or not np.isfinite(value) or value == 0:
        return value
    return round(float(value), max(4, 3 - int(np.floor(np.log10(abs(value))))))


def write_table(df: pd.DataFrame, path_stem: str | Path, floatfmt: str = ".2f") -> None:
    """Write `<stem>.csv` (values `rounded`) and `<stem>.md`."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    df.map(rounded).to_csv(stem.with_suffix(".csv"), index=False)
    stem.with_suffix(".md").write_text(to_markdown(df, floatfmt))


def plot_style():
    """Shared matplotlib look for every report figure."""
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "apg-kit", "pdf.fonttype": 42})
    return plt


def ours_vs_paper_bars(ax, labels, ours, ours_err, paper_values, ylabel="test AUC (%)",
                       clip_at: float | None = None):
    """Grouped bars: ours (with ± std error bars over seeds) beside the paper's value.

    With `clip_at`, values beyond ±clip_at do not set the axis range (one collapsed run would
    flatten every other bar); such a bar runs off the axis and is labelled with its value.
    """
    x = np.arange(len(labels))
    ax.bar(x - 0.2, ours, 0.4, yerr=ours_err, capsize=3, label="ours (mean ± std)")
    ax.bar(x + 0.2, [np.nan if v is None else v for v in paper_values], 0.4, label="paper")
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel)
    values = [v for v in [*ours, *paper_values] if v is not None and not np.isnan(v)
              and (clip_at is None or abs(v) <= clip_at)]
    lo, hi = min(values), max(values)
    lo, hi = lo - 0.5 - (hi - lo) * 0.2, hi + 0.3 + (hi - lo) * 0.2
    ax.set_ylim(lo, hi)
    for xi, value in zip(x, ours):
        if clip_at is not None and abs(value) > clip_at:
            ax.annotate(f"{value:+.1f}\n(off axis)", (xi - 0.2, lo if value < 0 else hi),
                        xytext=(0, 6 if value < 0 else -6), textcoords="offset points",
                        ha="center", va="bottom" if value < 0 else "top", fontsize=8,
                        bbox=dict(boxstyle="round,pad=0.2", facecolor="white", linewidth=0))
    ax.legend(frameon=False)


def throughput_bars(ax, throughput: pd.DataFrame):
    """Training samples/s of Base and + APG per backbone, with THROUGHPUT_TARGETS marked."""
    x = np.arange(len(throughput))
    ax.bar(x - 0.2, throughput["train_base"] / 1e3, 0.4, color="tab:gray", label="Base")
    ax.bar(x + 0.2, throughput["train_apg"] / 1e3, 0.4, color="tab:green", label="+ APG")
    ax.hlines(throughput["train_target"] / 1e3, x - 0.4, x, color="black",
              label=f"target ({THROUGHPUT_TARGETS['dataset']}, {THROUGHPUT_TARGETS['device']})")
    ax.hlines(THROUGHPUT_TARGETS["apg_over_base"] * throughput["train_base"] / 1e3, x, x + 0.4,
              color="black", linestyles="dotted",
              label=f"{THROUGHPUT_TARGETS['apg_over_base']} × Base")
    ax.set_xticks(x, throughput["model"])
    ax.set_ylabel("training samples/s (thousands)")
    top = np.nanmax(throughput[["train_base", "train_apg", "train_target"]].to_numpy()) / 1e3
    ax.set_ylim(0, top * 1.3)                # headroom: the legend sits above the bars
    ax.legend(frameon=False, ncols=2, loc="upper center")
