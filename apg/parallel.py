"""Every training run of the pipeline at once, each (run, seed) a job for a pool of processes
on one device: `python -m apg.parallel train --device cuda --workers 14`, then
`python -m apg.parallel report` (reports/training_cuda.ipynb).

On a GPU one small CTR model leaves the card idle most of the time: a training step is a few
dozen kernel launches of a few microseconds' work each, and each waits for Python. The
pipeline's stages (`dvc repro`) train their runs in turn on CUDA; here independent processes
share the card instead, each with its own seed, model and copy of the splits on the device.
Each job is the training notebook's run for one seed (`train_parameters`, the model built on
the CPU under its seed, `fit`), so a run here differs from the CPU reference only by
floating-point order. Jobs start longest first (by the CPU reference's training seconds, when
its metrics are present); each finished run (all its seeds) is written as the pipeline writes
it, in `<device>/<table>` in place of the table (`metrics/movielens-1m/cuda/table2/...`), so
the reports' functions read it as they read the reference (`reports/training_cuda.ipynb`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

from apg.data import FIXTURE, ensure_fixture
from apg.pipeline import (data_paths, load_params, merge, project_root, run_notebook, run_paths,
                          train_parameters, training_runs)

_SPLITS: dict = {}


def _load(root: str, data_dir: str, device: str, threads: int) -> None:
    """Worker start: one torch thread budget, the splits and schema once, on the device."""
    from apg.data.batches import load_schema, load_split

    torch.set_num_threads(threads)
    folder = Path(root) / data_dir
    _SPLITS["schema"] = load_schema(folder)
    _SPLITS["splits"] = {name: tuple(t.to(device) for t in load_split(folder, name))
                         for name in ("train", "valid", "test")}


def _train(parameters: dict, seed: int, device: str) -> dict:
    """One seed of one run, as notebooks/train.ipynb trains it (without its test predictions)."""
    from apg.models import ModelConfig, build_model
    from apg.train import TrainConfig, fit, seed_everything

    config = ModelConfig.from_params(parameters["variant"], parameters["model_section"],
                                     parameters["apg_section"], parameters["condition_section"])
    train = TrainConfig(**{**parameters["train_section"], "device": device, "progress": False})
    seed_everything(seed)
    model = build_model(parameters["model"], _SPLITS["schema"], config)
    run = fit(model, _SPLITS["splits"], train, seed, log=lambda _: None)
    run.pop("test_predictions")
    return run


def reference_seconds(root: Path, dataset: str, table: str, model: str, variant: str) -> float:
    """The CPU reference's training seconds of a run, summed over its seeds (0 if absent)."""
    path = root / run_paths(dataset, table, model, variant)["metrics"]
    if not path.is_file():
        return 0.0
    return sum(r["train_seconds"] for r in json.loads(path.read_text())["runs"])


def train_all(root: Path, params: dict, device: str, workers: int, folder: str,
              threads: int = 1, log=print) -> float:
    """Train every run of `training_runs` on `device` with `workers` processes; write each
    run's metrics and learning curve as soon as its seeds have all finished, where the
    pipeline's go with `folder/<table>` in place of the table (`run_paths`). Returns the wall
    seconds of the whole."""
    from apg.train import save_curve, save_metrics

    dataset = params["data"]["dataset"]
    runs = {run: train_parameters(params, *run) for run in training_runs(params)}
    order = sorted(runs, key=lambda run: -reference_seconds(root, dataset, *run))
    jobs = [(run, seed) for run in order for seed in runs[run]["seeds"]]
    log(f"{len(runs)} runs, {len(jobs)} jobs on {device}, {workers} processes")
    done: dict = {run: {} for run in runs}
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")      # CUDA cannot be forked
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_load,
                             initargs=(str(root), data_paths(dataset)["processed"], device,
                                       threads)) as pool:
        futures = {pool.submit(_train, runs[run], seed, device): (run, seed)
                   for run, seed in jobs}
        for n, future in enumerate(as_completed(futures), 1):
            (table, model, variant), seed = run, seed = futures[future]
            result = future.result()
            done[run][seed] = result
            log(f"[{n}/{len(jobs)} {time.perf_counter() - start:.0f}s] {table} {model}-{variant}"
                f" seed {seed}: test AUC {100 * result['test_auc']:.2f}, "
                f"{result['stopped_epoch']} epochs, {result['train_seconds']:.1f}s")
            if len(done[run]) < len(runs[run]["seeds"]):
                continue
            seeds, parameters = runs[run]["seeds"], runs[run]
            paths = run_paths(dataset, f"{folder}/{table}", model, variant)
            save_metrics(root / paths["metrics"], dict(
                **{k: parameters[k] for k in ("dataset", "model", "variant", "seeds")},
                model_config=parameters["model_section"], apg_config=parameters["apg_section"],
                condition=parameters["condition_section"],
                train_config={**parameters["train_section"], "device": device},
                train_wall_seconds=time.perf_counter() - start),
                [done[run][s] for s in seeds])
            save_curve(root / paths["curve"], [done[run][s] for s in seeds])
    return time.perf_counter() - start


def report_parameters(params: dict, folder: str) -> dict:
    """The papermill parameters of notebooks/report_training_device.ipynb for the runs in
    `metrics/<dataset>/<folder>/`."""
    from apg.pipeline import REPORT_DIRS

    return {"dataset": params["data"]["dataset"], "metrics_root": ".", "folder": folder,
            "tables": {name: params[name] for name in ("table2", "table4", "table6")},
            "alpha": params["report"]["alpha"], "tables_dir": REPORT_DIRS["tables_dir"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apg.parallel", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train every run of the pipeline")
    train.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    train.add_argument("--workers", type=int, default=8, help="processes side by side")
    train.add_argument("--threads", type=int, default=1, help="torch CPU threads per process")
    train.add_argument("--profile", default=None,
                       help="a profile of params.yaml merged over it (e.g. fixture)")
    report = sub.add_parser("report", help="reports/training_<device>.ipynb: its verdicts "
                                           "beside the pipeline's")
    report.add_argument("--device", default="cuda", help="the runs of `train --device`")
    args = parser.parse_args(argv)
    root = project_root()
    params = load_params(root)
    folder = args.device.split(":")[0]
    if args.command == "report":
        run_notebook("notebooks/report_training_device.ipynb",
                     f"reports/training_{folder}.ipynb", report_parameters(params, folder),
                     root, staged=("tables_dir",))
        return
    if args.profile:
        params = merge(params, params["profiles"][args.profile])
    if params["data"]["dataset"] == FIXTURE:
        ensure_fixture(root / data_paths(FIXTURE)["processed"])
    seconds = train_all(root, params, args.device, args.workers, folder, args.threads)
    summary = root / "metrics" / params["data"]["dataset"] / folder / "wall.json"
    summary.write_text(json.dumps(
        {"device": torch.cuda.get_device_name() if folder == "cuda" else "cpu",
         "workers": args.workers, "threads": args.threads, "wall_seconds": seconds}) + "\n")
    print(f"all runs trained in {seconds:.0f} s; metrics under {summary.parent}")


if __name__ == "__main__":
    main()
