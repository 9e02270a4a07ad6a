"""Settings chosen on the validation split, never the test split (`make tune`).

    python -m apg.tune condition       WDL + APG (Table 2's version) with every candidate in
                                       tuning.conditions, at tuning.start's K, P and rate
    python -m apg.tune rank            WDL + APG with the chosen condition: every K in
                                       tuning.ranks, then every P in tuning.overparams
    python -m apg.tune learning-rate   each Table 2 backbone, Base and + APG (chosen condition,
                                       K and P), at every rate in tuning.learning_rates

In that order (`make tune`): each sweep reads what the ones before it chose, from params.yaml.

One seed (`tuning.seed`) and a fixed thread count (`tuning.threads`, so the numbers repeat
exactly) per setting; each run stops early on validation AUC as in the pipeline, and the test
split is not even loaded. The results are written to reports/tuning/<name>.csv|md (`--models`
and `--variants` re-tune only the named backbones / variants and keep the other rows);
params.yaml is then set from them (README, "Decisions"), so every choice can be traced to a run.
"""

from __future__ import annotations

import argparse

import pandas as pd

from apg.data.batches import load_schema, load_split
from apg.models import ModelConfig, build_model
from apg.pipeline import data_paths, load_params, project_root
from apg.reporting import write_table
from apg.train import TrainConfig, fit_seeds


def validation_run(params: dict, splits: dict, schema: dict, model: str, variant: str,
                   condition: dict, rate: float, apg: dict | None = None) -> dict:
    """Train one model on the train split with early stopping; the best validation numbers.
    `apg` overrides keys of params.yaml's `apg:` section (K, P)."""
    config = ModelConfig.from_params(variant, params["model"], {**params["apg"], **(apg or {})},
                                     condition)
    train = TrainConfig(**{**params["train"], "learning_rate": rate,
                           "threads": params["tuning"]["threads"]})
    [run], _ = fit_seeds(lambda: build_model(model, schema, config), [params["tuning"]["seed"]],
                         splits, train, log=lambda _: None)
    return {"valid_auc": 100 * run["valid_auc"], "valid_logloss": run["valid_logloss"],
            "best_epoch": run["best_epoch"], "stopped_epoch": run["stopped_epoch"],
            "hit_cap": run["hit_cap"], "train_seconds": round(run["train_seconds"], 1)}


def tune_learning_rate(params: dict, splits: dict, schema: dict, models: list[str] | None = None,
                       variants: list[str] | None = None) -> pd.DataFrame:
    """Each backbone (default: Table 2's) at every candidate rate, as Base and as Base + APG
    (Table 2's version and condition; default: both)."""
    rows = []
    for model in models or params["table2"]["models"]:
        for variant in variants or ["base", params["table2"]["apg_version"]]:
            for rate in params["tuning"]["learning_rates"]:
                rows.append({"model": model, "variant": variant, "learning_rate": rate,
                             **validation_run(params, splits, schema, model, variant,
                                              params["condition"], rate)})
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def mark_best_rates(table: pd.DataFrame) -> pd.DataFrame:
    """`chosen` marks, per backbone, the rate with the best validation AUC averaged over its
    variants (Base and Base + APG share one rate, so both must train well at it; a rate chosen
    on Base alone can be one at which the APG variant diverges)."""
    table = table.reset_index(drop=True)
    mean = table.groupby(["model", "learning_rate"])["valid_auc"].mean().reset_index()
    best = mean.loc[mean.groupby("model")["valid_auc"].idxmax(), ["model", "learning_rate"]]
    chosen = set(best.itertuples(index=False, name=None))
    table["chosen"] = [(m, r) in chosen for m, r in zip(table["model"], table["learning_rate"])]
    return table


