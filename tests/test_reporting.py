"""Reports: the paper's numbers as data, Table 4's arithmetic, the verdicts, markdown."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from apg import paper, reporting


def test_paper_table4_deltas_are_recomputed_from_printed_aucs():
    assert paper.table4_delta("v5", "movielens-1m") == pytest.approx(0.52)
    assert paper.table4_delta("v1", "movielens-1m") == pytest.approx(0.30)
    assert paper.table4_delta("base", "movielens-1m") == 0.0
    # v3 computes v2's function, so it is compared with the paper's v2 row
    assert paper.table4_auc("v3", "movielens-1m") == paper.TABLE4["v2"]["movielens"]
    assert paper.table4_auc("v6", "movielens-1m") is None


def test_paper_table2_printed_wdl_delta_disagrees_with_its_aucs():
    """A known inconsistency the reports show: +0.39 printed, +0.52 from the AUCs."""
    computed = paper.TABLE2["movielens"]["apg"]["wdl"] - paper.TABLE2["movielens"]["base"]["wdl"]
    assert computed == pytest.approx(0.52)
    assert paper.TABLE2_DELTA_PRINTED["movielens"]["wdl"] == 0.39


TRAIN_ROWS = 800_000


def write_runs(folder, aucs, model="wdl", speed=None, device="cpu"):
    """aucs: {version: [test AUC per seed]}, speed: {version: training samples/s} -> metrics
    JSON as the training notebook writes: 4 epochs per seed, the seeds side by side taking as
    long as one of them alone."""
    folder.mkdir(parents=True, exist_ok=True)
    for version, values in aucs.items():
        seconds = 4 * TRAIN_ROWS / (speed or {}).get(version, 1.0)
        runs = [dict(seed=s, test_auc=a, valid_auc=a, test_logloss=0.5, best_epoch=2,
                     stopped_epoch=4, hit_cap=version == "v1",
                     n_params=100 if version == "base" else 120, train_samples=4 * TRAIN_ROWS,
                     train_seconds=seconds, device=device, history=[])
                for s, a in enumerate(values, start=1)]
        (folder / f"{model}-{version}.json").write_text(json.dumps(
            dict(dataset="movielens-1m", model=model, variant=version, runs=runs,
                 train_wall_seconds=seconds)))


@pytest.fixture
def runs(tmp_path):
    write_runs(tmp_path, {"base": [0.790, 0.792, 0.794], "v1": [0.791, 0.790, 0.7955],
                          "v2": [0.789, 0.790, 0.793], "v4": [0.795, 0.7971, 0.7988],
                          "v5": [0.7935, 0.7957, 0.7973]})
    return reporting.load_runs(tmp_path)


TABLE4_VERSIONS = ("base", "v1", "v2", "v4", "v5")


@pytest.fixture
def table(runs):
    return reporting.table4(runs, "movielens-1m", "wdl", TABLE4_VERSIONS, alpha=0.05)


def test_table4_means_deltas_and_paired_test(table):
    t = table.set_index("version")
    assert t.loc["base", "auc_mean"] == pytest.approx(79.2)
    assert t.loc["base", "auc_std"] == pytest.approx(0.2)
    assert t.loc["v4", "delta_vs_base"] == pytest.approx(0.4967, abs=1e-4)
    # nearly constant per-seed differences: the paired test finds them clear although the
    # spread across seeds is as large as the gain
    assert t.loc["v5", "delta_vs_base"] == pytest.approx(0.35)
    assert t.loc["v5", "p_value"] < 0.01 and t.loc["v5", "significant"]
    assert t.loc["v1", "p_value"] > 0.05 and not t.loc["v1", "significant"]
    assert t.loc["v5", "paper_auc"] == 79.73
    assert list(t["n_seeds"]) == [3] * 5
    # the 95 % interval of the paired differences 0.35, 0.37, 0.33: 0.35 ± t_{0.975,2} 0.02/√3
    half = 4.302652729911275 * 0.02 / 3 ** 0.5
    assert (t.loc["v5", "ci_low"], t.loc["v5", "ci_high"]) == (
        pytest.approx(0.35 - half, abs=1e-4), pytest.approx(0.35 + half, abs=1e-4))


def verdict_lines(runs, table):
    comparisons = reporting.table4_comparisons(
        table, reporting.seed_aucs(runs, "movielens-1m", "wdl"), 0.05)
    return reporting.table4_verdicts(comparisons, table, 0.05)


def test_table4_verdicts_state_what_holds(runs, table):
    lines = verdict_lines(runs, table)
    assert lines[0].startswith("HOLDS: the basic model (v1) beats Base — ours: v1 79.22 vs "
                               "base 79.20, paired difference +0.02")
    assert "below the paper's 0.1-point threshold, not significant" in lines[0]
    assert lines[1].startswith("DOES NOT HOLD: low rank (v2) performs about as well as v1")
    assert lines[2].endswith("at least the paper's 0.1-point threshold, significant at 0.05.")
    assert lines[3].startswith("DOES NOT HOLD: over-parameterisation (v5) beats v4")
    assert lines[-1].startswith("CAUTION: ['v1'] stopped at the epoch cap")


def test_v3_stands_in_for_v2_in_the_claims(tmp_path):
    write_runs(tmp_path, {"base": [0.790, 0.792, 0.794], "v1": [0.791, 0.790, 0.7955],
                          "v3": [0.789, 0.790, 0.793], "v4": [0.795, 0.7971, 0.7988],
                          "v5": [0.7935, 0.7957, 0.7973]})
    runs = reporting.load_runs(tmp_path)
    versions = ("base", "v1", "v3", "v4", "v5")
    table = reporting.table4(runs, "movielens-1m", "wdl", versions, alpha=0.05)
    assert table.set_index("version").loc["v3", "paper_auc"] == 79.49
    lines = verdict_lines(runs, table)
    assert lines[1].startswith("DOES NOT HOLD: low rank (v2) performs about as well as v1 "
                               "(v2 run as v3, the same function) — ours: v3 79.07 vs v1")
    assert "(v2 run as v3, the same function)" in lines[2]


def test_table4_claims_whose_versions_were_not_run_are_listed_not_crashed(tmp_path):
    """`-S table4.versions=[v4,v5]`: the claims about v1 and v2 are NOT RUN, the others hold
    or not as usual."""
    write_runs(tmp_path, {"base": [0.790, 0.792, 0.794], "v4": [0.795, 0.7971, 0.7988],
                          "v5": [0.7935, 0.7957, 0.7973]})
    runs = reporting.load_runs(tmp_path)
    table = reporting.table4(runs, "movielens-1m", "wdl", ("base", "v4", "v5"), alpha=0.05)
    comparisons = reporting.table4_comparisons(
        table, reporting.seed_aucs(runs, "movielens-1m", "wdl"), 0.05)
    assert list(comparisons["run"]) == [False, False, False, True, True]
    lines = reporting.table4_verdicts(comparisons, table, 0.05)
    assert lines[0] == ("NOT RUN: the basic model (v1) beats Base — no runs of v1 (add them to "
                        "table4.versions in params.yaml).")
    assert lines[2].startswith("NOT RUN: parameter sharing (v4) beats v2 — no runs of v2")
    assert lines[3].startswith("DOES NOT HOLD: over-parameterisation (v5) beats v4")
    assert lines[4].startswith("HOLDS: the full APG (v5) beats Base")


def test_table4_refuses_missing_versions(tmp_path):
    write_runs(tmp_path, {"base": [0.79], "v4": [0.8]})
    with pytest.raises(ValueError, match=r"no runs for \['wdl-v1', 'wdl-v2', 'wdl-v5'\]"):
        reporting.table4(reporting.load_runs(tmp_path), "movielens-1m", "wdl", TABLE4_VERSIONS,
                         alpha=0.05)


def test_load_runs_says_what_to_do_when_there_are_none(tmp_path):
    with pytest.raises(FileNotFoundError, match="dvc repro"):
        reporting.load_runs(tmp_path)


def test_load_runs_reads_folders_and_single_files(tmp_path):
    write_runs(tmp_path / "table4", {"v4": [0.80, 0.81]})
    write_runs(tmp_path / "table2", {"base": [0.79, 0.78], "v5": [0.7, 0.7]})
    runs = reporting.load_runs(tmp_path / "table4", tmp_path / "table2" / "wdl-base.json")
    assert sorted(zip(runs["variant"], runs["test_auc"])) == [
        ("base", 0.78), ("base", 0.79), ("v4", 0.80), ("v4", 0.81)]
    with pytest.raises(FileNotFoundError, match="missing.json"):
        reporting.load_runs(tmp_path / "table4", tmp_path / "missing.json")


def test_markdown_table():
    df = pd.DataFrame({"version": ["base", "v4"], "auc": [79.214, np.nan], "ok": [True, False]})
    assert reporting.to_markdown(df) == ("| version | auc | ok |\n|---|---|---|\n"
                                         "| base | 79.21 | True |\n| v4 |  | False |\n")


def test_table4_agreement_compares_gains_with_the_paper(table):
    lines = reporting.table4_agreement(table)
    assert [l.split(":")[0] for l in lines] == ["v1", "v2", "v4", "v5"]
    assert lines[0].startswith("v1: paper +0.30, ours +0.02") and "PARTLY" in lines[0]
    assert "DISAGREES" in lines[1]                                   # v2 below Base
    assert "AGREES: both gain at least 0.1 points" in lines[2]       # v4 +0.50


def test_paper_table2_lookups_map_kit_data_sets():
    assert paper.table2_auc("fibinet", "apg", "movielens-1m") == 79.82
    assert paper.table2_delta("wdl", "apg", "fixture") == pytest.approx(0.52)
    assert paper.table2_delta("dcn", "base", "movielens-1m") == 0.0
    assert paper.table2_delta_printed("wdl", "movielens-1m") == 0.39
    assert paper.table2_delta_printed("ave", "movielens-1m") == 0.24
    assert paper.table2_auc("wdl", "apg", "criteo") is None


@pytest.fixture
def table2_runs(tmp_path):
    """wdl clearly gains, pnn clearly loses, deepfm gains a little (its APG run lacks seed 3)."""
    write_runs(tmp_path, {"base": [0.790, 0.792, 0.794], "v5": [0.7950, 0.7971, 0.7988]},
               model="wdl")
    write_runs(tmp_path, {"base": [0.795, 0.797, 0.799], "v5": [0.7940, 0.7960, 0.7981]},
               model="pnn")
    write_runs(tmp_path, {"base": [0.790, 0.792, 0.800], "v5": [0.7905, 0.7923]},
               model="deepfm")
    return reporting.load_runs(tmp_path)


@pytest.fixture
def table2(table2_runs):
    return reporting.table2(table2_runs, "movielens-1m", ["wdl", "pnn", "deepfm"], "v5",
                            alpha=0.05)


def test_table2_deltas_are_paired_by_seed_with_scipy_p_values(table2):
    t = table2.set_index(["model", "variant"])
    assert list(table2["variant"]) == ["base", "apg"] * 3
    assert set(table2["apg_version"]) == {"v5"}
    assert t.loc[("wdl", "apg"), "delta"] == pytest.approx(0.4967, abs=1e-4)
    assert t.loc[("wdl", "apg"), "p_value"] == pytest.approx(
        stats.ttest_rel([79.50, 79.71, 79.88], [79.0, 79.2, 79.4]).pvalue)
    assert t.loc[("wdl", "apg"), "significant"] and t.loc[("wdl", "apg"), "beyond_0.1"]
    assert t.loc[("pnn", "apg"), "delta"] == pytest.approx(-0.0967, abs=1e-4)
    # a clear loss is not a significant gain
    assert t.loc[("pnn", "apg"), "p_value"] < 0.05 and not t.loc[("pnn", "apg"), "significant"]
    # deepfm: only seeds 1 and 2 pair up; the means over all seeds would differ by -0.26
    assert t.loc[("deepfm", "apg"), "delta"] == pytest.approx(0.04)
    assert t.loc[("deepfm", "apg"), "n_seeds"] == 2
    assert t.loc[("deepfm", "apg"), "p_value"] == pytest.approx(
        stats.ttest_rel([79.05, 79.23], [79.0, 79.2]).pvalue)
    assert t.loc[("wdl", "base"), "delta"] == 0.0 and np.isnan(t.loc[("wdl", "base"), "p_value"])


def test_table2_paper_values_come_from_paper_table2(table2):
    t = table2.set_index(["model", "variant"])
    assert t.loc[("wdl", "base"), "paper_auc"] == paper.TABLE2["movielens"]["base"]["wdl"]
    assert t.loc[("pnn", "apg"), "paper_auc"] == paper.TABLE2["movielens"]["apg"]["pnn"]
    assert t.loc[("wdl", "apg"), "paper_delta"] == pytest.approx(0.52)
    assert t.loc[("wdl", "apg"), "paper_delta_printed"] == 0.39
    assert t.loc[("wdl", "base"), "paper_delta"] == 0.0
    assert np.isnan(t.loc[("wdl", "base"), "paper_delta_printed"])


def test_table2_verdicts_count_what_reproduces(table2):
    lines = reporting.table2_verdicts(table2)
    assert lines[0] == ("REPRODUCES: wdl + APG (v5) — ours Δ +0.50 ± 0.02 over Base "
                        f"(p = {table2['p_value'][1]:.2g}); paper Δ +0.52, printed +0.39.")
    assert lines[1].startswith("DOES NOT REPRODUCE: pnn + APG (v5) — ours Δ -0.10")
    assert lines[1].endswith("paper Δ +0.17.")
    assert lines[2].startswith("PARTLY: deepfm + APG (v5) — ours Δ +0.04")
    assert "below the paper's 0.1-point threshold and not significant" in lines[2]
    assert lines[3] == ("SUMMARY: 1 of the paper's 3 improvements reproduce; 2 of 3 are "
                        "positive, 1 significant gains in the paired test. Average Δ: ours "
                        "+0.15, paper +0.33 (recomputed from its AUCs; its printed Ave over all "
                        "seven backbones is +0.24).")
    assert len(lines) == 4  # no run hit the epoch cap


def test_table2_verdicts_flag_a_cell_that_failed_to_train(tmp_path):
    """A run whose training collapsed (constant prediction, AUC 0.5) is called out as such."""
    write_runs(tmp_path, {"base": [0.790, 0.792, 0.794], "v5": [0.5, 0.5001, 0.4999]},
               model="pnn")
    table = reporting.table2(reporting.load_runs(tmp_path), "movielens-1m", ["pnn"], "v5",
                             alpha=0.05)
    lines = reporting.table2_verdicts(table)
    assert lines[0].startswith("DOES NOT REPRODUCE: pnn + APG (v5) — ours Δ -29.20")
    assert lines[-1].startswith("CAUTION: ['pnn-apg'] ended at chance level")


def test_table2_names_missing_runs(tmp_path):
    write_runs(tmp_path, {"base": [0.79], "v5": [0.8]}, model="wdl")
    write_runs(tmp_path, {"base": [0.79]}, model="pnn")
    with pytest.raises(ValueError, match=r"no runs for \['pnn-v5', 'fibinet-base', "
                                         r"'fibinet-v5'\] on movielens-1m; run their training"):
        reporting.table2(reporting.load_runs(tmp_path), "movielens-1m",
                         ["wdl", "pnn", "fibinet"], "v5", alpha=0.05)


def timed(rounds: dict, device="cpu", dataset="movielens-1m") -> dict:
    """The throughput stage's metrics: {name: training samples/s per round}."""
    return {"dataset": dataset, "device": device, "threads": 2,
            "models": {name: {"train_rounds": r, "train_samples_per_s": float(np.median(r)),
                              "infer_samples_per_s": 10.0 * r[0],
                              "n_params": 100 if name.endswith("base") else 120}
                       for name, r in rounds.items()}}


