"""The paired comparison behind every verdict, against hand arithmetic."""

import math

import pandas as pd
import pytest

from apg.stats import paired_difference


def test_paired_difference_by_hand():
    ours = pd.Series({1: 81.0, 2: 81.2, 3: 81.1, 4: 80.9})
    base = pd.Series({3: 81.0, 1: 80.8, 2: 80.9, 4: 80.9})      # paired by seed, not order
    d = paired_difference(ours, base, alpha=0.05)
    # differences 0.2, 0.3, 0.1, 0.0: mean 0.15, sample std sqrt(0.05 / 3)
    std = math.sqrt(((0.05) ** 2 + 0.15 ** 2 + 0.05 ** 2 + 0.15 ** 2) / 3)
    assert d["delta"] == pytest.approx(0.15)
    assert d["delta_std"] == pytest.approx(std)
    half = 3.182446305284263 * std / 2                 # t_{0.975, 3} from a t table
    assert (d["ci_low"], d["ci_high"]) == (pytest.approx(0.15 - half), pytest.approx(0.15 + half))
    t = 0.15 / (std / 2)
    assert t == pytest.approx(2.3237900077244493)
    assert d["p_value"] == pytest.approx(0.10280, abs=1e-4)   # two-sided, 3 degrees of freedom
    assert d["n_pairs"] == 4


def test_unpaired_seeds_are_dropped_and_one_pair_has_no_spread():
    d = paired_difference(pd.Series({1: 81.0, 2: 81.5}), pd.Series({1: 80.0, 3: 70.0}),
                          alpha=0.05)
    assert d["n_pairs"] == 1 and d["delta"] == 1.0
    assert math.isnan(d["p_value"]) and math.isnan(d["ci_low"]) and math.isnan(d["delta_std"])


def test_equal_differences_give_no_p_value_and_a_zero_width_interval():
    d = paired_difference(pd.Series([2.0, 3.0, 4.0]), pd.Series([1.0, 2.0, 3.0]), alpha=0.05)
    assert d["delta"] == pytest.approx(1.0)
    assert math.isnan(d["p_value"])
    assert d["ci_low"] == pytest.approx(1.0) and d["ci_high"] == pytest.approx(1.0)
