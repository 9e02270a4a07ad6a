"""Table 5 measurement (Sec. 4.4): counted memory and Table 1 costs against hand arithmetic, the
benchmark's towers at every default scale, and the table's columns on tiny shapes. No timing is
asserted here; speed targets are checked on real measurements in a notebook."""

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from apg import paper
from apg import efficiency as eff
from apg.config import EFFICIENCY_VERSIONS, EfficiencyConfig
from apg.efficiency import (build_tower, layer_formulations, memory_counts, memory_mb,
                            run_table5, speed_targets, table1_costs)
from apg.layers import APGLinear
from apg.tower import APGConfig, Tower

# Small shapes: input 6, hidden [4, 3], K = 2, D = 5, P = 3 (v5 unmerged only).
N0, H, K, D, P = 6, [4, 3], 2, 5, 3
SMALL = dict(input_dim=N0, rank=K, condition_dim=D, overparam=P)
LAYERS = [(6, 4), (4, 3)]  # (N, M) per layer


def _per_layer(f):
    return sum(f(n, m) for n, m in LAYERS)


# stored: every parameter value; generated: values the generators emit per instance
HAND_MEMORY = {
    "base": (_per_layer(lambda n, m: n * m + m), 0),                                  # 43
    "v1": (_per_layer(lambda n, m: D * m * n + m * n + m), _per_layer(lambda n, m: m * n)),
    "v2": (_per_layer(lambda n, m: (D + 1) * (m * K + K * K + K * n) + m),
           _per_layer(lambda n, m: m * K + K * K + K * n)),
    "v4": (_per_layer(lambda n, m: m + m * K + K * n + D * K * K + K * K), 2 * K * K),
    "v5-unmerged": (_per_layer(lambda n, m: m + m * P + P * K + K * P + P * n + D * K * K + K * K),
                    2 * K * K),
}
HAND_MEMORY["v3"] = HAND_MEMORY["v2"]
HAND_MEMORY["v5"] = HAND_MEMORY["v4"]


@pytest.fixture
def small_cfg():
    return EfficiencyConfig(**SMALL)


def tiny_cfg(**kw):
    kw = dict(scales=[[8, 4, 2], [16, 8, 4]], rows=10, batch_size=4, round_seconds=0.001,
              repeats=1, warmup_batches=0, threads=1, versions=list(EFFICIENCY_VERSIONS), **kw)
    return EfficiencyConfig(**kw)


# -- Tower.merge_for_inference -----------------------------------------------------------------
def test_merging_a_base_tower_returns_an_equal_copy():
    tower = Tower(N0, H, "base").eval()
    merged = tower.merge_for_inference()
    assert merged is not tower and merged.layers[0].weight is not tower.layers[0].weight
    x = torch.randn(4, N0)
    torch.testing.assert_close(merged(x), tower(x))


# -- counted memory and Table 1 --------------------------------------------------------------
@pytest.mark.parametrize("version", EFFICIENCY_VERSIONS)
def test_memory_counts_match_hand_counts(version, small_cfg):
    stored, generated = HAND_MEMORY[version]
    counts = memory_counts(build_tower(version, small_cfg, H))
    assert counts == dict(stored=stored, generated=generated)
    assert memory_mb(counts) == pytest.approx(4 * (stored + generated) / 1e6)


