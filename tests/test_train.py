"""Training: the loss falls, seeds make runs repeatable, early stopping ends runs, NaN stops,
runs side by side give the numbers of runs in turn."""

import pytest
import torch

from apg.models import ModelConfig, build_model
from apg.tower import APGConfig
from apg.runtime import resolve_device
from apg.train import (TrainConfig, TrainingError, evaluate, fit, fit_seeds,
                       seed_everything)


def small_wdl(schema, variant="v4", dropout=0.0):
    return build_model("wdl", schema, ModelConfig(variant=variant, embedding_dim=8,
                                                  hidden_units=[16, 8], dropout=dropout,
                                                  apg=APGConfig(overparam=8)))


def train(schema, splits, variant="v4", seed=1, **overrides):
    seed_everything(seed)
    config = TrainConfig(**{"batch_size": 512, "max_epochs": 30, **overrides})
    return fit(small_wdl(schema, variant), splits, config, seed, log=lambda line: None)


@pytest.mark.parametrize("variant", ["base", "v1", "v2", "v3", "v4", "v5"])
def test_training_lowers_the_loss_and_beats_chance(schema, splits, variant):
    run = train(schema, splits, variant, max_epochs=3)
    losses = [epoch["train_loss"] for epoch in run["history"]]
    assert losses[-1] < losses[0]
    assert run["test_auc"] > 0.6


def test_same_seed_gives_identical_metrics_on_cpu(schema, splits):
    a = train(schema, splits, seed=3, max_epochs=3)
    b = train(schema, splits, seed=3, max_epochs=3)
    keys = ["valid_auc", "test_auc", "test_logloss", "best_epoch", "stopped_epoch"]
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert [e["train_loss"] for e in a["history"]] == [e["train_loss"] for e in b["history"]]


def test_early_stopping_ends_the_run_and_restores_the_best_epoch(schema, splits):
    run = train(schema, splits, "base", learning_rate=0.01, patience=1)
    assert not run["hit_cap"]
    assert run["stopped_epoch"] == run["best_epoch"] + 1
    best = max(run["history"], key=lambda e: e["valid_auc"])
    assert run["best_epoch"] == best["epoch"] and run["valid_auc"] == best["valid_auc"]


def test_the_model_ends_with_its_best_epochs_weights_not_its_last(schema, splits):
    """After early stopping the model is the best validation epoch's: scoring it again gives
    that epoch's validation AUC, not the last epoch's."""
    seed_everything(1)
    model = small_wdl(schema, "base")
    config = TrainConfig(batch_size=512, max_epochs=30, learning_rate=0.01, patience=1)
    run = fit(model, splits, config, 1, log=lambda line: None)
    last = run["history"][-1]["valid_auc"]
    assert run["stopped_epoch"] > run["best_epoch"] and last != run["valid_auc"]
    again = evaluate(model, *splits["valid"], batch_size=4096)["auc"]
    assert again == run["valid_auc"]


def test_without_a_test_split_nothing_is_scored_on_it(schema, splits):
    """Tuning passes only train and valid: the run must not need (or invent) test numbers."""
    full = train(schema, splits, "base", seed=2, max_epochs=3)
    tuning = train(schema, {k: splits[k] for k in ("train", "valid")}, "base", seed=2,
                   max_epochs=3)
    assert tuning["test_auc"] is None and tuning["test_logloss"] is None
    assert tuning["valid_auc"] == full["valid_auc"]


def test_a_run_stopped_by_the_epoch_cap_is_flagged(schema, splits):
    run = train(schema, splits, "base", max_epochs=1)
    assert run["hit_cap"] and run["stopped_epoch"] == 1


def test_nan_loss_stops_with_a_clear_message(schema, splits):
    model = build_model("wdl", schema, ModelConfig(embedding_dim=8, hidden_units=[8]))
    with torch.no_grad():
        model.wide.bias.fill_(float("nan"))
    with pytest.raises(TrainingError, match="loss became nan.*lower train.learning_rate"):
        fit(model, splits, TrainConfig(), seed=0, log=lambda line: None)


def test_device_choice():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")


def test_bad_training_settings_are_refused():
    with pytest.raises(ValueError, match="train.batch_size must be positive"):
        TrainConfig(batch_size=0)


def train_seeds(schema, splits, seeds, dropout=0.0, **overrides):
    lines = []
    config = TrainConfig(**{"batch_size": 512, "max_epochs": 4, **overrides})
    runs, seconds = fit_seeds(lambda: small_wdl(schema, "v5", dropout), seeds, splits, config,
                              log=lines.append)
    return runs, seconds, lines


