"""Figure 6's statistics: distances, data-only group similarities, the Mantel test, PCA."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from apg import similarity
from apg.similarity import (group_distances, mantel, mantel_table, pca_2d, seed_stability,
                            user_ctr_correlation, user_overlap)


def upper_triangle(matrix: np.ndarray) -> np.ndarray:
    """The entries above the diagonal, row by row, written out by hand."""
    n = len(matrix)
    return np.array([matrix[i][j] for i in range(n) for j in range(i + 1, n)])


def euclidean(points: np.ndarray) -> np.ndarray:
    return np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=-1))


def embedded(points: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """The 2-D points placed in a random 2-D plane of 10-D space, plus small noise."""
    basis, _ = np.linalg.qr(rng.normal(size=(10, 2)))
    return points @ basis.T + noise * rng.normal(size=(len(points), 10))


def test_group_distances_by_hand():
    vectors = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    expected = np.array([[0.0, 3.0, 4.0], [3.0, 0.0, 5.0], [4.0, 5.0, 0.0]])
    np.testing.assert_allclose(group_distances(vectors), expected)


def test_mantel_r_is_spearman_of_upper_triangles():
    rng = np.random.default_rng(0)
    a = euclidean(rng.normal(size=(7, 3)))
    b = euclidean(rng.normal(size=(7, 3)))
    result = mantel(a, b, permutations=99, seed=1)
    assert result["r"] == pytest.approx(stats.spearmanr(upper_triangle(a),
                                                        upper_triangle(b)).statistic)
    assert result["n_pairs"] == 21 and result["permutations"] == 99
    assert result == mantel(a, b, permutations=99, seed=1)          # reproducible from the seed


def test_mantel_p_value_matches_exact_enumeration():
    rng = np.random.default_rng(3)
    points = rng.normal(size=(5, 2))
    a = euclidean(points)
    b = euclidean(points + 2.0 * rng.normal(size=(5, 2)))
    r = stats.spearmanr(upper_triangle(a), upper_triangle(b)).statistic
    r_all = [stats.spearmanr(upper_triangle(a[np.ix_(order, order)]), upper_triangle(b)).statistic
             for order in itertools.permutations(range(5))]            # identity included
    p_exact = sum(r_perm >= r - 1e-9 for r_perm in r_all) / 120
    assert 0.02 < p_exact < 0.5                      # a p-value where the permutations matter
    assert mantel(a, b, permutations=20000, seed=0)["p_value"] == pytest.approx(p_exact, abs=0.01)


def test_mantel_finds_structure_that_is_there():
    rng = np.random.default_rng(1)
    points = rng.uniform(size=(12, 2))
    vectors = embedded(points, rng, noise=0.01)
    result = mantel(group_distances(vectors), euclidean(points), permutations=999, seed=0)
    assert result["r"] > 0.9
    assert result["p_value"] < 0.01


def null_case(rng: np.random.Generator, n_groups: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Generated distances and data distances of the groups shuffled: no association."""
    points = rng.uniform(size=(n_groups, 2))
    vectors = embedded(points, rng, noise=0.01)
    return group_distances(vectors), euclidean(points[rng.permutation(n_groups)])


def test_mantel_finds_nothing_in_relabelled_groups():
    result = mantel(*null_case(np.random.default_rng(7)), permutations=999, seed=0)
    assert abs(result["r"]) < 0.4
    assert result["p_value"] > 0.05


def test_mantel_is_calibrated_under_the_null():
    rng = np.random.default_rng(11)
    p_values = [mantel(*null_case(rng), permutations=199, seed=shuffle)["p_value"]
                for shuffle in range(200)]
    assert np.mean(np.array(p_values) < 0.05) < 0.12