@pytest.mark.parametrize("version,macs,memory", [
    ("base", 6 * 4 + 4 * 3, 6 * 4 + 4 * 3),                                          # NM
    ("v1", (6 * 4 * 5 + 6 * 4) + (4 * 3 * 5 + 4 * 3), 6 * 4 * 5 + 4 * 3 * 5),        # NMD+NM
    # (NK+MK+KK)D + NKK + NMK + NM; layer 1: 24 D + 24 + 48 + 24, layer 2: 18 D + 16 + 24 + 12
    ("v2", (24 * 5 + 24 + 48 + 24) + (18 * 5 + 16 + 24 + 12), 24 * 5 + 18 * 5),
    ("v3", 24 * 6 + 18 * 6, 24 * 5 + 18 * 5),                                         # (.)(D+1)
    # KKD + NK + MK + KK; memory KKD + NK + MK
    ("v4", (20 + 12 + 8 + 4) + (20 + 8 + 6 + 4), (20 + 12 + 8) + (20 + 8 + 6)),
    ("v5", 82, 74),
    ("v5-unmerged", 82, 74),
])
def test_table1_costs_match_hand_arithmetic(version, macs, memory):
    assert table1_costs(version, N0, H, K, D) == dict(macs=macs, memory=memory)


def test_table1_costs_refuse_an_unknown_version():
    with pytest.raises(ValueError, match="unknown version"):
        table1_costs("v6", N0, H, K, D)


