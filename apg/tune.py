"""Settings chosen on the validation split, never the test split (`make tune`).

    python -m apg.tune learning-rate   Base of each Table 2 backbone at every rate in
                                       tuning.learning_rates
    python -m apg.tune condition       WDL + APG (Table 2's version) with every candidate in
                                       tuning.conditions

One seed (`tuning.seed`) and a fixed thread count (`tuning.threads`, so the numbers repeat
exactly) per setting; each run stops early on validation AUC as in the pipeline, and the test
split is not even loaded. The results are written to reports/tuning/<name>.csv|md (`--models`
re-tunes only the named backbones and keeps the others' rows); params.yaml is then set from
them (README, "Decisions"), so every choice can be traced to a run.
"""

from __future__ import annotations

import argparse

import pandas as pd

from apg.data.batches import load_schema, load_split
from apg.models import ModelConfig, build_model
from apg.pipeline import data_paths, learning_rate, load_params, project_root
from apg.reporting import write_table
from apg.train import TrainConfig, fit, seed_everything


def validation_run(params: dict, splits: dict, schema: dict, model: str, variant: str,
                   condition: dict, rate: float) -> dict:
    """Train one model on the train split with early stopping; the best validation numbers."""
    seed = params["tuning"]["seed"]
    seed_everything(seed)
    config = ModelConfig.from_params(variant, params["model"], params["apg"], condition)
    train = TrainConfig(**{**params["train"], "learning_rate": rate,
                           "threads": params["tuning"]["threads"]})
    run = fit(build_model(model, schema, config), splits, train, seed, log=lambda _: None)
    return {"valid_auc": 100 * run["valid_auc"], "valid_logloss": run["valid_logloss"],
            "best_epoch": run["best_epoch"], "stopped_epoch": run["stopped_epoch"],
            "hit_cap": run["hit_cap"], "train_seconds": round(run["train_seconds"], 1)}


def tune_learning_rate(params: dict, splits: dict, schema: dict,
                       models: list[str] | None = None) -> pd.DataFrame:
    """Base of each backbone (default: Table 2's) at every candidate rate."""
    rows = []
    for model in models or params["table2"]["models"]:
        for rate in params["tuning"]["learning_rates"]:
            rows.append({"model": model, "learning_rate": rate,
                         **validation_run(params, splits, schema, model, "base",
                                          params["condition"], rate)})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def mark_best_rates(table: pd.DataFrame) -> pd.DataFrame:
    """`chosen` marks the rate with the best validation AUC of each backbone."""
    table = table.reset_index(drop=True)
    table["chosen"] = table.index.isin(table.groupby("model")["valid_auc"].idxmax())
    return table


def tune_condition(params: dict, splits: dict, schema: dict) -> pd.DataFrame:
    """WDL + APG under every candidate condition (Sec. 3.1.1), at WDL's learning rate."""
    model, variant = params["table4"]["model"], params["table2"]["apg_version"]
    rows = []
    for candidate in params["tuning"]["conditions"]:
        condition = {"aggregation": None, "share_embeddings": True, "dim": None, **candidate}
        rows.append({"strategy": condition["strategy"],
                     "fields": " + ".join(condition["fields"]),
                     "aggregation": condition["aggregation"],
                     **validation_run(params, splits, schema, model, variant, condition,
                                      learning_rate(params, model))})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["chosen"] = table.index == table["valid_auc"].idxmax()
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apg.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["learning-rate", "condition"])
    parser.add_argument("--models", nargs="+", help="learning-rate: only these backbones")
    args = parser.parse_args(argv)
    root = project_root()
    params = load_params(root)
    processed = root / data_paths(params["data"]["dataset"])["processed"]
    schema = load_schema(processed)
    splits = {name: load_split(processed, name) for name in ("train", "valid")}
    out = root / "reports" / "tuning" / args.what.replace("-", "_")
    if args.what == "condition":
        table = tune_condition(params, splits, schema)
    else:
        table = tune_learning_rate(params, splits, schema, args.models)
        if args.models and out.with_suffix(".csv").exists():
            kept = pd.read_csv(out.with_suffix(".csv")).drop(columns="chosen")
            table = pd.concat([kept[~kept["model"].isin(args.models)], table])
        table = mark_best_rates(table)
    write_table(table, out, floatfmt=".4g")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