def test_speed_ratio_pairs_the_rounds():
    """Per-round ratios 0.9, 0.8, 0.5: their median, 0.8, not the ratio of the medians, 0.9."""
    rounds = timed({"table2/wdl-base": [100, 50, 200], "table2/wdl-v5": [90, 40, 100]})
    assert reporting.speed_ratio(rounds, "table2/wdl-v5", "table2/wdl-base") == 0.8


def test_throughput_summary_pairs_apg_models_with_their_backbones_base():
    stage = timed({"table2/wdl-base": [100, 50, 200], "table2/wdl-v5": [90, 40, 100],
                   "table2/pnn-v5": [30, 30, 30], "table4/wdl-v4": [50, 25, 150]})
    entries = [{"name": n, "model": n.split("/")[1].split("-")[0], "variant": n.split("-")[1]}
               for n in stage["models"]]
    summary = reporting.throughput_summary(stage, entries).set_index("timed")
    assert list(summary.index) == list(stage["models"])
    assert summary.loc["table2/wdl-v5", "train_over_base"] == 0.8
    assert summary.loc["table4/wdl-v4", "train_over_base"] == 0.5
    # no ratio for a Base, nor for an APG model whose Base was not timed
    assert summary["train_over_base"].isna().tolist() == [True, False, True, False]
    assert summary.loc["table2/wdl-base", ["train_samples_per_s", "infer_samples_per_s",
                                           "n_params"]].tolist() == [100.0, 1000.0, 100]


