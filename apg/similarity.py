"""Figure 6 (Sec. 4.6): do similar groups get similar generated parameters?

The paper shows a 2-D picture of the generated parameters S_i, one vector per group (e.g. per
movie genre), and reads it as "the S_i of similar groups lie close together". This module turns
that reading into a test:

- `group_distances`: the Euclidean distances between the groups' generated vectors;
- a similarity of the groups computed from the training data alone, never from the model:
  `user_ctr_correlation` (do the same users click in both groups?) or `user_overlap` (are they
  the same users at all?); a distance is e.g. 1 - similarity;
- `mantel`: the Mantel test of the two (G, G) matrices. Its statistic is Spearman's rank
  correlation between their G(G-1)/2 off-diagonal entries: only the order of the distances is
  compared, since a distance between parameter vectors and a correlation of CTRs have no common
  scale and need not be linearly related. The G(G-1)/2 pairs are not independent (every group
  takes part in G - 1 of them), so the usual p-value of a correlation does not apply; the
  p-value comes from relabelling the groups of one matrix at random instead, which keeps that
  dependence and breaks only the link between the two matrices;
- `pca_2d`: the 2-D coordinates of the picture itself, with a deterministic sign;
- `seed_stability`: whether the distances between groups are the same from one training seed
  to the next (a Mantel test of each seed against the first);
- `mantel_table`: Figure 6's every test in one table, the data's and the seeds'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import pdist, squareform
from sklearn.decomposition import PCA

# Fewest users two groups must share for their CTR correlation to be computed (NaN below).
MIN_SHARED_USERS = 10

# Correlations equal up to rounding count as ties: on few groups many relabellings give exactly
# the same Spearman r, and the count of r_perm >= r must not depend on floating-point noise.
_TIE_TOLERANCE = 1e-10

# Permutations ranked at once in `mantel`, to bound memory on many groups.
_PERMUTATION_CHUNK = 1000


def group_distances(vectors: np.ndarray) -> np.ndarray:
    """(G, G) Euclidean distances between the rows of `vectors` (G, D), one row per group."""
    return squareform(pdist(np.asarray(vectors, dtype=float), metric="euclidean"))


def user_ctr_correlation(rows: pd.DataFrame, group: str, user: str, label: str,
                         min_rows: int) -> pd.DataFrame:
    """Pearson correlation between groups of the users' CTRs, over the users they share.

    A user's CTR in a group is the mean of the 0/1 `label` over the user's rows of that group,
    kept only where the user has at least `min_rows` of them. A pair of groups sharing fewer
    than `MIN_SHARED_USERS` such users gets NaN, and so does a group with fewer users than that
    (its whole row and column); so does a group whose CTRs are all equal. Index and columns are
    the sorted group codes of `rows`.
    """
    per_user = rows.groupby([user, group])[label].agg(["mean", "size"])
    ctr = per_user.loc[per_user["size"] >= min_rows, "mean"].unstack(group)
    groups = np.sort(rows[group].unique())
    ctr = ctr.reindex(columns=groups)
    correlation = ctr.corr(method="pearson", min_periods=MIN_SHARED_USERS)
    return correlation.rename_axis(index=group, columns=group)


def user_overlap(rows: pd.DataFrame, group: str, user: str) -> pd.DataFrame:
    """Jaccard overlap |U_a & U_b| / |U_a | U_b| of the users with rows in each pair of groups.

    (G, G), diagonal 1; index and columns are the sorted group codes of `rows`.
    """
    membership = (pd.crosstab(rows[user], rows[group]) > 0).astype(int)
    members = membership.to_numpy()
    shared = members.T @ members
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    return pd.DataFrame(shared / union, index=membership.columns, columns=membership.columns)


def _check_distance_pair(distance_a: np.ndarray, distance_b: np.ndarray) -> None:
    """Raise ValueError unless both matrices are square, symmetric, alike and have >= 3 groups."""
    for name, matrix in (("distance_a", distance_a), ("distance_b", distance_b)):
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"{name} must be a square (G, G) matrix, got shape {matrix.shape}")
        if not np.allclose(matrix, matrix.T, equal_nan=True):
            raise ValueError(f"{name} must be symmetric")
    if distance_a.shape != distance_b.shape:
        raise ValueError(f"distance_a and distance_b differ in shape: "
                         f"{distance_a.shape} vs {distance_b.shape}")
    if distance_a.shape[0] < 3:
        raise ValueError(f"the Mantel test needs at least 3 groups, got {distance_a.shape[0]}")


def _spearman_rows(a_rows: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman r of every row of `a_rows` (P, m) with `b` (m,), over the pairs complete in both.

    NaN where fewer than two pairs are complete or one side is constant.
    """
    complete = ~np.isnan(a_rows) & ~np.isnan(b)
    a_ranks = stats.rankdata(np.where(complete, a_rows, np.nan), axis=1, nan_policy="omit")
    b_ranks = stats.rankdata(np.where(complete, b, np.nan), axis=1, nan_policy="omit")
    # n average ranks always sum to n (n + 1) / 2, so their mean is (n + 1) / 2.
    mean_rank = (complete.sum(axis=1, keepdims=True) + 1) / 2
    a_deviation = np.where(complete, a_ranks - mean_rank, 0.0)
    b_deviation = np.where(complete, b_ranks - mean_rank, 0.0)
    covariance = (a_deviation * b_deviation).sum(axis=1)
    scale = np.sqrt((a_deviation ** 2).sum(axis=1) * (b_deviation ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / scale


def mantel(distance_a: np.ndarray, distance_b: np.ndarray, permutations: int,
           seed: int) -> dict:
    """Mantel test (Spearman) of two symmetric (G, G) matrices, one-sided for r > 0.

    r is Spearman's correlation between the upper triangles (diagonal excluded); pairs where
    either entry is NaN are dropped and `n_pairs` says how many were used. The p-value is
    (1 + #{r_perm >= r}) / (1 + permutations), each r_perm computed after relabelling the
    groups of `distance_a` (rows and columns permuted jointly) with
    `np.random.default_rng(seed)`; since that moves distance_a's NaNs, incomplete pairs are
    dropped anew for every permutation. r and p_value are NaN when r is undefined (fewer than
    two complete pairs, or one side constant).
    """
    distance_a = np.asarray(distance_a, dtype=float)
    distance_b = np.asarray(distance_b, dtype=float)
    _check_distance_pair(distance_a, distance_b)
    n_groups = distance_a.shape[0]
    upper_rows, upper_columns = np.triu_indices(n_groups, k=1)
    triangle_a = distance_a[upper_rows, upper_columns]
    triangle_b = distance_b[upper_rows, upper_columns]
    r = _spearman_rows(triangle_a[None, :], triangle_b)[0]
    n_pairs = int((~np.isnan(triangle_a) & ~np.isnan(triangle_b)).sum())

    rng = np.random.default_rng(seed)
    at_least_r = 0
    for start in range(0, permutations, _PERMUTATION_CHUNK):
        chunk = min(_PERMUTATION_CHUNK, permutations - start)
        relabel = rng.permuted(np.tile(np.arange(n_groups), (chunk, 1)), axis=1)
        permuted_a = distance_a[relabel[:, upper_rows], relabel[:, upper_columns]]
        r_permuted = _spearman_rows(permuted_a, triangle_b)
        at_least_r += int((r_permuted >= r - _TIE_TOLERANCE).sum())
    p_value = (1 + at_least_r) / (1 + permutations) if np.isfinite(r) else float("nan")
    return {"r": float(r), "p_value": p_value, "n_pairs": n_pairs, "permutations": permutations}


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-D PCA coordinates (G, 2) of the group vectors and the explained variance ratios (2,).

    A principal component's sign is arbitrary; each is flipped so that its loading of largest
    absolute value is positive, which makes the picture the same from run to run.
    """
    vectors = np.asarray(vectors, dtype=float)
    pca = PCA(n_components=2).fit(vectors)
    coordinates = pca.transform(vectors)
    largest = pca.components_[np.arange(2), np.abs(pca.components_).argmax(axis=1)]
    signs = np.where(largest < 0, -1.0, 1.0)
    return coordinates * signs, pca.explained_variance_ratio_


def seed_stability(vectors_by_seed: dict[int, np.ndarray], permutations: int,
                   seed: int) -> pd.DataFrame:
    """Mantel test of every seed's group distances against those of the first seed (sorted).

    One row per seed other than the first: seed, reference_seed, r, p_value, n_pairs.
    """
    seeds = sorted(vectors_by_seed)
    if len(seeds) < 2:
        raise ValueError(f"seed_stability needs vectors from at least 2 seeds, got {len(seeds)}")
    reference = group_distances(vectors_by_seed[seeds[0]])
    results = []
    for other in seeds[1:]:
        test = mantel(group_distances(vectors_by_seed[other]), reference, permutations, seed)
        results.append({"seed": other, "reference_seed": seeds[0], "r": test["r"],
                        "p_value": test["p_value"], "n_pairs": test["n_pairs"]})
    return pd.DataFrame(results, columns=["seed", "reference_seed", "r", "p_value", "n_pairs"])


MANTEL_COLUMNS = ["kind", "similarity", "seed", "reference_seed", "r", "p_value", "n_pairs",
                  "permutations"]


def mantel_table(vectors_by_seed: dict[int, np.ndarray],
                 dissimilarities: dict[str, np.ndarray | pd.DataFrame], permutations: int,
                 seed: int) -> pd.DataFrame:
    """Figure 6's tests: every seed's group distances against every dissimilarity from the data
    (kind "data", one row per seed and dissimilarity name) and, given two seeds or more,
    against the first seed's (kind "seeds", similarity "S_i distances", `seed_stability`;
    none with one seed, as in quick mode). The (G, G) dissimilarities
    (arrays or frames) share the group order of the vectors' rows. Columns `MANTEL_COLUMNS`;
    reference_seed is <NA> on the data's rows."""
    rows = [{"kind": "data", "similarity": name, "seed": run_seed, "reference_seed": None,
             **mantel(group_distances(vectors), np.asarray(dissimilarity, dtype=float),
                      permutations, seed)}
            for run_seed, vectors in vectors_by_seed.items()
            for name, dissimilarity in dissimilarities.items()]
    if len(vectors_by_seed) > 1:
        stability = seed_stability(vectors_by_seed, permutations, seed)
        rows += [{"kind": "seeds", "similarity": "S_i distances", **row,
                  "permutations": permutations} for row in stability.to_dict("records")]
    table = pd.DataFrame(rows, columns=MANTEL_COLUMNS)
    return table.astype({"reference_seed": "Int64"})
