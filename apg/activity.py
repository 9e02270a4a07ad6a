"""Figure 1 (Sec. 1): do active and cold users differ in CTR but look alike in age?

The paper motivates APG with a picture of its own data: the CTR distributions of active and
cold users differ (a custom pattern that shared parameters miss), while their age distributions
look alike (a common pattern worth sharing). This module turns both words into numbers, from
the training split only:

- each user's training count (activity), CTR (share of clicks) and attribute (e.g. age code);
- activity groups by count quantiles: "cold" at or below the `quantile`-th, "active" at or above
  the (1 - `quantile`)-th;
- per panel, the two-sample Kolmogorov-Smirnov statistic D (the largest gap between the groups'
  cumulative distributions, in [0, 1]) and its p-value (`scipy.stats.ks_2samp`; conservative on
  a discrete attribute such as age groups).

A cold user's CTR is a share of few ratings, so its spread is wider from sampling alone. The CTR
panel therefore also compares the cold users with active users re-measured on as few ratings
as the cold users have (`matched_ctr`): a difference that survives that is not sampling noise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import stats

from apg.data.batches import load_schema

GROUPS = ("cold", "active")


def user_profile(train: pd.DataFrame, user_field: str, attribute: str,
                 label: str = "label") -> pd.DataFrame:
    """One row per user of a training split: count (rows), clicks, ctr and the user's
    `attribute`, which must be the same on all of a user's rows (a user property, like age)."""
    grouped = train.groupby(user_field)
    varying = grouped[attribute].nunique() > 1
    if varying.any():
        raise ValueError(f"{attribute!r} varies within {int(varying.sum())} users (e.g. "
                         f"{varying[varying].index[0]!r}); Figure 1 compares a user property")
    users = grouped.agg(count=(label, "size"), clicks=(label, "sum"),
                        attribute=(attribute, "first"))
    return users.assign(ctr=users["clicks"] / users["count"])


def activity_groups(counts: pd.Series, quantile: float) -> pd.Series:
    """"cold" for counts at or below their `quantile`-th quantile, "active" for those at or
    above the (1 - quantile)-th, missing (NaN) in between; 0 < quantile < 0.5."""
    if not 0 < quantile < 0.5:
        raise ValueError(f"figure1.quantile must lie strictly between 0 and 0.5, got {quantile}")
    low, high = counts.quantile(quantile), counts.quantile(1 - quantile)
    if low >= high:
        raise ValueError(f"the {quantile:.0%} and {1 - quantile:.0%} quantiles of the user "
                         f"counts are equal ({low}); no activity groups can be told apart")
    groups = pd.Series(np.nan, index=counts.index, dtype=object)
    groups[counts <= low] = "cold"
    groups[counts >= high] = "active"
    return groups


def matched_ctr(train: pd.DataFrame, users: pd.DataFrame, groups: pd.Series, user_field: str,
                seed: int, label: str = "label") -> pd.Series:
    """Active users' CTR measured as precisely as the cold users' is: for each cold user, a
    random active user's CTR over as many of its training rows (drawn without replacement) as
    the cold user has. Indexed like the cold users."""
    rng = np.random.default_rng(seed)
    labels = {user: rows.to_numpy() for user, rows in train.groupby(user_field)[label]}
    active = groups.index[groups == "active"].to_numpy()
    cold = groups.index[groups == "cold"]
    values = []
    for user in cold:
        n = int(users.at[user, "count"])
        pool = labels[active[rng.integers(len(active))]]
        values.append(rng.choice(pool, size=n, replace=False).mean())
    return pd.Series(values, index=cold, name="ctr")


def ks_row(panel: str, cold: pd.Series, other: pd.Series) -> dict:
    """One panel's two-sample KS test: cold against `other` (active, or matched active)."""
    test = stats.ks_2samp(cold.to_numpy(float), other.to_numpy(float))
    return {"panel": panel, "ks_d": float(test.statistic), "p_value": float(test.pvalue),
            "n_cold": len(cold), "n_other": len(other), "mean_cold": float(cold.mean()),
            "mean_other": float(other.mean())}


def figure1_table(train: pd.DataFrame, user_field: str, attribute: str,
                  attribute_values: dict[int, str], quantile: float,
                  seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The users (with their group, and for cold users the activity-matched CTR of
    `matched_ctr` as `ctr_matched`) and the panels' KS tests: ctr (cold vs active),
    ctr_matched (cold vs active re-measured on cold-sized samples) and the attribute (cold vs
    active), the
    attribute compared by its values (`attribute_values`: code -> value, numeric, so that the
    KS test sees their order; MovieLens-1M's age codes are the lower ends of its age groups)."""
    users = user_profile(train, user_field, attribute)
    values = pd.Series(attribute_values)
    numeric = pd.to_numeric(values, errors="coerce")
    used = users["attribute"].unique()
    if numeric.reindex(used).isna().any():
        raise ValueError(f"figure1.attribute {attribute!r} must have numeric (ordered) values "
                         f"for the KS test; it has {sorted(values.reindex(used).astype(str))[:5]}")
    groups = activity_groups(users["count"], quantile)
    users = users.assign(attribute=users["attribute"].map(numeric), group=groups)
    cold, active = (users[groups == name] for name in GROUPS)
    matched = matched_ctr(train, users, groups, user_field, seed)
    users = users.assign(ctr_matched=matched)
    rows = [ks_row("ctr", cold["ctr"], active["ctr"]),
            ks_row("ctr_matched", cold["ctr"], matched),
            ks_row(attribute, cold["attribute"], active["attribute"])]
    table = pd.DataFrame(rows).assign(
        count_cold_max=int(cold["count"].max()), count_active_min=int(active["count"].min()))
    return users, table


def read_train(processed_dir: Path, user_field: str, attribute: str) -> pd.DataFrame:
    """The user, attribute and label columns of a preprocessed training split."""
    schema = load_schema(processed_dir)
    columns = [user_field, attribute, schema["label"]]
    table = pq.read_table(Path(processed_dir) / "train.parquet", columns=columns).to_pandas()
    return table.rename(columns={schema["label"]: "label"})


def attribute_values(processed_dir: Path, attribute: str) -> dict[int, str]:
    """Code -> value of the attribute's training vocabulary (code 0, unknown, is left out)."""
    vocab = json.loads((Path(processed_dir) / "vocab.json").read_text(encoding="utf-8"))
    return dict(enumerate(vocab[attribute], 1))