def speed_table(tmp_path, device="cpu", dataset="movielens-1m"):
    """wdl: Base 120 k/s, + APG 0.75x; pnn: 80 k/s both. The runs themselves trained at a
    third of that (three side by side)."""
    write_runs(tmp_path, {"base": [0.79, 0.80], "v5": [0.79, 0.80]}, model="wdl",
               speed={"base": 40_000, "v5": 30_000})
    write_runs(tmp_path, {"base": [0.79, 0.80], "v5": [0.79, 0.80]}, model="pnn")
    runs = reporting.load_runs(tmp_path)
    stage = timed({"table2/wdl-base": [120_000, 100_000, 140_000],
                   "table2/wdl-v5": [90_000, 75_000, 105_000],
                   "table2/pnn-base": [80_000] * 3, "table2/pnn-v5": [80_000] * 3},
                  device=device, dataset=dataset)
    return reporting.throughput_table(stage, runs, "movielens-1m", ["wdl", "pnn"], "v5")


def test_throughput_ratio_and_targets(tmp_path):
    throughput = speed_table(tmp_path).set_index("model")
    assert throughput.loc["wdl", "apg_over_base"] == pytest.approx(0.75)
    assert list(throughput.loc["wdl", ["train_base", "train_apg", "infer_base"]]) == [
        120_000, 90_000, 1_200_000]
    assert list(throughput.loc["wdl", ["train_base_in_runs", "train_apg_in_runs"]]) == [
        pytest.approx(40_000), pytest.approx(30_000)]
    assert throughput.loc["wdl", "train_target"] == 100_000
    assert throughput.loc["wdl", "base_met"] and not throughput.loc["wdl", "apg_met"]
    assert not throughput.loc["pnn", "base_met"] and throughput.loc["pnn", "apg_met"]
    assert list(throughput.loc["wdl", ["n_params_base", "n_params_apg"]]) == [100, 120]
    assert reporting.throughput_verdicts(throughput.reset_index()) == [
        "MISSED: wdl + APG trains at 0.75× Base, target 0.8×.",
        "MISSED: pnn Base trains 80,000 samples/s, target 90,000."]


