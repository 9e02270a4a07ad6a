"""Fit and evaluate a CTR model: Adam, early stopping on validation AUC, one test pass.

A flat loop in the nanoGPT spirit. Every run ends by early stopping (`patience` epochs without a
better validation AUC); `max_epochs` is only a safety cap, and a run that reaches it is marked
`hit_cap` so reports can flag the comparison (APG variants may converge in fewer epochs than
Base, so a cap that stops Base early would manufacture an APG gain). The test split is scored
once, with the weights of the best validation epoch.

`fit_seeds` trains one run per seed, side by side on a CPU: each run on its own thread count,
fixed for the whole run, so a run's numbers do not depend on what else is running. Because runs
share the machine, throughput is measured apart (`apg.benchmark`).
"""

from __future__ import annotations

import copy
import json
import math
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import log_loss, roc_auc_score
from torch import nn
from torch.nn import functional as F

from apg.config import TrainConfig
from apg.data.batches import iterate_batches
from apg.runtime import cpu_threads, keep_freed_memory, resolve_device
from apg.tower import Tower


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN)."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so a run is repeatable on one machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Click probabilities for every row of x, in order."""
    model.eval()
    device = next(model.parameters()).device
    out = [torch.sigmoid(model(x[i:i + batch_size].to(device))).cpu()
           for i in range(0, len(x), batch_size)]
    return torch.cat(out)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> dict:
    """AUC (scikit-learn) and logloss, inference throughput in samples/s, and the predicted
    probabilities (float32, in row order)."""
    start = time.perf_counter()
    p = predict(model, x, batch_size)
    seconds = time.perf_counter() - start
    p, y = p.numpy(), y.cpu().numpy()
    p64 = p.astype(np.float64)
    return {"auc": float(roc_auc_score(y, p64)),
            "logloss": float(log_loss(y, np.clip(p64, 1e-7, 1 - 1e-7), labels=[0, 1])),
            "samples_per_s": len(y) / seconds, "predictions": p}


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, xb: torch.Tensor,
               yb: torch.Tensor) -> torch.Tensor:
    """One optimiser step on the batch's logloss; returns that loss (before the step)."""
    loss = F.binary_cross_entropy_with_logits(model(xb), yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def adam(model: nn.Module, config: TrainConfig) -> torch.optim.Adam:
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                            lr=config.learning_rate, weight_decay=config.weight_decay,
                            fused=True)


