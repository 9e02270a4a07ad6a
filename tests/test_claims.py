"""The claims ledger: its verdict rules on hand-built numbers and tables, and the paper's own
inconsistencies."""

import pandas as pd
import pytest

from apg import claims, paper
from apg.claims import (DOES_NOT, NOT_RUN, PARTLY, REPRODUCES, UNTESTABLE, VERDICTS,
                        close_verdict, contrast_verdict, count_verdict, gain_verdict, ledger,
                        paper_inconsistencies, reduction_verdict, robust_verdict)

ALPHA = 0.05


@pytest.mark.parametrize("delta,p,verdict", [
    (0.15, 0.01, REPRODUCES), (0.10, 0.049, REPRODUCES),
    (0.15, 0.20, PARTLY), (0.05, 0.01, PARTLY),        # not significant / below the 0.1 bar
    (0.0, 0.9, DOES_NOT), (-0.3, 0.01, DOES_NOT)])
def test_gain_verdict(delta, p, verdict):
    assert gain_verdict(delta, p, ALPHA) == verdict


@pytest.mark.parametrize("ours,paper_pct,verdict", [
    (-86.3, -38.7, REPRODUCES), (-38.7, -38.7, REPRODUCES), (-20.0, -38.7, PARTLY),
    (5.0, -38.7, DOES_NOT)])
def test_reduction_verdict(ours, paper_pct, verdict):
    assert reduction_verdict(ours, paper_pct) == verdict


def test_close_count_and_robustness_rules():
    assert close_verdict(0.05) == REPRODUCES and close_verdict(-0.12) == DOES_NOT
    assert count_verdict(5, 5) == REPRODUCES and count_verdict(2, 5) == PARTLY
    assert count_verdict(0, 5) == DOES_NOT and count_verdict(0, 0) == NOT_RUN
    assert robust_verdict(REPRODUCES, [True, False]) == PARTLY
    assert robust_verdict(REPRODUCES, []) == REPRODUCES
    assert robust_verdict(PARTLY, [True]) == PARTLY


@pytest.mark.parametrize("differs,alike,verdict", [
    ([(0.3, 1e-9), (0.25, 1e-6)], (0.02, 0.6), REPRODUCES),     # CTR differs, age does not
    ([(0.3, 1e-9), (0.25, 1e-6)], (0.10, 1e-4), PARTLY),        # age differs, but less
    ([(0.3, 1e-9), (0.25, 1e-6)], (0.28, 1e-8), DOES_NOT),      # age differs as much
    ([(0.3, 1e-9), (0.05, 0.30)], (0.02, 0.6), DOES_NOT)])      # gone under matched sampling
def test_contrast_verdict(differs, alike, verdict):
    assert contrast_verdict(differs, alike, ALPHA) == verdict


def test_the_figure1_row_reads_the_figure1_table():
    figure1 = pd.DataFrame([
        {"panel": "ctr", "ks_d": 0.24, "p_value": 6e-31},
        {"panel": "ctr_matched", "ks_d": 0.21, "p_value": 1e-24},
        {"panel": "age", "ks_d": 0.12, "p_value": 1e-7}])
    row = ledger({"figure1": figure1}, ALPHA).set_index("evidence").loc[
        "reports/tables/figure1.csv"]
    assert row["verdict"] == PARTLY
    assert "0.24" in row["ours"] and "of age: 0.12" in row["ours"]


def table6_claims_rows(pairs: dict) -> pd.DataFrame:
    """Table 6's comparisons: comparison -> (delta, p, memory share)."""
    return pd.DataFrame([{"comparison": c, "delta": d, "p_value": p, "memory_share": m,
                          "n_seeds": 5} for c, (d, p, m) in pairs.items()])


def test_the_table6_rows_read_the_comparisons():
    comparisons = table6_claims_rows({
        "apg-cg vs mmoe-cg": (0.20, 0.01, 0.01), "apg-cg vs star-cg": (0.15, 0.02, 0.002),
        "apg-fg vs mmoe-fg": (0.30, 0.001, 0.001), "apg-fg vs star-fg": (0.05, 0.40, 0.0001),
        "apg-fg vs apg-cg": (0.12, 0.03, 1.0)})
    got = verdicts_of(ledger({"table6_claims": comparisons}, ALPHA))
    assert got["APG beats MMoE and STAR in AUC, coarse- and fine-grained"] == PARTLY  # 3 of 4
    assert got["APG needs a small fraction of MMoE's and STAR's hidden-layer memory"] == \
        REPRODUCES
    assert got["fine-grained APG (per movie) beats coarse-grained APG (per genre)"] == REPRODUCES
    comparisons.loc[0, "memory_share"] = 0.5                       # smaller, not a fraction
    assert claims.table6_memory_check(comparisons)[1] == PARTLY
    comparisons.loc[0, "memory_share"] = 1.5
    assert claims.table6_memory_check(comparisons)[1] == DOES_NOT
    comparisons["delta"] = -0.2
    assert claims.table6_gain_check(comparisons, ALPHA)[1] == DOES_NOT
    assert claims.table6_fine_check(comparisons, ALPHA)[1] == DOES_NOT