def test_runs_side_by_side_give_the_numbers_of_runs_in_turn(schema, splits):
    """Each run keeps one fixed thread: sharing the CPU changes its timing, not its numbers."""
    threads = torch.get_num_threads()
    in_turn, _, _ = train_seeds(schema, splits, [1, 2, 3], threads=1, concurrent_runs=1)
    side, seconds, lines = train_seeds(schema, splits, [1, 2, 3], threads=3, concurrent_runs=3)
    assert torch.get_num_threads() == threads                        # restored
    assert [r["seed"] for r in side] == [1, 2, 3] and seconds > 0
    for a, b in zip(in_turn, side):
        assert a["test_auc"] == b["test_auc"] and a["best_epoch"] == b["best_epoch"]
        assert ([e["train_loss"] for e in a["history"]]
                == [e["train_loss"] for e in b["history"]])
    assert in_turn[0]["test_auc"] != in_turn[1]["test_auc"]          # the seeds differ
    # each run's log comes whole, in seed order, after its header
    headers = [i for i, line in enumerate(lines) if line.startswith("--- seed")]
    assert [lines[i] for i in headers] == ["--- seed 1", "--- seed 2", "--- seed 3"]
    first = [line for line in lines[headers[0] + 1:headers[1]] if line.startswith("epoch")]
    assert len(first) == side[0]["stopped_epoch"] and first[0].startswith("epoch   1")


def test_dropout_makes_runs_go_in_turn(schema, splits):
    """Dropout draws from torch's global generator: side by side, runs would share it."""
    runs, _, lines = train_seeds(schema, splits, [1, 2], dropout=0.2, threads=2,
                                 concurrent_runs=2, max_epochs=2)
    assert "training one run after another" in lines[0]
    again, _, _ = train_seeds(schema, splits, [1, 2], dropout=0.2, threads=2,
                              concurrent_runs=2, max_epochs=2)
    assert [r["test_auc"] for r in runs] == [r["test_auc"] for r in again]


def test_a_nan_loss_in_a_run_side_by_side_reaches_the_caller(schema, splits):
    def build():
        model = small_wdl(schema, "base")
        with torch.no_grad():
            model.wide.bias.fill_(float("nan"))
        return model

    with pytest.raises(TrainingError, match="loss became nan"):
        fit_seeds(build, [1, 2], splits, TrainConfig(batch_size=512, concurrent_runs=2),
                  log=lambda line: None)


def test_progress_prints_each_epoch_of_each_run_to_the_terminal(schema, splits, capfd):
    """Runs side by side (worker processes) print their epoch lines to the original stderr,
    the terminal of `dvc repro`, besides the log the notebook gets."""
    runs, _, lines = train_seeds(schema, splits, [1, 2], threads=2, concurrent_runs=2,
                                 max_epochs=3, progress=True)
    err = capfd.readouterr().err.splitlines()
    for run in runs:
        live = [line for line in err if line.startswith(f"run seed {run['seed']}: epoch")]
        assert len(live) == run["stopped_epoch"] >= 1
        logged = [line for line in lines if line.startswith("epoch")]
        assert live[0].split(": ", 1)[1] in logged


def test_without_progress_training_prints_nothing(schema, splits, capfd):
    train_seeds(schema, splits, [1, 2], threads=2, concurrent_runs=2, max_epochs=2)
    assert capfd.readouterr().err == ""


def test_models_trained_side_by_side_end_with_the_weights_of_models_trained_in_turn(
        schema, splits):
    """Worker processes send the best epoch's weights back: the caller's models are trained
    (Figure 6 reads them), exactly as when they train in this process."""
    def trained(concurrent_runs):
        models = []

        def build():
            models.append(small_wdl(schema, "v5"))
            return models[-1]

        config = TrainConfig(batch_size=512, max_epochs=3, threads=2,
                             concurrent_runs=concurrent_runs)
        fit_seeds(build, [1, 2], splits, config, log=lambda line: None)
        return models

    side, in_turn = trained(2), trained(1)
    seed_everything(1)
    untrained = small_wdl(schema, "v5")
    for a, b in zip(side, in_turn):
        for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(p, q), name
    assert not torch.equal(side[0].state_dict()["wide.bias"], untrained.state_dict()["wide.bias"])