def fit(model: nn.Module, splits: dict, config: TrainConfig, seed: int,
        log=print) -> dict:
    """Train until early stopping, restore the best epoch, score the test split once.

    `splits` maps "train" / "valid" / "test" to (x, y) tensors; without "test" (tuning, which
    must not see it) the test metrics are None. Returns the run's metrics: validation and test
    AUC / logloss, best and stopping epoch, whether the epoch cap ended the run, per-epoch
    history, training samples (rows x epochs) and seconds. Thread counts are the caller's
    (`fit_seeds`).
    """
    device = resolve_device(config.device)
    model.to(device)
    x_train, y_train = splits["train"]
    x_valid, y_valid = splits["valid"]
    optimizer = adam(model, config)
    generator = torch.Generator().manual_seed(seed)

    best = {"auc": -math.inf}
    best_state, best_epoch, epochs_since_best = None, 0, 0
    history, train_seconds, epoch = [], 0.0, 0
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        start, total_loss, seen = time.perf_counter(), 0.0, 0
        batches = iterate_batches(x_train, y_train, config.batch_size, shuffle=True,
                                  generator=generator)
        for step, (xb, yb) in enumerate(batches):
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            loss = train_step(model, optimizer, xb, yb)
            if not torch.isfinite(loss):
                raise TrainingError(
                    f"the training loss became {loss.item()} at epoch {epoch}, batch {step}; "
                    f"lower train.learning_rate (now {config.learning_rate}) or check the "
                    "input data for extreme values")
            total_loss += loss.item() * len(yb)
            seen += len(yb)
        seconds = time.perf_counter() - start
        train_seconds += seconds
        valid = evaluate(model, x_valid, y_valid, config.eval_batch_size)
        improved = valid["auc"] > best["auc"]
        history.append({"epoch": epoch, "train_loss": total_loss / seen,
                        "valid_auc": valid["auc"], "valid_logloss": valid["logloss"],
                        "seconds": seconds})
        log(f"epoch {epoch:3d}  train loss {total_loss / seen:.4f}  valid AUC "
            f"{valid['auc']:.4f}  logloss {valid['logloss']:.4f}"
            f"{'  *' if improved else ''}  ({seconds:.1f}s, {seen / seconds:,.0f} samples/s)")
        if improved:
            best, best_epoch, epochs_since_best = valid, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            epochs_since_best += 1
            if epochs_since_best >= config.patience:
                break
    hit_cap = epochs_since_best < config.patience
    if hit_cap:
        log(f"warning: stopped by the epoch cap ({config.max_epochs}) before early stopping; "
            "raise train.max_epochs for a fair comparison")
    model.load_state_dict(best_state)
    test = (evaluate(model, *splits["test"], config.eval_batch_size) if "test" in splits
            else {"auc": None, "logloss": None, "predictions": None})
    return {
        "seed": seed,
        "valid_auc": best["auc"], "valid_logloss": best["logloss"],
        "test_auc": test["auc"], "test_logloss": test["logloss"],
        "best_epoch": best_epoch, "stopped_epoch": epoch, "hit_cap": hit_cap,
        "train_samples": len(y_train) * epoch,
        "train_seconds": train_seconds,
        "n_params": sum(p.numel() for p in model.parameters()),
        "device": str(device),
        "history": history,
        "test_predictions": test["predictions"],
    }


def uses_global_rng(model: nn.Module) -> bool:
    """Whether training draws from torch's global random generator (dropout does): runs side by
    side would then depend on how they take turns with it (threads share it; a forked worker
    process starts from the parent's state, not the one an in-turn run would see)."""
    return any(isinstance(m, Tower) and m.dropout > 0 or isinstance(m, nn.Dropout) and m.p > 0
               for m in model.modules())


# The runs of the `fit_seeds` call under way, by index: forked worker processes inherit them
# (models and splits) rather than receive pickled copies.
_RUNS: list[tuple] = []


def terminal() -> int:
    """The file descriptor of standard error's terminal: in a Jupyter kernel (a pipeline stage)
    the kernel's own, so live lines reach the terminal running `dvc repro` and not the
    notebook, which gets the whole log at the end."""
    try:
        return sys.stderr.fileno()
    except (OSError, ValueError):
        return sys.__stderr__.fileno()


def _fit_run(index: int, threads: int) -> tuple[dict, list[str], dict]:
    """Worker of `fit_seeds`: run `index` on `threads` torch threads; its metrics, its log and
    the trained (best epoch's) weights, which a worker process must send back.
    With a `live` name, each log line is also written as it happens to the `terminal`."""
    model, splits, config, seed, live = _RUNS[index]
    torch.set_num_threads(threads)
    lines = []

    def log(line: str) -> None:
        lines.append(line)
        if live:      # one write per line: runs in other processes cannot split it
            os.write(terminal(), f"{live} seed {seed}: {line}\n".encode())

    return fit(model, splits, config, seed, log), lines, model.state_dict()


def run_pool(workers: int) -> Executor:
    """Where runs train side by side: forked processes on Linux, so that no run waits for
    another's Python (with threads, five small models trained at the speed of about one core:
    docs/decisions.md, "Seeds side by side"); threads elsewhere, and for a single worker
    (CUDA included)."""
    if workers > 1 and sys.platform == "linux":
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(workers)


