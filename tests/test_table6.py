"""Table 6's report logic (apg.table6) on hand-built runs, and what a trained group-wise APG
generates per group (apg.generated, Figure 6)."""

import numpy as np
import pandas as pd
import pytest
import torch

from apg import table6
from apg.config import APGConfig, ConditionConfig, ModelConfig
from apg.generated import generated_s
from apg.models import build_model

ALPHA = 0.05


def hand_runs(aucs: dict) -> pd.DataFrame:
    """Runs: (method, setting) -> test AUC (share) per seed 1..n."""
    return pd.DataFrame([{"method": m, "setting": s, "seed": seed, "test_auc": auc,
                          "best_epoch": 3, "stopped_epoch": 5, "hit_cap": False,
                          "n_params": 10, "train_wall_seconds": 60.0}
                         for (m, s), values in aucs.items()
                         for seed, auc in enumerate(values, 1)])


RUNS = hand_runs({("base", ""): [0.800, 0.802, 0.801],
                  ("mmoe", "cg"): [0.801, 0.803, 0.801], ("apg", "cg"): [0.804, 0.805, 0.803],
                  ("mmoe", "fg"): [0.799, 0.800, 0.800], ("apg", "fg"): [0.806, 0.807, 0.806]})
MEMORY = pd.DataFrame([{"run": r, "hidden_stored": s, "hidden_generated": g,
                        "memory_mb": 4 * (s + g) / 1e6, "n_params": s + 100}
                       for r, s, g in [("base", 1000, 0), ("mmoe-cg", 20000, 0),
                                       ("apg-cg", 500, 32), ("mmoe-fg", 400000, 0),
                                       ("apg-fg", 500, 32)]])


def test_table6_rows_pair_each_run_with_base_seed_by_seed():
    table = table6.table6(RUNS, MEMORY, "movielens-1m", ["mmoe", "apg"], ["cg", "fg"], ALPHA)
    assert list(zip(table["method"], table["setting"])) == [
        ("base", "-"), ("mmoe", "cg"), ("apg", "cg"), ("mmoe", "fg"), ("apg", "fg")]
    apg_cg = table.set_index(["method", "setting"]).loc[("apg", "cg")]
    assert apg_cg["auc_mean"] == pytest.approx(80.4)
    assert apg_cg["delta_vs_base"] == pytest.approx(0.3)      # (0.4 + 0.3 + 0.2) / 3 points
    assert apg_cg["paper_auc"] == 79.46 and apg_cg["paper_memory"] == 0.24
    assert apg_cg["hidden_values"] == 532 and apg_cg["memory_mb"] == pytest.approx(0.002128)


def test_comparisons_put_apg_against_each_baseline_and_fg_against_cg():
    table = table6.table6(RUNS, MEMORY, "movielens-1m", ["mmoe", "apg"], ["cg", "fg"], ALPHA)
    pairs = table6.comparisons(RUNS, table, ["mmoe", "apg"], ["cg", "fg"], ALPHA).set_index(
        "comparison")
    assert list(pairs.index) == ["apg-cg vs mmoe-cg", "apg-fg vs mmoe-fg", "apg-fg vs apg-cg"]
    assert pairs.loc["apg-fg vs mmoe-fg", "delta"] == pytest.approx((0.7 + 0.7 + 0.6) / 3)
    assert pairs.loc["apg-cg vs mmoe-cg", "memory_share"] == pytest.approx(532 / 20000)
    assert pairs.loc["apg-cg vs mmoe-cg", "paper_delta"] == pytest.approx(79.46 - 79.28)
    assert pairs.loc["apg-fg vs apg-cg", "n_seeds"] == 3


def test_memory_counts_v5_as_deployed_and_every_parameter(processed_fixture, schema):
    """APG v5 is counted merged (U, V precomputed, Sec. 3.2), as a v4 tower; n_params counts
    every trainable value of the model as trained."""
    section = {"embedding_dim": 8, "hidden_units": [16, 8], "dropout": 0.0}
    apg = {"rank": 4, "overparam": 32, "hypernet_hidden": [], "generated_bias": False,
           "init": "kit"}
    condition = {"strategy": "group", "fields": ["genres"]}
    specs = {"v5": {"model": "wdl", "variant": "v5", "model_section": section,
                    "apg_section": apg, "condition_section": condition},
             "v4": {"model": "wdl", "variant": "v4", "model_section": section,
                    "apg_section": {**apg, "overparam": None}, "condition_section": condition}}
    memory = table6.memory(processed_fixture, specs).set_index("run")
    assert memory.loc["v5", "hidden_stored"] == memory.loc["v4", "hidden_stored"]
    assert memory.loc["v5", "hidden_generated"] == 2 * 4 * 4
    v5 = build_model("wdl", schema, ModelConfig.from_params("v5", section, apg, condition))
    assert memory.loc["v5", "n_params"] == sum(p.numel() for p in v5.parameters())


def test_generated_s_is_each_groups_generator_output(schema):
    """S_i of genre g in every layer = G(embedding of g), reshaped K x K (Eq. 5)."""
    torch.manual_seed(0)
    config = ModelConfig(variant="v5", embedding_dim=8, hidden_units=[16, 8],
                         apg=APGConfig(rank=2, overparam=8),
                         condition=ConditionConfig(strategy="group", fields=["genres"]))
    model = build_model("wdl", schema, config)
    codes = [1, 3, 4]
    s = generated_s(model, schema, "genres", codes)
    assert s.shape == (3, 2 * 2 * 2)
    fields = [f["name"] for f in schema["fields"]]
    offset = sum(f["vocab_size"] for f in schema["fields"][:fields.index("genres")])
    z = model.embedding.table.weight[[offset + c for c in codes]]
    expected = torch.cat([layer.generator(z) for layer in model.tower.layers], 1)
    assert np.allclose(s, expected.detach().numpy(), atol=1e-6)


def test_generated_s_refuses_a_model_not_conditioned_on_the_field(schema):
    config = ModelConfig(variant="v5", embedding_dim=8, hidden_units=[16, 8],
                         apg=APGConfig(rank=2, overparam=8),
                         condition=ConditionConfig(strategy="group", fields=["user_id"]))
    with pytest.raises(ValueError, match="not conditioned group-wise on 'genres'"):
        generated_s(build_model("wdl", schema, config), schema, "genres", [1])
    base = build_model("wdl", schema, ModelConfig(embedding_dim=8, hidden_units=[16, 8]))
    with pytest.raises(ValueError, match="not conditioned group-wise"):
        generated_s(base, schema, "genres", [1])