def test_throughput_targets_apply_only_on_cpu(tmp_path):
    throughput = speed_table(tmp_path, device="cuda")
    assert throughput["base_met"].isna().all() and throughput["apg_met"].isna().all()
    [line] = reporting.throughput_verdicts(throughput)
    assert line.startswith("NOTE: the throughput targets are for movielens-1m on cpu")


def test_throughput_of_another_data_set_or_a_missing_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="throughput metrics are for 'fixture', the runs for "
                                         "'movielens-1m'"):
        speed_table(tmp_path / "a", dataset="fixture")
    write_runs(tmp_path / "b", {"base": [0.79], "v5": [0.79]})
    stage = timed({"table2/wdl-base": [1.0]})
    with pytest.raises(ValueError, match=r"no \['table2/wdl-v5'\]; re-run the throughput"):
        reporting.throughput_table(stage, reporting.load_runs(tmp_path / "b"), "movielens-1m",
                                   ["wdl"], "v5")


def test_training_time_at_the_targets(tmp_path):
    """4 epochs of 800,000 rows per seed: wdl Base at 120 k/s (target 100 k), + APG (v5) at 90 k/s
    (target 0.8 x 100 k); v1 has no target; on CUDA no target applies."""
    write_runs(tmp_path / "cpu", {"base": [0.79, 0.80], "v5": [0.79, 0.80], "v1": [0.79, 0.8]},
               speed={"base": 120_000, "v5": 90_000, "v1": 10_000})
    write_runs(tmp_path / "cuda", {"base": [0.79, 0.80]}, model="pnn", speed={"base": 1e6},
               device="cuda")
    t = reporting.training_time(reporting.load_runs(tmp_path), "v5").set_index(
        ["model", "variant"])
    minutes = lambda speed: 8 * TRAIN_ROWS / speed / 60  # noqa: E731 - 2 seeds x 4 epochs
    assert list(t.loc[("wdl", "base"), ["n_seeds", "epochs"]]) == [2, 8]
    # the two seeds trained side by side: the wall time of one, not the sum
    assert t.loc[("wdl", "base"), "train_minutes"] == pytest.approx(minutes(120e3) / 2)
    assert t.loc[("wdl", "base"), "minutes_at_target"] == pytest.approx(minutes(100e3))
    assert t.loc[("wdl", "v5"), "minutes_at_target"] == pytest.approx(minutes(80e3))
    assert t.loc[("wdl", "v1"), "train_minutes"] == pytest.approx(minutes(10e3) / 2)
    assert np.isnan(t.loc[("wdl", "v1"), "minutes_at_target"])
    assert np.isnan(t.loc[("pnn", "base"), "minutes_at_target"])
    cpu_runs = t.loc[["wdl"]]
    assert reporting.training_time_summary(cpu_runs) == (
        f"Total: {cpu_runs['train_minutes'].sum():.1f} min of training (wall, seeds side by "
        f"side) in 6 runs; the same epochs one after another at the targets' throughput: "
        f"{minutes(100e3) + minutes(80e3):.1f} min.")
    assert reporting.training_time_summary(t.loc[["pnn"]]).endswith(
        "not checked (the targets are for movielens-1m on cpu).")


