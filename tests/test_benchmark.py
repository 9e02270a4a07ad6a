"""Throughput timing: every model timed on the same batches, in alternating order, on copies."""

import json

import numpy as np
import torch
from torch import nn

from apg.benchmark import WARMUP_STEPS, save_throughput, time_models
from apg.config import ThroughputConfig, TrainConfig
from apg.models import ModelConfig, build_model
from apg.tower import APGConfig

CALLS = []   # (label, training?, batch rows) of every forward pass of a Recorder, in order


class Recorder(nn.Module):
    """A one-weight model that logs each forward pass under its label."""

    def __init__(self, label):
        super().__init__()
        self.label = label
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        CALLS.append((self.label, self.training, len(x)))
        return self.weight * x[:, 0].float()


def test_rounds_alternate_the_order_and_time_the_same_batches(splits):
    CALLS.clear()
    bench = ThroughputConfig(rounds=3, batches=2, infer_rounds=2)
    config = TrainConfig(batch_size=256, eval_batch_size=100_000, threads=1)
    timed = time_models({"a": Recorder("a"), "b": Recorder("b")}, splits, config, bench)
    train = [label for label, training, _ in CALLS if training]
    warmup = ["a"] * WARMUP_STEPS + ["b"] * WARMUP_STEPS
    one_round = lambda first, second: [first] * 2 + [second] * 2  # noqa: E731
    assert train == warmup + one_round("a", "b") + one_round("b", "a") + one_round("a", "b")
    assert [label for label, training, _ in CALLS if not training] == ["a", "b", "b", "a"]
    assert {rows for _, training, rows in CALLS if training} == {256}
    for name in ("a", "b"):
        speed = timed["models"][name]
        assert len(speed["train_rounds"]) == 3 and len(speed["infer_rounds"]) == 2
        assert speed["train_samples_per_s"] == np.median(speed["train_rounds"]) > 0
        assert speed["infer_samples_per_s"] == np.median(speed["infer_rounds"]) > 0
        assert speed["n_params"] == 1
    assert (timed["device"], timed["threads"]) == ("cpu", 1)


def test_the_models_passed_in_and_the_thread_count_stay_untouched(schema, splits):
    model = build_model("wdl", schema, ModelConfig(variant="v5", embedding_dim=8,
                                                   hidden_units=[16, 8],
                                                   apg=APGConfig(overparam=8)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    threads = torch.get_num_threads()
    timed = time_models({"wdl": model}, splits, TrainConfig(batch_size=256, threads=1),
                        ThroughputConfig(rounds=2, batches=3, infer_rounds=1))
    assert timed["models"]["wdl"]["n_params"] == sum(p.numel() for p in model.parameters())
    assert torch.get_num_threads() == threads and model.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_saved_throughput_is_what_was_timed_and_how(tmp_path):
    timed = {"device": "cpu", "threads": 2, "models": {"a": {"train_samples_per_s": 5.0}}}
    path = tmp_path / "metrics" / "movielens-1m" / "throughput.json"
    saved = save_throughput(path, {"dataset": "movielens-1m", "rounds": 5}, timed)
    assert json.loads(path.read_text()) == saved == {
        "dataset": "movielens-1m", "rounds": 5, "device": "cpu", "threads": 2,
        "models": {"a": {"train_samples_per_s": 5.0}}}