def test_mantel_drops_and_counts_nan_pairs():
    rng = np.random.default_rng(2)
    a = euclidean(rng.normal(size=(6, 2)))
    b = euclidean(rng.normal(size=(6, 2)))
    b[0, 1] = b[1, 0] = np.nan
    a[2, 4] = a[4, 2] = np.nan
    result = mantel(a, b, permutations=99, seed=0)
    kept = ~np.isnan(upper_triangle(a)) & ~np.isnan(upper_triangle(b))
    assert result["n_pairs"] == 15 - 2 == kept.sum()
    assert result["r"] == pytest.approx(stats.spearmanr(upper_triangle(a)[kept],
                                                        upper_triangle(b)[kept]).statistic)
    assert 0 < result["p_value"] <= 1


@pytest.mark.parametrize("a, b, message", [
    (np.zeros((3, 4)), np.zeros((3, 4)), "square"),
    (np.zeros(9), np.zeros(9), "square"),
    (np.zeros((3, 3)), np.zeros((4, 4)), "differ in shape"),
    (np.zeros((2, 2)), np.zeros((2, 2)), "at least 3 groups"),
    (np.arange(9.0).reshape(3, 3), np.zeros((3, 3)), "symmetric"),
])
def test_mantel_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        mantel(a, b, permutations=9, seed=0)


def rows_from(labels: dict[tuple[str, int], list[int]]) -> pd.DataFrame:
    """One row per label, from {(user, group): labels}, in a scrambled order."""
    frame = pd.DataFrame([{"user": u, "genre": g, "click": y}
                          for (u, g), ys in labels.items() for y in ys])
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


# With min_rows = 2 the CTRs are (dropped: a single row)
#          genre 10  genre 20  genre 30
#   u1     1         0.5       -
#   u2     0         0         1
#   u3     0.5       1         0
#   u4     0.5       -         0.5
CTR_ROWS = rows_from({
    ("u1", 10): [1, 1], ("u1", 20): [1, 0], ("u1", 30): [1],
    ("u2", 10): [0, 0], ("u2", 20): [0, 0], ("u2", 30): [1, 1],
    ("u3", 10): [1, 0], ("u3", 20): [1, 1], ("u3", 30): [0, 0],
    ("u4", 10): [1, 0], ("u4", 20): [1], ("u4", 30): [1, 0],
})


def test_user_ctr_correlation_by_hand(monkeypatch):
    monkeypatch.setattr(similarity, "MIN_SHARED_USERS", 3)
    corr = user_ctr_correlation(CTR_ROWS, group="genre", user="user", label="click", min_rows=2)
    # 10 vs 20 over u1-u3: (1, 0, .5) vs (.5, 0, 1): deviations (.5, -.5, 0), (0, -.5, .5),
    # r = .25 / sqrt(.5 * .5) = .5. 10 vs 30 over u2-u4: (0, .5, .5) vs (1, 0, .5):
    # r = -.25 / sqrt(1/6 * .5) = -sqrt(3) / 2. 20 vs 30 share only u2, u3: too few.
    assert list(corr.index) == list(corr.columns) == [10, 20, 30]
    assert corr.loc[10, 20] == pytest.approx(0.5) and corr.loc[20, 10] == pytest.approx(0.5)
    assert corr.loc[10, 30] == pytest.approx(-np.sqrt(3) / 2)
    assert np.isnan(corr.loc[20, 30]) and np.isnan(corr.loc[30, 20])
    np.testing.assert_allclose(np.diag(corr), 1.0)


def test_user_ctr_correlation_is_nan_for_groups_with_too_few_users():
    assert similarity.MIN_SHARED_USERS == 10
    corr = user_ctr_correlation(CTR_ROWS, group="genre", user="user", label="click", min_rows=2)
    assert corr.shape == (3, 3) and corr.isna().all().all()


def test_user_overlap_by_hand():
    rows = pd.DataFrame({"user": [1, 2, 3, 3, 2, 3, 4, 5, 5],
                         "genre": ["b", "b", "b", "a", "a", "a", "a", "c", "c"]})
    overlap = user_overlap(rows, group="genre", user="user")
    # a: {2, 3, 4}, b: {1, 2, 3}, c: {5}
    expected = pd.DataFrame([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]],
                            index=["a", "b", "c"], columns=["a", "b", "c"])
    pd.testing.assert_frame_equal(overlap, expected, check_names=False)


def test_pca_2d_on_points_along_a_line():
    direction = np.array([1.0, -3.0, 2.0, 0.5, 0.0])
    direction /= np.linalg.norm(direction)
    t = np.array([0.0, 1.0, 2.5, -1.0, 4.0, 0.3])
    coordinates, ratio = pca_2d(1.0 + t[:, None] * direction)
    assert coordinates.shape == (6, 2) and ratio.shape == (2,)
    assert ratio[0] == pytest.approx(1.0)
    # the largest |loading| (-3) must come out positive: the loading is -direction
    np.testing.assert_allclose(coordinates[:, 0], -(t - t.mean()), atol=1e-9)


def test_pca_2d_matches_svd_with_the_sign_rule():
    vectors = np.random.default_rng(5).normal(size=(8, 6)) * [5, 3, 1, 1, 0.5, 0.1]
    centered = vectors - vectors.mean(axis=0)
    _, singular, loadings = np.linalg.svd(centered, full_matrices=False)
    loadings = loadings[:2]
    for loading in loadings:
        loading *= np.sign(loading[np.argmax(np.abs(loading))])
    coordinates, ratio = pca_2d(vectors)
    np.testing.assert_allclose(coordinates, centered @ loadings.T, atol=1e-9)
    np.testing.assert_allclose(ratio, (singular ** 2 / (singular ** 2).sum())[:2])


def test_seed_stability_of_identical_vectors():
    vectors = np.random.default_rng(4).normal(size=(6, 4))
    table = seed_stability({3: vectors, 1: vectors, 2: vectors + 1.0}, permutations=99, seed=0)
    assert list(table.columns) == ["seed", "reference_seed", "r", "p_value", "n_pairs"]
    assert list(table["seed"]) == [2, 3] and set(table["reference_seed"]) == {1}
    assert (table["r"] == 1.0).all() and (table["n_pairs"] == 15).all()
    assert (table["p_value"] < 0.05).all()


def test_seed_stability_needs_two_seeds():
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_stability({0: np.zeros((4, 2))}, permutations=9, seed=0)


def test_mantel_table_holds_every_test_of_figure6():
    rng = np.random.default_rng(5)
    points = rng.normal(size=(7, 2))
    truth = euclidean(points)     # the groups' known dissimilarity
    vectors = {1: embedded(points, rng, 0.01), 2: embedded(points, rng, 0.01)}
    unrelated = euclidean(rng.normal(size=(7, 2)))
    table = mantel_table(vectors, {"truth": truth, "unrelated": unrelated}, permutations=199,
                         seed=3)
    assert list(table.columns) == similarity.MANTEL_COLUMNS
    assert list(zip(table["kind"], table["similarity"], table["seed"])) == [
        ("data", "truth", 1), ("data", "unrelated", 1), ("data", "truth", 2),
        ("data", "unrelated", 2), ("seeds", "S_i distances", 2)]
    assert table["reference_seed"].isna().tolist() == [True] * 4 + [False]
    assert table["reference_seed"].iloc[-1] == 1
    assert (table["permutations"] == 199).all() and (table["n_pairs"] == 21).all()
    direct = mantel(euclidean(vectors[2]), truth, permutations=199, seed=3)
    assert table.iloc[2][["r", "p_value"]].tolist() == [direct["r"], direct["p_value"]]
    truth_rows = table[table["similarity"] == "truth"]
    assert (truth_rows["r"] > 0.9).all() and (truth_rows["p_value"] < 0.01).all()
    assert table.iloc[-1]["r"] > 0.9


def test_mantel_table_of_one_seed_has_no_stability_rows():
    rng = np.random.default_rng(6)
    points = rng.normal(size=(5, 2))
    table = mantel_table({3: embedded(points, rng, 0.01)}, {"truth": euclidean(points)},
                         permutations=99, seed=0)
    assert list(table["kind"]) == ["data"] and table["seed"].tolist() == [3]
    assert table["reference_seed"].isna().all()