def test_the_figure6_row_counts_seeds_of_the_primary_similarity():
    rows = [{"kind": "data", "similarity": name, "seed": seed, "reference_seed": None, "r": r,
             "p_value": p}
            for seed, (ctr, overlap) in enumerate([((0.4, 0.001), (0.1, 0.3)),
                                                   ((0.3, 0.01), (0.2, 0.04)),
                                                   ((0.2, 0.08), (0.3, 0.01))], 1)
            for name, (r, p) in (("user_ctr", ctr), ("user_overlap", overlap))]
    rows += [{"kind": "seeds", "similarity": "S_i distances", "seed": s, "reference_seed": 1,
              "r": 0.5, "p_value": 0.001} for s in (2, 3)]
    figure6 = pd.DataFrame(rows)
    ours, verdict = claims.figure6_check(figure6, ALPHA)
    assert verdict == PARTLY                       # user_ctr: 2 of 3 seeds
    assert "user_ctr: Mantel r +0.20 to +0.40, p < 0.05 on 2 of 3 seeds" in ours
    assert "against seed 1" in ours
    figure6.loc[figure6["similarity"] == "user_ctr", "p_value"] = 0.001
    assert claims.figure6_check(figure6, ALPHA)[1] == REPRODUCES
    figure6.loc[figure6["similarity"] == "user_ctr", "r"] = -0.3      # significant, wrong sign
    assert claims.figure6_check(figure6, ALPHA)[1] == DOES_NOT


def table2_rows(deltas: dict) -> pd.DataFrame:
    """A Table 2 with one + APG row per backbone: (delta, p) each; CI and seeds made up."""
    return pd.DataFrame([{"model": m, "variant": "apg", "delta": d, "p_value": p,
                          "ci_low": d - 0.1, "ci_high": d + 0.1, "n_seeds": 5}
                         for m, (d, p) in deltas.items()])


def verdicts_of(table: pd.DataFrame) -> dict:
    return dict(zip(table["claim"], table["verdict"]))


def test_ledger_on_hand_built_tables():
    """A reproduced gain, a weaker one, a contradicted one, a gain that fails a robustness
    check, an untestable claim and a claim with no evidence yet."""
    table2 = table2_rows({"wdl": (0.20, 0.001), "pnn": (0.05, 0.30), "fibinet": (-0.10, 0.20),
                          "difm": (0.30, 0.001), "deepfm": (0.12, 0.01), "dcn": (0.0, 0.99),
                          "autoint": (0.15, 0.02)})
    robustness = pd.DataFrame([
        {"variation": "init_default", "model": "wdl", "delta": 0.18, "p_value": 0.01},
        {"variation": "init_default", "model": "difm", "delta": 0.01, "p_value": 0.9}])
    got = verdicts_of(ledger({"table2": table2, "robustness": robustness}, ALPHA))
    assert got["APG improves wdl (MovieLens)"] == REPRODUCES        # and robust
    assert got["APG improves pnn (MovieLens)"] == PARTLY            # weaker
    assert got["APG improves fibinet (MovieLens)"] == DOES_NOT      # contradicted
    assert got["APG improves difm (MovieLens)"] == PARTLY           # not under init=default
    assert got["APG significantly improves every backbone (Table 2, MovieLens)"] == PARTLY
    assert got["+0.2 AUC on the industrial data set"] == UNTESTABLE
    assert got["v4 reduces time against Base (largest scale)"] == NOT_RUN   # no Table 5 here
    assert got["APG improves every backbone and v5 beats every other version on Amazon"] == \
        NOT_RUN


def test_the_table2_claim_counts_only_gains_that_survive_robustness():
    """One backbone gains significantly in Table 2 but not under another initialisation: the
    claim for every backbone then holds for none."""
    table2 = table2_rows({"wdl": (0.20, 0.001), "pnn": (-0.05, 0.30)})
    robustness = pd.DataFrame([
        {"variation": "init_default", "model": "wdl", "delta": 0.02, "p_value": 0.6}])
    table = ledger({"table2": table2, "robustness": robustness}, ALPHA).set_index("claim")
    row = table.loc["APG significantly improves every backbone (Table 2, MovieLens)"]
    assert row["verdict"] == DOES_NOT
    assert row["ours"].startswith("1 of 2 backbones gain ≥ 0.1 significantly (0 in every "
                                  "robustness setting run)")
    without = ledger({"table2": table2}, ALPHA).set_index("claim")
    assert without.loc[row.name, "verdict"] == PARTLY               # 1 of 2, nothing to fail


