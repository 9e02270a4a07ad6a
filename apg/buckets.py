"""Does APG help most on rare users and items? Test AUC of Base and Base + APG per frequency bucket.

The paper motivates APG (Sec. 1) by saying that shared parameters "tend to be dominated by
high-frequency features and may give a misleading decision for the long-tailed instances", and
Sec. 4.3 points to "the influence on instances of different frequency", discussed in the paper's
unavailable Appendix F. This module checks the claim for one backbone: it buckets the test rows
by how often their code of one field (e.g. `item_id`) occurs in training, computes each variant's
test AUC per bucket and seed, and gives the gain of + APG over Base per bucket, paired by seed,
with a 95 % confidence interval and a paired t-test, and a verdict in words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import stats
from sklearn.metrics import roc_auc_score

from apg.stats import paired_difference

SEED_PREFIX = "seed_"


def frequency_buckets(train_codes: np.ndarray, test_codes: np.ndarray,
                      n_buckets: int = 5) -> pd.DataFrame:
    """Training count of each test row's code (0 if never seen in training) and its bucket.

    Buckets are quantiles of the per-test-row counts (`pandas.qcut`), not of distinct codes, so
    each bucket holds about the same number of test rows and has equal statistical weight.
    Bucket 0 is the rarest. Tied counts can merge buckets (`duplicates="drop"`), in which case
    fewer than `n_buckets` come back. Returns columns `count` and `bucket`, a row per test row in
    the order of `test_codes`.
    """
    train_counts = pd.Series(train_codes).value_counts()
    counts = pd.Series(test_codes).map(train_counts).fillna(0).astype(int)
    buckets = pd.qcut(counts, n_buckets, labels=False, duplicates="drop")
    if buckets.isna().any():
        raise ValueError("every test row has the same training count; there is nothing to "
                         "bucket")
    return pd.DataFrame({"count": counts.to_numpy(), "bucket": buckets.astype(int).to_numpy()})


def _seed(column: str) -> int:
    """The seed of a prediction column named `seed_<s>`."""
    if not column.startswith(SEED_PREFIX):
        raise ValueError(f"prediction column {column!r} is not named {SEED_PREFIX}<seed>")
    return int(column.removeprefix(SEED_PREFIX))


def bucket_aucs(buckets: pd.DataFrame, labels: np.ndarray,
                predictions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Test AUC (%) of every variant and seed in every bucket, one row per (variant, seed, bucket).

    `buckets` is `frequency_buckets`' result, `labels` the 0/1 test labels and `predictions`
    {variant: DataFrame with a `seed_<s>` column of click probabilities per seed}, all in the
    same test-row order. Columns: variant, seed, bucket, auc, rows (test rows in the bucket),
    count_min and count_max (its range of training counts). A bucket whose labels are all one
    class has no AUC and raises a ValueError.
    """
    labels = np.asarray(labels)
    rows = []
    for bucket in sorted(buckets["bucket"].unique()):
        in_bucket = (buckets["bucket"] == bucket).to_numpy()
        members = buckets[in_bucket]
        bucket_labels = labels[in_bucket]
        if len(np.unique(bucket_labels)) < 2:
            raise ValueError(f"bucket {bucket} has labels of one class only, so it has no AUC; "
                             "use fewer buckets")
        size = {"rows": len(members), "count_min": members["count"].min(),
                "count_max": members["count"].max()}
        for variant, frame in predictions.items():
            for column in frame.columns:
                auc = 100 * roc_auc_score(bucket_labels, frame[column].to_numpy()[in_bucket])
                rows.append({"variant": variant, "seed": _seed(column), "bucket": bucket,
                             "auc": auc, **size})
    return pd.DataFrame(rows)


def _other_variant(aucs: pd.DataFrame, base: str) -> str:
    """The single variant in `aucs` that is not `base`."""
    others = sorted(set(aucs["variant"]) - {base})
    if len(others) != 1:
        raise ValueError(f"cannot tell which variant is + APG among {others}; pass apg=")
    return others[0]


def bucket_deltas(aucs: pd.DataFrame, base: str = "base", apg: str | None = None, *,
                  alpha: float) -> pd.DataFrame:
    """Gain in test AUC (%) of `apg` over `base` per bucket, paired by seed.

    One row per bucket: bucket, count_min, count_max, rows, auc_base and auc_apg (means over
    seeds), delta (mean of the per-seed differences apg - base), delta_std (ddof=1), ci_low and
    ci_high (the 1 - alpha t confidence interval of that mean: mean ± t · std / √n), p_value
    (two-sided paired t-test) and n_seeds. `apg=None` takes the one variant that is not `base`.
    """
    if apg is None:
        apg = _other_variant(aucs, base)
    rows = []
    for bucket, group in aucs.groupby("bucket"):
        by_seed = group.pivot_table(index="seed", columns="variant", values="auc")
        paired = by_seed[[base, apg]].dropna()
        difference = paired_difference(paired[apg], paired[base], alpha)
        first = group.iloc[0]
        rows.append({"bucket": bucket, "count_min": first["count_min"],
                     "count_max": first["count_max"], "rows": first["rows"],
                     "auc_base": paired[base].mean(), "auc_apg": paired[apg].mean(),
                     **{k: difference[k] for k in ("delta", "delta_std", "ci_low", "ci_high",
                                                   "p_value")},
                     "n_seeds": difference["n_pairs"]})
    return pd.DataFrame(rows)