def test_bars_clip_a_collapsed_value_and_label_it():
    plt = reporting.plot_style()
    fig, ax = plt.subplots()
    reporting.ours_vs_paper_bars(ax, ["wdl", "pnn"], [0.1, -31.7], [0.05, 0.0], [0.52, 0.17],
                                 clip_at=2.0)
    lo, hi = ax.get_ylim()
    assert -2.0 < lo < -0.4 and 0.52 < hi < 2.0
    assert [t.get_text() for t in ax.texts] == ["-31.7\n(off axis)"]
    plt.close(fig)


def test_throughput_bars_leave_headroom_for_the_legend_above_the_tallest_bar():
    plt = reporting.plot_style()
    fig, ax = plt.subplots()
    throughput = pd.DataFrame({"model": ["wdl", "pnn"], "train_base": [216e3, 117e3],
                               "train_apg": [180e3, 102e3], "train_target": [100e3, 90e3]})
    reporting.throughput_bars(ax, throughput)
    assert ax.get_ylim() == pytest.approx((0, 216 * 1.3))
    plt.close(fig)


def test_apg_v4_training_target_reads_the_throughput_stage():
    stage = timed({"table2/wdl-base": [100, 50, 200], "table4/wdl-v4": [90, 40, 100]})
    assert reporting.v4_training_verdict(stage, "wdl") == (
        "MET: APG-wdl (v4, Table 4's condition) trains at 0.80× wdl, target 0.8× (the median "
        "of the per-round ratios).")


