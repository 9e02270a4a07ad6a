"""Figure 1's numbers: user profiles, activity groups, activity-matched CTR and the KS panels,
on hand-built tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from apg.activity import activity_groups, figure1_table, ks_row, matched_ctr, user_profile


def rows(users: dict) -> pd.DataFrame:
    """A training split from {user: (age, [labels])}."""
    return pd.DataFrame([{"user_id": user, "age": age, "label": label}
                         for user, (age, labels) in users.items() for label in labels])


def test_user_profile_counts_clicks_and_keeps_the_attribute():
    users = user_profile(rows({1: (25, [1, 0, 1, 1]), 2: (35, [0, 0])}), "user_id", "age")
    assert users.loc[1].to_dict() == {"count": 4, "clicks": 3, "attribute": 25, "ctr": 0.75}
    assert users.loc[2, "ctr"] == 0.0


def test_an_attribute_that_varies_within_a_user_is_refused():
    train = rows({1: (25, [1, 0])})
    train.loc[1, "age"] = 35
    with pytest.raises(ValueError, match="'age' varies within 1 users"):
        user_profile(train, "user_id", "age")


def test_activity_groups_cut_at_the_quantiles_with_ties_included():
    counts = pd.Series(range(1, 11), index=list("abcdefghij"))
    groups = activity_groups(counts, 0.2)          # quantiles 2.8 and 8.2 (linear)
    assert list(groups[groups == "cold"].index) == ["a", "b"]
    assert list(groups[groups == "active"].index) == ["i", "j"]
    assert groups[list("cdefgh")].isna().all()
    tied = activity_groups(pd.Series([1, 1, 1, 5, 9, 9]), 0.3)
    assert list(tied) == ["cold", "cold", "cold", np.nan, "active", "active"]


@pytest.mark.parametrize("quantile", [0, 0.5, 0.7])
def test_a_quantile_outside_zero_to_a_half_is_refused(quantile):
    with pytest.raises(ValueError, match="between 0 and 0.5"):
        activity_groups(pd.Series([1, 2, 3]), quantile)


def test_equal_quantiles_cannot_make_groups():
    with pytest.raises(ValueError, match="no activity groups"):
        activity_groups(pd.Series([4, 4, 4, 4]), 0.2)


def test_matched_ctr_draws_as_many_rows_as_the_cold_user_has_from_active_users():
    # active users click always or never, so a matched CTR is 0 or 1 whatever the draw; a
    # cold user with 3 rows gets a share of 3 draws from one active user
    train = rows({"a1": (1, [1] * 50), "a2": (1, [0] * 50), "c1": (1, [1, 0, 0]),
                  "c2": (1, [0, 1]), "m": (1, [1] * 10)})
    users = user_profile(train, "user_id", "age")
    groups = pd.Series({"a1": "active", "a2": "active", "c1": "cold", "c2": "cold", "m": np.nan})
    matched = matched_ctr(train, users, groups, "user_id", seed=0)
    assert list(matched.index) == ["c1", "c2"] and set(matched) <= {0.0, 1.0}
    mixed = rows({"a": (1, [1, 0] * 25), "c": (1, [1, 0, 1, 0])})
    share = matched_ctr(mixed, user_profile(mixed, "user_id", "age"),
                        pd.Series({"a": "active", "c": "cold"}), "user_id", seed=1)
    assert share["c"] in {0.0, 0.25, 0.5, 0.75, 1.0}
    assert share.equals(matched_ctr(mixed, user_profile(mixed, "user_id", "age"),
                                    pd.Series({"a": "active", "c": "cold"}), "user_id", seed=1))


def test_ks_row_is_the_largest_gap_between_the_empirical_distributions():
    cold, active = pd.Series([0.1, 0.2, 0.3, 0.4]), pd.Series([0.3, 0.5, 0.6, 0.7])
    # by hand: at x = 0.4 the cold ECDF is 1, the active one 1/4, a gap of 3/4
    row = ks_row("ctr", cold, active)
    assert row["ks_d"] == pytest.approx(0.75) and row["n_cold"] == 4
    assert ks_row("age", pd.Series([1, 2, 3]), pd.Series([3, 2, 1]))["ks_d"] == 0.0


def test_figure1_separates_a_ctr_gap_from_an_attribute_that_is_alike():
    """Cold users click 90 % of the time and active ones 10 %, with the same ages: the CTR
    panels must reject strongly and the age panel find no difference."""
    rng = np.random.default_rng(0)
    users = {}
    for i in range(200):
        cold = i < 100
        n = 20 if cold else 200
        users[i] = (18 + 10 * (i % 4), list(rng.random(n) < (0.9 if cold else 0.1)))
    train = rows(users).astype({"label": int})
    values = {18: "18", 28: "28", 38: "38", 48: "48"}
    profile, table = figure1_table(train, "user_id", "age", values, quantile=0.3, seed=0)
    panels = table.set_index("panel")
    assert panels.loc["ctr", "ks_d"] > 0.9 and panels.loc["ctr", "p_value"] < 1e-10
    assert panels.loc["ctr_matched", "p_value"] < 1e-10
    assert panels.loc["age", "ks_d"] == 0.0 and panels.loc["age", "p_value"] == 1.0
    assert panels.loc["ctr", "n_cold"] == 100 and (profile["group"] == "active").sum() == 100
    assert profile["ctr_matched"].notna().sum() == 100
    assert table["count_cold_max"].iloc[0] == 20 and table["count_active_min"].iloc[0] == 200


def test_an_attribute_without_numeric_values_is_refused():
    train = rows({1: (1, [1] * 5), 2: (2, [0] * 9), 3: (1, [1] * 20)})
    with pytest.raises(ValueError, match="must have numeric"):
        figure1_table(train, "user_id", "age", {1: "F", 2: "M"}, quantile=0.3, seed=0)