def rare_bucket_verdict(deltas: pd.DataFrame, *, alpha: float) -> str:
    """Are the largest gains in the rare buckets, as the paper's motivation predicts?

    The prediction HOLDS when the rarest bucket's delta is the largest of all buckets and
    positive with its confidence interval above 0; it PARTLY holds when the rarest bucket's
    delta is the largest but its interval includes 0 (or cannot be computed, with one seed); it
    DOES NOT HOLD otherwise. The line also gives the Spearman rank correlation between bucket
    index and delta (negative: gains shrink as frequency grows).
    """
    deltas = deltas.sort_values("bucket")
    rarest = deltas.iloc[0]
    largest = deltas.loc[deltas["delta"].idxmax()]
    has_interval = not np.isnan(rarest["ci_low"])
    level = round(100 * (1 - alpha))
    interval = (f"{level} % CI {rarest['ci_low']:+.2f} to {rarest['ci_high']:+.2f}"
                if has_interval else "no CI with one seed")
    quoted = (f"the rarest bucket (bucket {int(rarest['bucket'])}, training count "
              f"{int(rarest['count_min'])} to {int(rarest['count_max'])}) has Δ "
              f"{rarest['delta']:+.2f} AUC points ({interval})")
    rho = stats.spearmanr(deltas["bucket"], deltas["delta"]).statistic
    trend = f"Spearman ρ(bucket, Δ) = {rho:+.2f} (negative: gains shrink as frequency grows)"
    if rarest["delta"] < largest["delta"]:
        return (f"DOES NOT HOLD: {quoted}, but the largest Δ is in bucket "
                f"{int(largest['bucket'])} ({largest['delta']:+.2f}); {trend}.")
    if rarest["ci_low"] > 0:
        return f"HOLDS: {quoted}, the largest of all buckets, its CI above 0; {trend}."
    if not has_interval:
        return f"PARTLY: {quoted}, the largest of all buckets, but of unknown spread; {trend}."
    if rarest["ci_high"] >= 0:
        return f"PARTLY: {quoted}, the largest of all buckets, but its CI includes 0; {trend}."
    return f"DOES NOT HOLD: {quoted}, the largest of all buckets but a loss; {trend}."


def codes(processed_dir: Path, split: str, field: str) -> np.ndarray:
    """The codes of one single-valued field for every row of a preprocessed split."""
    return pq.read_table(Path(processed_dir) / f"{split}.parquet", columns=[field])[field].to_numpy()


def read_predictions(stem: Path) -> pd.DataFrame:
    """A run's saved test predictions: `<stem>.parquet` as the training runs write it, or
    `<stem>.csv`, the text form committed for the notebooks' fixture (`make notebooks`)."""
    parquet = stem.with_suffix(".parquet")
    return pd.read_parquet(parquet) if parquet.exists() else pd.read_csv(stem.with_suffix(".csv"))


def frequency_table(processed_dir: Path, predictions_dir: Path, models, apg_version: str,
                    fields, n_buckets: int, *, alpha: float) -> pd.DataFrame:
    """`bucket_deltas` for every backbone of Table 2 and every field: the test rows bucketed by
    their field's training count, Base against + APG paired by seed, from the predictions the
    training runs saved (`apg.train.save_predictions`). Columns `model` and `field` first."""
    labels = pq.read_table(Path(processed_dir) / "test.parquet", columns=["label"])["label"]
    labels = labels.to_numpy()
    tables = []
    for field in fields:
        buckets = frequency_buckets(codes(processed_dir, "train", field),
                                    codes(processed_dir, "test", field), n_buckets)
        for model in models:
            predictions = {variant: read_predictions(Path(predictions_dir) / f"{model}-{variant}")
                           for variant in ("base", apg_version)}
            deltas = bucket_deltas(bucket_aucs(buckets, labels, predictions), "base",
                                   apg_version, alpha=alpha)
            tables.append(deltas.assign(model=model, field=field))
    table = pd.concat(tables, ignore_index=True)
    return table[["model", "field", *[c for c in table.columns if c not in ("model", "field")]]]


def frequency_verdicts(table: pd.DataFrame, *, alpha: float) -> list[str]:
    """`rare_bucket_verdict` of every backbone and field of `frequency_table`, each line naming
    them."""
    return [f"{model}, {field}: {rare_bucket_verdict(group, alpha=alpha)}"
            for (model, field), group in table.groupby(["model", "field"], sort=False)]
