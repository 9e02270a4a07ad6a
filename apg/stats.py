"""The one paired comparison every verdict uses: the mean per-seed difference of two variants
trained on the same seeds and split, its spread, its 95 % t confidence interval and the
two-sided paired t-test (scipy.stats)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def paired_difference(ours: pd.Series, base: pd.Series, alpha: float) -> dict:
    """ours - base, paired by index (seed); pairs with a missing side are dropped.

    Returns delta (mean difference), delta_std (ddof=1), ci_low / ci_high (the 1 - alpha
    confidence interval of the mean, delta ± t_{1-alpha/2, n-1} std / sqrt(n)), p_value (paired
    t-test; NaN under 2 pairs or when every difference is the same) and n_pairs.
    """
    pairs = pd.concat([ours, base], axis=1, keys=["ours", "base"]).dropna()
    differences = pairs["ours"] - pairs["base"]
    n = len(differences)
    delta = float(differences.mean()) if n else float("nan")
    spread = float(differences.std(ddof=1)) if n > 1 else float("nan")
    half = float(stats.t.ppf(1 - alpha / 2, n - 1) * spread / np.sqrt(n)) if n > 1 else np.nan
    constant = n > 1 and np.allclose(differences, differences.iloc[0])
    p = (float("nan") if n < 2 or constant
         else float(stats.ttest_rel(pairs["ours"], pairs["base"]).pvalue))
    return {"delta": delta, "delta_std": spread, "ci_low": delta - half, "ci_high": delta + half,
            "p_value": p, "n_pairs": n}