def test_build_tower_labels(small_cfg):
    merged, unmerged = build_tower("v5", small_cfg, H), build_tower("v5-unmerged", small_cfg, H)
    assert {layer.version for layer in merged.layers} == {"v4"}
    assert {layer.version for layer in unmerged.layers} == {"v5"}
    assert not merged.training and not unmerged.training
    base = build_tower("base", small_cfg, H)
    assert all(isinstance(layer, torch.nn.Linear) for layer in base.layers)
    # the same seed builds the same weights, so merged and unmerged compute the same function
    x, z = torch.randn(3, N0), torch.randn(3, D)
    with torch.no_grad():
        torch.testing.assert_close(merged(x, z), unmerged(x, z), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown version"):
        build_tower("v6", small_cfg, H)


@pytest.mark.parametrize("hidden_units", EfficiencyConfig().scales, ids=str)
def test_every_version_runs_at_every_default_scale(hidden_units):
    cfg = EfficiencyConfig(batch_size=2)
    x, z = eff.synthetic_batch(cfg, torch.device("cpu"))
    for version in EFFICIENCY_VERSIONS:
        with torch.inference_mode():
            y = build_tower(version, cfg, hidden_units)(x, z)
        assert y.shape == (2, hidden_units[-1]), version
        assert torch.isfinite(y).all(), version


# -- the table ---------------------------------------------------------------------------------
BRIEF_COLUMNS = ["device", "version", "hidden_units", "time_s", "batch_ms", "memory_mb",
                 "stored_params", "generated_per_instance", "peak_mb", "table1_macs",
                 "table1_memory", "time_delta_pct", "memory_delta_pct", "paper_time_s",
                 "paper_memory", "paper_time_delta_pct", "paper_memory_delta_pct",
                 "table1_macs_ratio", "table1_memory_ratio"]


def test_run_table5_on_tiny_shapes():
    cfg = tiny_cfg()
    threads = torch.get_num_threads()
    messages = []
    table = run_table5(cfg, progress=messages.append)
    assert torch.get_num_threads() == threads                     # restored
    assert len(messages) == 2
    assert set(BRIEF_COLUMNS) <= set(table.columns)
    assert len(table) == 2 * len(EFFICIENCY_VERSIONS)
    assert list(table["hidden_units"].unique()) == ["[8,4,2]", "[16,8,4]"]
    assert (table["device"] == "cpu (1 thread)").all()
    assert table["peak_mb"].isna().all()                          # CPU: no allocator peak
    assert (table["time_s"] > 0).all()
    # one epoch = batch time x ceil(10 / 4) batches
    assert table["time_s"].tolist() == pytest.approx((table["batch_ms"] * 3 / 1e3).tolist())

    base_rows = table["version"] == "base"
    assert table.loc[base_rows, ["time_delta_pct", "memory_delta_pct"]].isna().all().all()
    assert (table.loc[base_rows, ["table1_macs_ratio", "table1_memory_ratio"]] == 1.0).all().all()
    for _, rows in table.groupby("hidden_units"):
        base = rows[rows["version"] == "base"].iloc[0]
        apg = rows[rows["version"] != "base"]
        assert apg["time_delta_pct"].tolist() == pytest.approx(
            (100 * (apg["time_s"] / base["time_s"] - 1)).tolist())
        assert apg["memory_delta_pct"].tolist() == pytest.approx(
            (100 * (apg["memory_mb"] / base["memory_mb"] - 1)).tolist())
        assert apg["table1_macs_ratio"].tolist() == pytest.approx(
            (apg["table1_macs"] / base["table1_macs"]).tolist())

    row = table[(table["version"] == "v4") & (table["hidden_units"] == "[16,8,4]")].iloc[0]
    counts = memory_counts(build_tower("v4", cfg, [16, 8, 4]))
    assert (row["stored_params"], row["generated_per_instance"]) == (counts["stored"],
                                                                      counts["generated"])
    assert row["table1_macs"] == table1_costs("v4", cfg.input_dim, [16, 8, 4], 4, 32)["macs"]
    assert table["paper_time_s"].isna().all()                     # not a scale of the paper


def test_run_table5_carries_the_paper_numbers_at_a_paper_scale():
    cfg = EfficiencyConfig(scales=[[64, 32, 16]], versions=["base", "v3", "v4", "v5"], rows=8,
                           batch_size=4, round_seconds=0.001, repeats=1, warmup_batches=0,
                           threads=1)
    table = run_table5(cfg).set_index("version")
    assert table.loc["base", "paper_time_s"] == 4.52
    assert table.loc["base", "paper_memory"] == 0.50
    assert math.isnan(table.loc["base", "paper_time_delta_pct"])
    assert table.loc["v4", "paper_time_s"] == 4.49
    assert table.loc["v4", "paper_memory"] == 0.27
    assert table.loc["v4", "paper_memory_delta_pct_printed"] == -45.0
    assert table.loc["v4", "paper_memory_delta_pct"] == -46.0    # 100 (0.27 / 0.50 - 1)
    assert table.loc["v3", "paper_time_delta_pct"] == 39.6
    assert math.isnan(table.loc["v3", "paper_memory"])            # not printed in the paper
    assert table.loc[["v5"], ["paper_time_s", "paper_memory"]].isna().all().all()


def test_run_table5_needs_base():
    with pytest.raises(ValueError, match="lacks 'base'"):
        run_table5(EfficiencyConfig(versions=["v4"], scales=[[4]]))


def test_paper_table5_lookup():
    assert paper.table5("v2", (128, 64, 32), "time") == dict(
        cost=39.53, delta_pct=650.1, delta_pct_printed=682.8)       # printed Δ differs
    assert paper.table5("v4", [1024, 512, 256], "memory") == dict(
        cost=0.44, delta_pct=-96.6, delta_pct_printed=-96.6)
    assert paper.table5("base", (64, 32, 16), "time") == dict(
        cost=4.52, delta_pct=None, delta_pct_printed=None)
    assert paper.table5("v3", (64, 32, 16), "memory") is None
    assert paper.table5("v5", (64, 32, 16), "time") is None
    assert paper.table5("v4", (8, 4, 2), "time") is None
    assert paper.table5("v4", (64, 32, 16), "auc") is None


# -- one layer ---------------------------------------------------------------------------------
def test_layer_formulations_on_tiny_shapes():
    table = layer_formulations(n_in=12, n_out=6, batch=5, condition_dim=3, rounds=2, threads=1)
    assert table["formulation"].tolist() == ["nn.Linear", "APGLinear v4 (kit)",
                                             "matmul-bmm-matmul", "einsum chain",
                                             "broadcast multiply-sum", "step: S_i = G(z_i)",
                                             "step: V x", "step: S_i (V x)", "step: U (...) + b",
                                             "floor: read x once", "floor: write y once"]
    assert table.set_index("formulation").loc["nn.Linear", "ratio"] == 1.0
    assert (table["median_ms"] > 0).all()
    assert table["ratio"].tolist() == pytest.approx(
        (table["median_ms"] / table["median_ms"].iloc[0]).tolist())


def test_layer_formulations_refuse_a_formulation_that_computes_something_else(monkeypatch):
    monkeypatch.setattr(eff, "_v4_formulations",
                        lambda layer: {"off by one": lambda x, z: layer(x, z) + 1})
    with pytest.raises(AssertionError, match="off by one"):
        layer_formulations(n_in=12, n_out=6, batch=5, condition_dim=3, rounds=1, threads=1)


def test_v4_formulations_equal_the_kit_layer():
    torch.manual_seed(0)
    layer = APGLinear(12, 6, 3, version="v4", rank=K)
    x, z = torch.randn(5, 12), torch.randn(5, 3)
    for name, call in eff._v4_formulations(layer).items():
        torch.testing.assert_close(call(x, z), layer(x, z), atol=1e-5, rtol=1e-5, msg=name)


# -- targets and figure ------------------------------------------------------------------------
def _hand_table5():
    time = {"base": 10.0, "v1": 300.0, "v2": 200.0, "v3": 8.0, "v4": 1.5, "v5": 1.6,
            "v5-unmerged": 2.0}
    memory = {"base": 10.0, "v1": 300.0, "v2": 3.0, "v3": 3.0, "v4": 1.2, "v5": 1.2,
              "v5-unmerged": 5.0}
    rows = [dict(device="cpu (2 threads)", hidden_units="[1024,512,256]", version=v,
                 time_s=time[v], memory_mb=memory[v]) for v in time]
    # a smaller scale listed after it, where every target would fail
    rows += [dict(device="cpu (2 threads)", hidden_units="[64,32,16]", version=v, time_s=1.0,
                  memory_mb=1.0) for v in time]
    return pd.DataFrame(rows)


def _layers(ratio):
    return pd.DataFrame([dict(formulation="nn.Linear", n_in=1024, n_out=512, batch=1024,
                              median_ms=10.0, ratio=1.0),
                         dict(formulation="APGLinear v4 (kit)", n_in=1024, n_out=512,
                              batch=1024, median_ms=10.0 * ratio, ratio=ratio)])


def test_speed_targets_on_hand_built_measurements():
    targets = speed_targets(_hand_table5(), _layers(0.05))
    assert list(targets.columns) == ["target", "measured", "threshold", "met", "note"]
    got = targets.set_index("target")
    assert got.loc["v4 time <= 0.2 x Base", "measured"] == pytest.approx(0.15)
    assert got.loc["v4 hidden-layer memory <= 0.1 x Base", "measured"] == pytest.approx(0.12)
    assert got.loc["v5 merged time within 10% of v4", "measured"] == pytest.approx(1.6 / 1.5)
    assert got.loc["v5 merged faster than v5 unmerged", "measured"] == pytest.approx(0.8)
    assert got["met"].to_dict() == {
        "v4 time <= 0.2 x Base": True,
        "v4 hidden-layer memory <= 0.1 x Base": False,           # 0.12 > 0.1
        "v5 merged time within 10% of v4": True,                  # 1.067 <= 1.1
        "v5 merged faster than v5 unmerged": True,
        "v3 faster than v2": True,
        "v2 faster than v1": True,
        "APGLinear v4 <= 0.06 x nn.Linear": True,
    }
    assert "[1024,512,256]" in got.loc["v4 time <= 0.2 x Base", "note"]


def test_speed_targets_without_a_version():
    table = _hand_table5()
    table = table[table["version"] != "v5-unmerged"]
    got = speed_targets(table, _layers(0.07)).set_index("target")
    row = got.loc["v5 merged faster than v5 unmerged"]
    assert row["met"] is None and "v5-unmerged" in row["note"]
    assert got.loc["APGLinear v4 <= 0.06 x nn.Linear", "met"] is False


def test_plot_table5_draws_both_panels():
    table = _hand_table5()
    fig = eff.plot_table5(table)
    try:
        assert len(fig.axes) == 2
        for ax in fig.axes:
            assert len(ax.lines) == table["version"].nunique()
            assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
            assert [t.get_text() for t in ax.get_xticklabels()] == ["[1024,512,256]",
                                                                    "[64,32,16]"]
    finally:
        plt.close(fig)


# -- configuration ---------------------------------------------------------------------------
def test_default_config_is_the_papers_setting():
    cfg = EfficiencyConfig()
    assert (cfg.input_dim, cfg.rank, cfg.rows) == (393, 4, 478138)
    assert [tuple(s) for s in cfg.scales] == list(paper.TABLE5_SCALES)
    assert cfg.versions == ["base", "v1", "v2", "v3", "v4", "v5", "v5-unmerged"]


@pytest.mark.parametrize("kwargs,message", [
    (dict(versions=["base", "v6"]), "unknown version"),
    (dict(versions=[]), "versions is empty"),
    (dict(versions=["base", "base"]), "twice"),
    (dict(scales=[]), "scales is empty"),
    (dict(scales=[[64, 0, 16]]), "positive hidden widths"),
    (dict(scales=[[]]), "positive hidden widths"),
    (dict(repeats=0), "repeats must be >= 1"),
    (dict(warmup_batches=-1), "warmup_batches"),
    (dict(batch_size=0), "batch_size must be positive"),
    (dict(threads=0), "threads must be positive"),
    (dict(device="tpu"), "device 'tpu' is not one of"),
])
def test_config_refuses_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EfficiencyConfig(**kwargs)


def _verdict_table(v4_time_delta, paper_time_delta):
    """A hand-built two-scale table: Base 10 s / 5 s, v1 slower than v2 at one scale only."""
    rows = []
    for scale, base_t, v1_t, v2_t, paper_v1, paper_v2 in (
            ("[64,32,16]", 5.0, 20.0, 30.0, 16.52, 13.83),
            ("[1024,512,256]", 10.0, 400.0, 300.0, 1462.78, 1065.35)):
        for version, t in (("base", base_t), ("v1", v1_t), ("v2", v2_t),
                           ("v4", base_t * (1 + v4_time_delta / 100))):
            rows.append(dict(device="cpu (2 threads)", hidden_units=scale, version=version,
                             time_s=t, time_delta_pct=100 * (t / base_t - 1),
                             memory_delta_pct=-90.0,
                             paper_time_delta_pct_printed=paper_time_delta,
                             paper_memory_delta_pct_printed=-96.6,
                             paper_time_s={"v1": paper_v1, "v2": paper_v2}.get(version, 4.0),
                             table1_macs_ratio=0.5))
    return pd.DataFrame(rows)


def test_verdicts_compare_the_headline_and_count_orderings():
    lines = eff.table5_verdicts(_verdict_table(v4_time_delta=-50.0, paper_time_delta=-38.7))
    assert lines[0] == ("v4 time against Base at [1024,512,256]: -50.0 % here (cpu (2 threads)), "
                        "-38.7 % in the paper: holds.")
    assert lines[1].endswith("in the paper: holds in direction, but the reduction is smaller "
                             "than the paper's.")
    assert "v2 faster than v1: at 1 of 2 scales (the paper: 2 of 2)." in lines
    assert "v4 at [1024,512,256]: Table 1 predicts 0.5 x Base's multiply-adds; it took 0.5 x " \
           "Base's time." in lines
    slower = eff.table5_verdicts(_verdict_table(v4_time_delta=10.0, paper_time_delta=-38.7))
    assert slower[0].endswith("does not hold.")
    unknown = eff.table5_verdicts(_verdict_table(v4_time_delta=-50.0, paper_time_delta=math.nan))
    assert unknown[0].endswith("the paper has no number at this scale.")
