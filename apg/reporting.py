"""Turning per-run metrics JSON into the paper's tables: mean ± std over seeds, paired tests,
paper values beside ours, verdicts in words, and shared plot styling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from apg import paper


def load_runs(metrics_dir: str | Path) -> pd.DataFrame:
    """One row per (dataset, model, variant, seed) from every metrics JSON under metrics_dir."""
    files = sorted(Path(metrics_dir).glob("**/*.json"))
    if not files:
        raise FileNotFoundError(f"no metrics JSON under {metrics_dir}; run the training stages "
                                "first (dvc repro)")
    rows = []
    for file in files:
        run = json.loads(file.read_text())
        for seed_run in run["runs"]:
            rows.append({"dataset": run["dataset"], "model": run["model"],
                         "variant": run["variant"], **{k: v for k, v in seed_run.items()
                                                       if k != "history"}})
    return pd.DataFrame(rows)


def paired_test(ours: pd.Series, base: pd.Series) -> float:
    """Two-sided paired t-test p-value of ours vs base, paired by seed (NaN under 2 pairs)."""
    pairs = pd.concat([ours, base], axis=1, keys=["ours", "base"]).dropna()
    if len(pairs) < 2 or np.allclose(pairs["ours"], pairs["base"]):
        return float("nan")
    return float(stats.ttest_rel(pairs["ours"], pairs["base"]).pvalue)


def seed_aucs(runs: pd.DataFrame, dataset: str, model: str) -> pd.DataFrame:
    """Test AUC (%) of one backbone on one data set: a row per seed, a column per variant."""
    runs = runs[(runs["dataset"] == dataset) & (runs["model"] == model)]
    return runs.pivot_table(index="seed", columns="variant", values="test_auc") * 100


def table4(runs: pd.DataFrame, dataset: str, model: str = "wdl",
           versions=("base", "v1", "v2", "v4", "v5"), alpha: float = 0.05) -> pd.DataFrame:
    """Table 4: test AUC (%) of each APG version on one backbone, ours beside the paper's.

    delta_vs_base is the mean of the per-seed differences to Base (same seeds, same split);
    p_value is the two-sided paired t-test of those differences.
    """
    auc = seed_aucs(runs, dataset, model)
    runs = runs[(runs["dataset"] == dataset) & (runs["model"] == model)]
    missing = [v for v in versions if v not in auc]
    if missing:
        raise ValueError(f"no runs for {missing} of {model} on {dataset}; run their "
                         "training stages first")
    rows = []
    for version in versions:
        r = runs[runs["variant"] == version]
        is_base = version == "base"
        differences = (auc[version] - auc["base"]).dropna()
        delta = differences.mean()
        p = float("nan") if is_base else paired_test(auc[version], auc["base"])
        rows.append({
            "dataset": dataset, "version": version,
            "auc_mean": auc[version].mean(), "auc_std": auc[version].std(ddof=1),
            "n_seeds": int(auc[version].notna().sum()),
            "delta_vs_base": 0.0 if is_base else delta,
            "delta_std": 0.0 if is_base else differences.std(ddof=1),
            "p_value": p,
            "significant": not is_base and bool(p < alpha),
            "beyond_0.1": not is_base and bool(delta >= paper.SIGNIFICANT_AUC_GAIN),
            "paper_auc": paper.table4_auc(version, dataset),
            "paper_delta_vs_base": paper.table4_delta(version, dataset),
            "best_epoch_mean": r["best_epoch"].mean(),
            "stopped_epoch_mean": r["stopped_epoch"].mean(),
            "hit_cap": bool(r["hit_cap"].any()),
            "n_params": int(r["n_params"].iloc[0]),
        })
    return pd.DataFrame(rows)


TABLE4_CLAIMS = (  # (a, b, claim of Sec. 4.3, kind): "gain" = a beats b; "close" = a ~ b
    ("v1", "base", "v1 (basic generation) beats Base", "gain"),
    ("v2", "v1", "v2 (low rank) performs about as well as v1", "close"),
    ("v4", "v2", "v4 (parameter sharing) beats v2", "gain"),
    ("v5", "v4", "v5 (over-parameterisation) beats v4", "gain"),
    ("v5", "base", "the full APG (v5) beats Base", "gain"),
)


def table4_verdicts(table: pd.DataFrame, aucs: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """The claims of Sec. 4.3, each checked against our runs, in plain words.

    `aucs` is `seed_aucs(...)`: differences are paired by seed. A gain "holds" when our mean
    is higher, and the line says whether it passes the paper's 0.1-point bar and the paired
    test; "about as well" holds when the means are within 0.1 points.
    """
    t = table.set_index("version")
    lines = []
    for a, b, claim, kind in TABLE4_CLAIMS:
        d = float((aucs[a] - aucs[b]).dropna().mean())
        p = paired_test(aucs[a], aucs[b])
        ours = (f"ours: {a} {t.loc[a, 'auc_mean']:.2f} vs {b} {t.loc[b, 'auc_mean']:.2f}, "
                f"paired difference {d:+.2f} (p = {p:.2g})")
        if kind == "close":
            holds = abs(d) < paper.SIGNIFICANT_AUC_GAIN
            detail = "" if holds else "; the gap exceeds the paper's 0.1-point threshold"
        else:
            holds = d > 0
            bar = ("at least the paper's 0.1-point threshold" if d >= paper.SIGNIFICANT_AUC_GAIN
                   else "below the paper's 0.1-point threshold")
            test = "significant" if p < alpha else "not significant"
            detail = f"; {bar}, {test} at {alpha}" if holds else ""
        lines.append(f"{'HOLDS' if holds else 'DOES NOT HOLD'}: {claim} — {ours}{detail}.")
    capped = list(t.index[t["hit_cap"]])
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


def write_table(df: pd.DataFrame, path_stem: str | Path, floatfmt: str = ".2f") -> None:
    """Write `<stem>.csv` (full precision, rounded to 4 places) and `<stem>.md`."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    df.round(4).to_csv(stem.with_suffix(".csv"), index=False)
    stem.with_suffix(".md").write_text(to_markdown(df, floatfmt))


def plot_style():
    """Shared matplotlib look for every report figure."""
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "apg-kit", "pdf.fonttype": 42})
    return plt


def ours_vs_paper_bars(ax, labels, ours, ours_err, paper_values, ylabel="test AUC (%)"):
    """Grouped bars: ours (with ± std error bars over seeds) beside the paper's value."""
    x = np.arange(len(labels))
    ax.bar(x - 0.2, ours, 0.4, yerr=ours_err, capsize=3, label="ours (mean ± std)")
    ax.bar(x + 0.2, [np.nan if v is None else v for v in paper_values], 0.4, label="paper")
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel)
    values = [v for v in [*ours, *paper_values] if v is not None and not np.isnan(v)]
    lo, hi = min(values), max(values)
    ax.set_ylim(lo - 0.5 - (hi - lo) * 0.2, hi + 0.3 + (hi - lo) * 0.2)
    ax.legend(frameon=False)
