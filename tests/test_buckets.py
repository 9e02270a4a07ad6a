"""Frequency buckets: training counts, bucket AUCs, paired gains per bucket and the verdict."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from apg.buckets import bucket_aucs, bucket_deltas, frequency_buckets, rare_bucket_verdict

T_975_DF2 = 4.302652729911275  # t_{0.975, 2}, from a t table
T_95_DF2 = 2.919985580355516  # t_{0.95, 2}


def test_frequency_buckets_counts_and_quantile_buckets_in_test_order():
    # training counts: code 1 five times, 2 four, 3 three, 4 two, 5 once; 9 is never seen
    train = np.array([1] * 5 + [2] * 4 + [3] * 3 + [4] * 2 + [5])
    test = np.array([3, 9, 1, 4, 2, 5, 4, 3, 1, 2])
    buckets = frequency_buckets(train, test, n_buckets=5)
    assert list(buckets.columns) == ["count", "bucket"]
    assert buckets["count"].tolist() == [3, 0, 5, 2, 4, 1, 2, 3, 5, 4]
    # counts 0,1 | 2,2 | 3,3 | 4,4 | 5,5: two test rows per bucket, bucket 0 the rarest
    assert buckets["bucket"].tolist() == [2, 0, 4, 1, 3, 0, 1, 2, 4, 3]


def test_frequency_buckets_hold_equal_numbers_of_test_rows_rarest_first():
    train = np.repeat(np.arange(100), np.arange(100))  # code k occurs k times
    buckets = frequency_buckets(train, np.arange(100), n_buckets=5)
    assert buckets["count"].tolist() == list(range(100))
    assert buckets["bucket"].value_counts().sort_index().tolist() == [20] * 5
    ranges = buckets.groupby("bucket")["count"].agg(["min", "max"])
    assert ranges.values.tolist() == [[0, 19], [20, 39], [40, 59], [60, 79], [80, 99]]


def test_frequency_buckets_ties_merge_buckets():
    train = np.array([1, 1, 1, 2])
    test = np.array([1] * 8 + [2, 7])  # counts 3 (eight rows), 1, 0
    buckets = frequency_buckets(train, test, n_buckets=5)
    assert buckets["bucket"].tolist() == [1] * 8 + [0, 0]


def test_frequency_buckets_refuse_a_single_count():
    with pytest.raises(ValueError, match="same training count"):
        frequency_buckets(np.array([1, 2]), np.array([1, 2, 1]))


def two_bucket_case():
    """Eight test rows, buckets interleaved. Bucket 0 (rows 0, 2, 4, 6; counts 0-2): labels
    0, 0, 1, 1. Bucket 1 (rows 1, 3, 5, 7; counts 5-9): labels 0, 0, 1, 1."""
    buckets = pd.DataFrame({"count": [0, 5, 1, 6, 2, 7, 2, 9],
                            "bucket": [0, 1, 0, 1, 0, 1, 0, 1]})
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    return buckets, labels


def test_bucket_aucs_match_hand_counted_pairs():
    buckets, labels = two_bucket_case()
    # base seed 1: bucket 0 ranks perfectly (100); bucket 1 scores negatives 0.1, 0.6 and
    # positives 0.5, 0.9: 3 of 4 pairs ordered (75). base seed 7: bucket 0 reversed (0).
    base = pd.DataFrame({"seed_1": [0.1, 0.1, 0.2, 0.6, 0.8, 0.5, 0.9, 0.9],
                         "seed_7": [0.9, 0.1, 0.8, 0.6, 0.2, 0.5, 0.1, 0.9]})
    # v5 seed 1: bucket 0 has one tie between a positive and a negative: 3.5 of 4 (87.5)
    v5 = pd.DataFrame({"seed_1": [0.1, 0.1, 0.5, 0.2, 0.5, 0.8, 0.9, 0.9],
                       "seed_7": [0.1, 0.1, 0.2, 0.2, 0.8, 0.8, 0.9, 0.9]})
    aucs = bucket_aucs(buckets, labels, {"base": base, "v5": v5})
    assert list(aucs.columns) == ["variant", "seed", "bucket", "auc", "rows", "count_min",
                                  "count_max"]
    got = aucs.set_index(["variant", "seed", "bucket"])["auc"].sort_index()
    expected = {("base", 1, 0): 100.0, ("base", 1, 1): 75.0, ("base", 7, 0): 0.0,
                ("base", 7, 1): 75.0, ("v5", 1, 0): 87.5, ("v5", 1, 1): 100.0,
                ("v5", 7, 0): 100.0, ("v5", 7, 1): 100.0}
    assert got.to_dict() == pytest.approx(expected)
    sizes = aucs.groupby("bucket")[["rows", "count_min", "count_max"]].first()
    assert sizes.values.tolist() == [[4, 0, 2], [4, 5, 9]]


def test_bucket_aucs_name_a_one_class_bucket():
    buckets, _ = two_bucket_case()
    labels = np.array([0, 1, 0, 1, 1, 1, 1, 1])  # bucket 1 is all clicks
    predictions = {"base": pd.DataFrame({"seed_1": np.linspace(0, 1, 8)})}
    with pytest.raises(ValueError, match="bucket 1 .*use fewer buckets"):
        bucket_aucs(buckets, labels, predictions)


def hand_aucs(per_bucket: dict) -> pd.DataFrame:
    """bucket_aucs-shaped rows from {bucket: {variant: {seed: auc}}}; bucket b spans training
    counts 10 b to 10 b + 9 over 100 test rows."""
    rows = [{"variant": variant, "seed": seed, "bucket": bucket, "auc": auc, "rows": 100,
             "count_min": 10 * bucket, "count_max": 10 * bucket + 9}
            for bucket, variants in per_bucket.items()
            for variant, by_seed in variants.items() for seed, auc in by_seed.items()]
    return pd.DataFrame(rows)


def test_bucket_deltas_pair_by_seed_with_t_interval_and_paired_test():
    aucs = hand_aucs({
        # differences by seed 1.5, 1.0, 2.0; + APG listed out of seed order, and pairing its
        # AUCs by rank instead of by seed would give -1.0, 3.0, 2.5
        0: {"base": {1: 72.0, 2: 70.0, 3: 71.0}, "v5": {3: 73.0, 1: 73.5, 2: 71.0}},
        # the same difference 0.5 for every seed
        1: {"base": {1: 80.0, 2: 81.0, 3: 82.0}, "v5": {1: 80.5, 2: 81.5, 3: 82.5}},
    })
    deltas = bucket_deltas(aucs, alpha=0.05)
    assert list(deltas.columns) == ["bucket", "count_min", "count_max", "rows", "auc_base",
                                    "auc_apg", "delta", "delta_std", "ci_low", "ci_high",
                                    "p_value", "n_seeds"]
    rare, frequent = deltas.iloc[0], deltas.iloc[1]
    assert [rare["bucket"], rare["count_min"], rare["count_max"], rare["rows"]] == [0, 0, 9, 100]
    assert rare["auc_base"] == pytest.approx(71.0)
    assert rare["auc_apg"] == pytest.approx(72.5)
    assert rare["delta"] == pytest.approx(1.5)
    assert rare["delta_std"] == pytest.approx(0.5)  # deviations 0, -0.5, +0.5 over 2
    half_width = T_975_DF2 * 0.5 / np.sqrt(3)
    assert rare["ci_low"] == pytest.approx(1.5 - half_width)
    assert rare["ci_high"] == pytest.approx(1.5 + half_width)
    expected_p = stats.ttest_rel([73.5, 71.0, 73.0], [72.0, 70.0, 71.0]).pvalue
    assert rare["p_value"] == pytest.approx(expected_p)
    assert rare["n_seeds"] == 3
    assert frequent["delta"] == pytest.approx(0.5)
    assert frequent["delta_std"] == pytest.approx(0.0)
    assert [frequent["ci_low"], frequent["ci_high"]] == pytest.approx([0.5, 0.5])
    assert np.isnan(frequent["p_value"])


def test_bucket_deltas_interval_is_symmetric_about_the_mean_at_the_asked_level():
    aucs = hand_aucs({0: {"base": {1: 70.0, 2: 71.0, 3: 72.0},
                          "v5": {1: 71.0, 2: 73.0, 3: 73.5}}})
    row = bucket_deltas(aucs, apg="v5", alpha=0.10).iloc[0]
    assert row["ci_low"] < row["delta"] < row["ci_high"]
    assert row["delta"] - row["ci_low"] == pytest.approx(row["ci_high"] - row["delta"])
    assert row["ci_high"] - row["delta"] == pytest.approx(T_95_DF2 * 0.5 / np.sqrt(3))


def test_bucket_deltas_with_one_seed_have_no_p_value_or_interval():
    row = bucket_deltas(hand_aucs({0: {"base": {4: 70.0}, "v5": {4: 70.8}}}), alpha=0.05).iloc[0]
    assert row["delta"] == pytest.approx(0.8)
    assert row["n_seeds"] == 1
    assert np.isnan(row["p_value"])
    assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])


def test_bucket_deltas_refuse_to_guess_among_several_variants():
    aucs = hand_aucs({0: {"base": {1: 70.0}, "v1": {1: 71.0}, "v5": {1: 72.0}}})
    with pytest.raises(ValueError, match="v1.*v5"):
        bucket_deltas(aucs, alpha=0.05)
    assert bucket_deltas(aucs, apg="v1", alpha=0.05).iloc[0]["delta"] == pytest.approx(1.0)


def hand_deltas(delta, ci_low, ci_high) -> pd.DataFrame:
    """A bucket_deltas-shaped table, three buckets listed most frequent first; bucket 0 spans
    training counts 0 to 3."""
    return pd.DataFrame({"bucket": [2, 1, 0], "count_min": [20, 4, 0], "count_max": [500, 19, 3],
                         "rows": [100, 100, 100], "delta": delta[::-1],
                         "ci_low": ci_low[::-1], "ci_high": ci_high[::-1]})


def test_verdict_holds_when_the_rarest_gain_is_largest_and_its_interval_above_zero():
    verdict = rare_bucket_verdict(hand_deltas([0.8, 0.4, 0.1], [0.3, 0.1, -0.2],
                                              [1.3, 0.7, 0.4]), alpha=0.05)
    assert verdict.startswith("HOLDS:")
    assert "training count 0 to 3" in verdict
    assert "+0.80" in verdict and "95 % CI +0.30 to +1.30" in verdict
    assert "= -1.00" in verdict  # gains fall with every bucket


def test_verdict_partly_holds_when_the_rarest_interval_includes_zero():
    verdict = rare_bucket_verdict(hand_deltas([0.8, 0.1, 0.4], [-0.2, -0.1, 0.1],
                                              [1.8, 0.3, 0.7]), alpha=0.05)
    assert verdict.startswith("PARTLY:")
    assert "95 % CI -0.20 to +1.80" in verdict
    assert "= -0.50" in verdict  # ranks of delta 3, 1, 2 against buckets 1, 2, 3


def test_verdict_does_not_hold_when_another_bucket_gains_more():
    verdict = rare_bucket_verdict(hand_deltas([0.2, 0.4, 0.9], [0.1, 0.2, 0.6],
                                              [0.3, 0.6, 1.2]), alpha=0.05)
    assert verdict.startswith("DOES NOT HOLD:")
    assert "+0.20" in verdict and "bucket 2" in verdict
    assert "= +1.00" in verdict


def test_verdict_does_not_hold_when_the_rarest_is_the_smallest_loss():
    verdict = rare_bucket_verdict(hand_deltas([-0.3, -0.5, -0.9], [-0.5, -0.8, -1.2],
                                              [-0.1, -0.2, -0.6]), alpha=0.05)
    assert verdict.startswith("DOES NOT HOLD:")


def test_verdict_from_bucket_deltas_quotes_its_interval_level():
    aucs = hand_aucs({0: {"base": {1: 70.0, 2: 71.0, 3: 72.0}, "v5": {1: 71.0, 2: 73.0, 3: 73.5}},
                      1: {"base": {1: 80.0, 2: 81.0, 3: 82.0}, "v5": {1: 80.4, 2: 81.0, 3: 82.5}}})
    verdict = rare_bucket_verdict(bucket_deltas(aucs, alpha=0.10), alpha=0.10)
    assert verdict.startswith("HOLDS:")
    assert "bucket 0, training count 0 to 9" in verdict
    assert "+1.50" in verdict and "90 % CI" in verdict


def test_verdict_with_one_seed_partly_holds_for_want_of_an_interval():
    aucs = hand_aucs({0: {"base": {4: 70.0}, "v5": {4: 70.8}},
                      1: {"base": {4: 70.0}, "v5": {4: 70.1}}})
    verdict = rare_bucket_verdict(bucket_deltas(aucs, alpha=0.05), alpha=0.05)
    assert verdict.startswith("PARTLY:")
    assert "+0.80" in verdict and "no CI with one seed" in verdict and "nan" not in verdict


def test_read_predictions_takes_parquet_or_the_committed_csv(tmp_path):
    from apg.buckets import read_predictions

    frame = pd.DataFrame({"seed_1": [0.25, 0.5], "seed_2": [0.75, 0.125]}, dtype="float32")
    frame.to_parquet(tmp_path / "wdl-base.parquet")
    (frame * 0 + 0.5).to_csv(tmp_path / "wdl-base.csv", index=False)   # parquet wins
    (frame * 2).to_csv(tmp_path / "wdl-v5.csv", index=False)
    pd.testing.assert_frame_equal(read_predictions(tmp_path / "wdl-base"), frame)
    pd.testing.assert_frame_equal(read_predictions(tmp_path / "wdl-v5"), (frame * 2).astype("float64"))
    with pytest.raises(FileNotFoundError):
        read_predictions(tmp_path / "pnn-base")