def fit_seeds(build: Callable[[], nn.Module], seeds: list[int], splits: dict,
              config: TrainConfig, log=print, name: str = "run") -> tuple[list[dict], float]:
    """One `fit` per seed; returns the runs in seed order and the wall seconds they took. The
    models `build` made end with their best epoch's weights, wherever they trained.

    Each model is built under its seed, one after another. On a CPU, `concurrent_runs` of them
    then train side by side (`run_pool`), each with threads // concurrent_runs torch threads
    (at least one), fixed for the whole run: the numbers are the same as a run trained alone on
    that many threads, whatever the timing. Runs go one after another on CUDA, with one run, or
    when training draws from the global random generator (dropout). Each run's log is printed
    after all have ended, in seed order; with `config.progress`, each epoch's line is also
    printed to the terminal as it happens, as "<name> seed <s>: ...".
    """
    keep_freed_memory()
    device = resolve_device(config.device)
    models = []
    for seed in seeds:
        seed_everything(seed)
        models.append(build())
    workers = min(config.concurrent_runs, len(seeds)) if device.type == "cpu" else 1
    if workers > 1 and uses_global_rng(models[0]):
        log("dropout draws from torch's global random generator, which runs side by side "
            "would share: training one run after another")
        workers = 1
    threads = max(1, (config.threads or torch.get_num_threads()) // workers)
    live = name if config.progress else None
    _RUNS[:] = [(model, splits, config, seed, live) for model, seed in zip(models, seeds)]
    results = {}
    start = time.perf_counter()
    try:
        with cpu_threads(device, threads), run_pool(workers) as pool:
            futures = {seed: pool.submit(_fit_run, i, threads) for i, seed in enumerate(seeds)}
            results = {seed: future.result() for seed, future in futures.items()}
    finally:
        _RUNS.clear()
        for seed, (_, lines, _) in results.items():
            log(f"--- seed {seed}")
            for line in lines:
                log(line)
    for model, seed in zip(models, seeds):     # trained in place, as in one process
        model.load_state_dict(results[seed][2])
    return [results[seed][0] for seed in seeds], time.perf_counter() - start


def summarise(runs: list[dict]) -> dict:
    """Mean and spread over seeds of the numbers a report needs."""
    def mean(key):
        return float(np.mean([r[key] for r in runs]))

    aucs = [r["test_auc"] for r in runs]
    return {"test_auc_mean": mean("test_auc"),
            "test_auc_std": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0,
            "valid_auc_mean": mean("valid_auc"), "test_logloss_mean": mean("test_logloss"),
            "best_epoch_mean": mean("best_epoch"), "stopped_epoch_mean": mean("stopped_epoch"),
            "any_hit_cap": any(r["hit_cap"] for r in runs), "n_seeds": len(runs)}


def save_metrics(path, info: dict, runs: list[dict]) -> dict:
    """Write one run's metrics JSON (DVC metrics): what was run, the summary, every seed with
    its per-epoch history (its test predictions go to `save_predictions`)."""
    runs = [{k: v for k, v in run.items() if k != "test_predictions"} for run in runs]
    metrics = {**info, **summarise(runs), "runs": runs}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def save_predictions(path, runs: list[dict]) -> None:
    """Each seed's test-split click probabilities as a parquet column `seed_<s>`, rows in the
    test split's order (what the frequency-bucket report reads, `apg.buckets`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({f"seed_{run['seed']}": run["test_predictions"] for run in runs}).to_parquet(
        path, index=False)


def learning_curve(runs: list[dict]) -> pd.DataFrame:
    """One run's seeds as a curve: per epoch, the mean, min and max validation AUC (%) over the
    seeds that trained that epoch, and how many did (early stopping ends seeds at different
    epochs)."""
    epochs = pd.DataFrame([{"epoch": h["epoch"], "valid_auc": 100 * h["valid_auc"]}
                           for run in runs for h in run["history"]])
    curve = epochs.groupby("epoch")["valid_auc"].agg(["mean", "min", "max", "count"])
    return curve.rename(columns={"mean": "valid_auc", "min": "valid_auc_min",
                                 "max": "valid_auc_max", "count": "n_seeds"}).reset_index()


def save_curve(path, runs: list[dict]) -> None:
    """`learning_curve` as CSV (DVC plots: validation AUC by epoch)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    learning_curve(runs).round(4).to_csv(path, index=False)