def test_ledger_reads_table5_and_table4_claims():
    scales = ["[64,32,16]", "[1024,512,256]"]
    table5 = pd.DataFrame([
        {"device": "cpu", "hidden_units": s, "version": v, "time_s": t, "memory_mb": m,
         "time_delta_pct": d_t, "memory_delta_pct": d_m}
        for s, rows in zip(scales, [
            [("base", 1.0, 1.0, 0, 0), ("v1", 30.0, 30.0, 2900, 2900), ("v2", 40.0, 2.0, 3900, 100),
             ("v3", 5.0, 2.0, 400, 100), ("v4", 1.2, 0.2, 20, -80), ("v5", 1.2, 0.2, 20, -80)],
            [("base", 10.0, 10.0, 0, 0), ("v1", 1500.0, 330.0, 14900, 3200),
             ("v2", 1600.0, 5.0, 15900, -50), ("v3", 8.0, 5.0, -20, -50), ("v4", 2.0, 0.2, -80, -98),
             ("v5", 2.1, 0.2, -79, -98)]])
        for v, t, m, d_t, d_m in rows])
    targets = pd.DataFrame([{"target": "v5 merged time within 10% of v4", "measured": 1.05,
                             "met": True}])
    table4_claims = pd.DataFrame([
        {"claim": c, "kind": k, "a": a, "b": b, "run": True, "delta": d, "ci_low": d - 0.1,
         "ci_high": d + 0.1, "p_value": p}
        for (a, b, c, k), (d, p) in zip(paper.TABLE4_CLAIMS, [(0.2, 0.01), (0.3, 0.01),
                                                              (0.2, 0.3), (-0.1, 0.4),
                                                              (0.12, 0.02)])])
    table4_claims.loc[2, "run"] = False
    got = verdicts_of(ledger({"table5": table5, "table5_targets": targets,
                              "table4_claims": table4_claims}, ALPHA))
    assert got["v4 reduces time against Base (largest scale)"] == REPRODUCES     # -80 <= -38.7
    assert got["v3 reduces time against Base at the largest scale"] == REPRODUCES  # -20 <= -13.9
    assert got["v4 is faster than Base at every scale"] == PARTLY                # 1 of 2
    assert got["low-rank generation (v2) is faster than v1 at every scale"] == DOES_NOT
    assert got["the basic model (v1) needs an extra 111× time (Table 5)"] == REPRODUCES  # 149×
    assert got["the basic model (v1) needs an extra 31× memory (Table 5)"] == REPRODUCES  # 32×
    assert got["over-parameterisation adds no inference latency or memory (v5, merged, "
               "costs what v4 costs)"] == REPRODUCES
    assert got["the basic model (v1) beats Base (MovieLens)"] == REPRODUCES
    assert got["low rank (v2) performs about as well as v1 (MovieLens)"] == DOES_NOT  # 0.3 apart
    assert got["parameter sharing (v4) beats v2 (MovieLens)"] == NOT_RUN
    assert got["over-parameterisation (v5) beats v4 (MovieLens)"] == DOES_NOT


def test_every_claim_gets_a_verdict_from_the_vocabulary_with_no_tables_at_all():
    table = ledger({}, ALPHA)
    assert table["verdict"].isin(VERDICTS).all()
    assert set(table["verdict"]) == {NOT_RUN, UNTESTABLE}
    assert len(table) == len(claims.claims(ALPHA))


def test_the_paper_disagrees_with_its_own_numbers_where_we_found_it_does():
    found = paper_inconsistencies().set_index("where")
    assert found.loc["Table 2, movielens, wdl: Δ", ["printed", "recomputed"]].tolist() == \
        [0.39, 0.52]
    assert found.loc["Table 2, amazon, wdl: Δ", ["printed", "recomputed"]].tolist() == \
        [0.22, 0.28]
    assert found.loc["Sec. 4.4 text: v1 memory up to", "printed"] == 3146.6
    assert "v2" in found.loc["Sec. 4.4 text: 'v1 can reduce memory usage (e.g., -75.1%)'",
                             "note"]
    v2 = found.loc["Table 5, time, v2 at [128, 64, 32]: Δ %"]
    assert (v2["printed"], v2["recomputed"]) == (682.8, 650.1)
    assert "implies a Base of 5.05" in v2["note"]
    # consistent cells are not listed: DCN's Δ, Table 4's averages, v4's largest-scale Δ
    assert "Table 2, movielens, dcn: Δ" not in found.index
    assert not any(w.startswith("Table 4") for w in found.index)
    assert "Table 5, time, v4 at [1024, 512, 256]: Δ %" not in found.index