def tune_condition(params: dict, splits: dict, schema: dict) -> pd.DataFrame:
    """WDL + APG under every candidate condition (Sec. 3.1.1), at `tuning.start`'s K, P and
    learning rate."""
    model, variant = params["table4"]["model"], params["table2"]["apg_version"]
    start = params["tuning"]["start"]
    apg = {"rank": start["rank"], "overparam": start["overparam"]}
    rows = []
    for candidate in params["tuning"]["conditions"]:
        condition = {"aggregation": None, "share_embeddings": True, "dim": None, **candidate}
        rows.append({"strategy": condition["strategy"],
                     "fields": " + ".join(condition["fields"]),
                     "aggregation": condition["aggregation"],
                     **validation_run(params, splits, schema, model, variant, condition,
                                      start["learning_rate"], apg)})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["chosen"] = table.index == table["valid_auc"].idxmax()
    return table


def cheapest_within(rows: list[dict], key: str, tolerance: float) -> dict:
    """The row with the smallest `key` whose validation AUC is within `tolerance` points of the
    best: one seed cannot tell smaller differences apart, and a larger K or P costs time."""
    best = max(r["valid_auc"] for r in rows)
    return min((r for r in rows if r["valid_auc"] >= best - tolerance), key=lambda r: r[key])


def tune_rank(params: dict, splits: dict, schema: dict) -> pd.DataFrame:
    """WDL + APG (Table 2's version and condition, `tuning.start`'s learning rate): every K at
    `tuning.start`'s P, then every P at the chosen K (P only exists for v5). Each choice is the
    cheapest value within `tuning.tolerance` points of the best validation AUC; `chosen` marks
    the final (K, P)."""
    model, variant = params["table4"]["model"], params["table2"]["apg_version"]
    start, tolerance = params["tuning"]["start"], params["tuning"]["tolerance"]
    rate = start["learning_rate"]

    def run(rank: int, overparam: int | None) -> dict:
        apg = {"rank": rank, "overparam": overparam}
        row = {**apg, **validation_run(params, splits, schema, model, variant,
                                       params["condition"], rate, apg)}
        print(row, flush=True)
        return row

    overparam = start["overparam"] if variant == "v5" else None
    rows = [run(rank, overparam) for rank in params["tuning"]["ranks"]]
    choice = cheapest_within(rows, "rank", tolerance)
    if variant == "v5":
        rows += [run(choice["rank"], p) for p in params["tuning"]["overparams"] if p != overparam]
        choice = cheapest_within([r for r in rows if r["rank"] == choice["rank"]], "overparam",
                                 tolerance)
    table = pd.DataFrame(rows)
    table["chosen"] = [r is choice for r in rows]
    return table


def _table2_order(params: dict):
    """Sort key: backbones in Table 2's order, Base before + APG, rates ascending."""
    models = {m: i for i, m in enumerate(params["table2"]["models"])}
    return lambda column: (column.map(models) if column.name == "model" else
                           column.map(lambda v: v != "base") if column.name == "variant" else
                           column)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apg.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["learning-rate", "condition", "rank"])
    parser.add_argument("--models", nargs="+", help="learning-rate: only these backbones")
    parser.add_argument("--variants", nargs="+", help="learning-rate: only these variants")
    args = parser.parse_args(argv)
    root = project_root()
    params = load_params(root)
    processed = root / data_paths(params["data"]["dataset"])["processed"]
    schema = load_schema(processed)
    splits = {name: load_split(processed, name) for name in ("train", "valid")}
    out = root / "reports" / "tuning" / args.what.replace("-", "_")
    if args.what == "condition":
        table = tune_condition(params, splits, schema)
    elif args.what == "rank":
        table = tune_rank(params, splits, schema)
    else:
        table = tune_learning_rate(params, splits, schema, args.models, args.variants)
        if (args.models or args.variants) and out.with_suffix(".csv").exists():
            kept = pd.read_csv(out.with_suffix(".csv")).drop(columns="chosen")
            redone = kept[["model", "variant"]].apply(tuple, axis=1).isin(
                set(table[["model", "variant"]].apply(tuple, axis=1)))
            table = pd.concat([kept[~redone], table]).sort_values(
                ["model", "variant", "learning_rate"], key=_table2_order(params))
        table = mark_best_rates(table)
    write_table(table, out, floatfmt=".4g")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