def test_tuning_choices_say_where_each_choice_lies(tmp_path):
    pd.DataFrame({"table": "table2", "model": "wdl", "variant": ["base"] * 3 + ["v5"] * 3,
                  "learning_rate": [0.001, 0.002, 0.005] * 2,
                  "chosen": [False, True, False, True, False, False]}).to_csv(
        tmp_path / "learning_rate.csv", index=False)
    pd.DataFrame({"sweep": ["K", "K", "K", "P", "P", "second seed"], "rank": [2, 4, 8, 4, 4, 4],
                  "overparam": [64, 64, 64, 16, 32, 16],
                  "chosen": [False, False, False, True, False, False]}).to_csv(
        tmp_path / "rank.csv", index=False)
    pd.DataFrame({"strategy": ["group", "self"], "fields": ["user_id", None],
                  "aggregation": [None, None], "chosen": [False, True]}).to_csv(
        tmp_path / "condition.csv", index=False)
    choices = reporting.tuning_choices(tmp_path).set_index(["knob", "run"])
    assert choices.loc[("learning rate", "table2/wdl-base"), "position"] == "interior"
    assert choices.loc[("learning rate", "table2/wdl-v5"), "position"] == "lower edge"
    assert choices.loc[("learning rate", "table2/wdl-v5"), "grid"] == "0.001 0.002 0.005"
    assert choices.loc[("K", "table2 (WDL + APG)"), ["chosen", "position"]].tolist() == [
        4, "interior"]
    assert choices.loc[("P", "table2 (WDL + APG)"), ["chosen", "grid", "position"]].tolist() == [
        16, "16 32 64", "lower edge"]
    assert choices.loc[("condition", "table2 (WDL + APG)"), "chosen"] == "self"
