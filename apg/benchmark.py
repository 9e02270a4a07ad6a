"""Training and inference throughput of several models, timed interleaved in one process.

Table 2's throughput columns, the kit's targets (docs/decisions.md: "Throughput,
timed back to back") and Table 5's APG-WDL
ratio use these numbers. Timed in separate stages minutes apart, the load on a shared machine
moved a + APG / Base ratio by 0.2 between two pipeline runs; here every round times every model
back to back on the same batches, in alternating order, so load that drifts over seconds or
minutes hits Base and + APG alike. `reporting.speed_ratio` pairs the rounds before it takes a
median.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from apg.config import ThroughputConfig, TrainConfig
from apg.data.batches import iterate_batches
from apg.runtime import cpu_threads, synchronize
from apg.runtime import resolve_device
from apg.train import adam, evaluate, train_step

WARMUP_STEPS = 2


def _time_steps(model: nn.Module, optimizer: torch.optim.Optimizer, batches: list,
                device: torch.device) -> float:
    """Samples/s of optimiser steps over `batches`."""
    synchronize(device)
    start = time.perf_counter()
    for xb, yb in batches:
        train_step(model, optimizer, xb, yb)
    synchronize(device)
    return sum(len(yb) for _, yb in batches) / (time.perf_counter() - start)


def time_models(models: dict[str, nn.Module], splits: dict, config: TrainConfig,
                bench: ThroughputConfig) -> dict:
    """Training and inference samples/s of each model, on all `config.threads`.

    Copies of the models (those passed in stay untouched) each get their own Adam and two
    warm-up steps. Then `bench.rounds` rounds each time every model on the same
    `bench.batches` shuffled training batches, in the given order on even rounds and reversed
    on odd ones; then `bench.infer_rounds` passes over the validation split, alternating the
    same way. Returns the device, the thread count and per model ("models") the rates of
    every round, their medians and the parameter count.
    """
    device = resolve_device(config.device)
    x, y = splits["train"]
    order = iterate_batches(x, y, config.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
    batches = [(xb.to(device), yb.to(device)) for xb, yb in
               itertools.islice(itertools.cycle(order), WARMUP_STEPS + bench.batches)]
    copies = {name: copy.deepcopy(model).to(device).train() for name, model in models.items()}
    optimizers = {name: adam(model, config) for name, model in copies.items()}
    threads = config.threads or torch.get_num_threads()

    def alternating(rounds):
        names = list(copies)
        return [names if i % 2 == 0 else names[::-1] for i in range(rounds)]

    train = {name: [] for name in copies}
    infer = {name: [] for name in copies}
    with cpu_threads(device, threads):
        for name, model in copies.items():
            _time_steps(model, optimizers[name], batches[:WARMUP_STEPS], device)
        for names in alternating(bench.rounds):
            for name in names:
                train[name].append(_time_steps(copies[name], optimizers[name],
                                               batches[WARMUP_STEPS:], device))
        for names in alternating(bench.infer_rounds):
            for name in names:
                infer[name].append(evaluate(copies[name], *splits["valid"],
                                            config.eval_batch_size)["samples_per_s"])
    return {"device": device.type, "threads": threads if device.type == "cpu" else None,
            "models": {name: {"train_samples_per_s": float(np.median(train[name])),
                              "infer_samples_per_s": float(np.median(infer[name])),
                              "train_rounds": train[name], "infer_rounds": infer[name],
                              "n_params": sum(p.numel() for p in copies[name].parameters())}
                       for name in copies}}


def save_throughput(path, info: dict, timed: dict) -> dict:
    """Write the throughput stage's metrics JSON (DVC metrics): `info` (what was timed and how),
    then `time_models`' result."""
    metrics = {**info, **timed}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics
