"""Settings chosen on the validation split, never the test split (`make tune`).

    python -m apg.tune condition       WDL + APG (Table 2's version) with every candidate in
                                       tuning.conditions, at tuning.start's K, P and rate
    python -m apg.tune rank            WDL + APG with the chosen condition: every K in
                                       tuning.ranks, then every P at the chosen K, then the
                                       best two (K, P) again on tuning.second_seed
    python -m apg.tune learning-rate   every run of Tables 2 and 4 (each backbone's Base and
                                       + APG, each Table 4 version) at every rate in
                                       tuning.learning_rates, the grid extended until each
                                       run's best rate is interior

In that order (`make tune`): each sweep reads what the ones before it chose, from params.yaml.

One seed (`tuning.seed`) and a fixed thread count (`tuning.threads`, so the numbers repeat
exactly) per setting; each run stops early on validation AUC as in the pipeline, and the test
split is not even loaded. Every numeric choice is reported with its place in its grid
(`grid_position`): a choice on a grid edge may have its optimum outside the grid. The results
are written to reports/tuning/<name>.csv|md (`--runs` re-tunes only the named runs of the
learning-rate sweep and keeps the other rows); params.yaml is then set from them, and a test
checks that it holds exactly the recorded choices (docs/decisions.md).
"""

from __future__ import annotations

import argparse
import math

import pandas as pd

from apg.data.batches import load_schema, load_split
from apg.models import ModelConfig, build_model
from apg.pipeline import (data_paths, load_params, project_root, run_spec, table6_methods,
                          training_runs)
from apg.reporting import grid_position, write_table
from apg.train import TrainConfig, fit_seeds

TUNING_DIR = "reports/tuning"


def validation_run(params: dict, splits: dict, schema: dict, model: str, variant: str,
                   condition: dict | None, rate: float, apg: dict | None = None,
                   seed: int | None = None, model_section: dict | None = None) -> dict:
    """Train one model on the train split with early stopping; the best validation numbers
    (AUC in %). `apg` overrides keys of params.yaml's `apg:` section (K, P); `seed` defaults
    to tuning.seed; `model_section` to params.yaml's `model:` (`run_spec` gives Table 6's)."""
    config = ModelConfig.from_params(variant, model_section or params["model"],
                                     {**params["apg"], **(apg or {})},
                                     condition or params["condition"])
    train = TrainConfig(**{**params["train"], "learning_rate": rate,
                           "threads": params["tuning"]["threads"]})
    seed = params["tuning"]["seed"] if seed is None else seed
    [run], _ = fit_seeds(lambda: build_model(model, schema, config), [seed], splits, train,
                         log=lambda _: None)
    return {"valid_auc": 100 * run["valid_auc"], "valid_logloss": run["valid_logloss"],
            "best_epoch": run["best_epoch"], "stopped_epoch": run["stopped_epoch"],
            "hit_cap": run["hit_cap"], "train_seconds": round(run["train_seconds"], 1)}


def next_rate(rate: float, direction: int) -> float:
    """The neighbour of a rate on the 1-2-5 series (..., 0.001, 0.002, 0.005, 0.01, ...),
    one step up (direction = +1) or down (-1): how the learning-rate grid grows past an edge."""
    exponent = math.floor(math.log10(rate) + 1e-9)
    mantissa = round(rate / 10 ** exponent, 6)
    steps = [1.0, 2.0, 5.0]
    if mantissa not in steps:
        raise ValueError(f"{rate} is not on the 1-2-5 series; put the grid's rates on it")
    i = steps.index(mantissa) + direction
    exponent += i // 3
    return float(f"{steps[i % 3]}e{exponent}")


def tune_learning_rate(params: dict, splits: dict, schema: dict,
                       runs: list[tuple[str, str, str]] | None = None,
                       recorded: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each run (default: `training_runs`, every run of the pipeline) at every rate of tuning.learning_rates with its
    table's condition; then, while a run's best rate lies on an edge of what it was trained at,
    one more rate beyond that edge (`next_rate`), at most tuning.max_extensions times a side.
    Rows of `recorded` (an earlier sweep's table) stand in for the same run at the same rate
    instead of training it again."""
    rows = []
    for table, model, variant in runs or training_runs(params):
        spec = run_spec(params, table, model, variant)
        earlier = ({} if recorded is None else
                   {r["learning_rate"]: r for r in recorded.to_dict("records")
                    if (r["table"], r["model"], r["variant"]) == (table, model, variant)})

        def train(rate: float) -> dict:
            if rate in earlier:
                return {**earlier[rate], "learning_rate": rate}
            row = {"table": table, "model": model, "variant": variant, "learning_rate": rate,
                   **validation_run(params, splits, schema, spec["model"], spec["variant"],
                                    spec["condition"], rate,
                                    model_section=spec["model_section"])}
            print(row, flush=True)
            return row

        done = [train(rate) for rate in params["tuning"]["learning_rates"]]
        extensions = {"lower edge": 0, "upper edge": 0}
        while True:
            best = max(done, key=lambda r: r["valid_auc"])
            position = grid_position([r["learning_rate"] for r in done], best["learning_rate"])
            if (position not in extensions
                    or extensions[position] >= params["tuning"]["max_extensions"]):
                break
            extensions[position] += 1
            done.append(train(next_rate(best["learning_rate"],
                                        -1 if position == "lower edge" else 1)))
        rows += sorted(done, key=lambda r: r["learning_rate"])
    return pd.DataFrame(rows)


RUN_KEY = ["table", "model", "variant"]


def mark_best_rates(table: pd.DataFrame) -> pd.DataFrame:
    """`chosen` marks each run's own best rate (the highest validation AUC): Base and every APG
    variant get the same tuning effort, each its best rate from the same grid. `position`
    says where that rate lies among the rates the run was trained at (`grid_position`)."""
    table = table.reset_index(drop=True)
    best = table.groupby(RUN_KEY, sort=False)["valid_auc"].idxmax()
    table["chosen"] = table.index.isin(best)
    table["position"] = ""
    for index in best:
        rates = table.loc[(table[RUN_KEY] == table.loc[index, RUN_KEY]).all(axis=1),
                          "learning_rate"]
        table.loc[index, "position"] = grid_position(rates, table.loc[index, "learning_rate"])
    return table


def shared_rate_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Table 2 per backbone, on validation: the Δ of + APG over Base when each has its own best
    rate (the rule the pipeline uses) beside the Δ at one shared rate, the one with the best
    mean validation AUC of the two over the rates both were trained at (the earlier rule)."""
    rows = []
    for model, runs in table[table["table"] == "table2"].groupby("model", sort=False):
        auc = runs.pivot_table(index="learning_rate", columns="variant", values="valid_auc")
        apg = next(v for v in auc.columns if v != "base")
        own = {v: auc[v].idxmax() for v in ("base", apg)}
        common = auc.dropna()
        shared = common.mean(axis=1).idxmax()
        rows.append({"model": model, "apg_variant": apg, "rate_base": own["base"],
                     "rate_apg": own[apg], "delta_own": auc[apg].max() - auc["base"].max(),
                     "shared_rate": shared,
                     "delta_shared": common.loc[shared, apg] - common.loc[shared, "base"],
                     "rates_differ": bool(own["base"] != own[apg])})
    return pd.DataFrame(rows)


def tune_condition(params: dict, splits: dict, schema: dict) -> pd.DataFrame:
    """WDL + APG under every candidate condition (Sec. 3.1.1), at `tuning.start`'s K, P and
    learning rate. The candidates are categories, not a grid: there is no edge to report."""
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
    best: one seed cannot tell smaller differences apart, and a larger K costs time."""
    best = max(r["valid_auc"] for r in rows)
    return min((r for r in rows if r["valid_auc"] >= best - tolerance), key=lambda r: r[key])


def overparam_grid(rank: int, multiples, widest: int) -> list[int]:
    """P candidates at a K (Eq. 7 assumes P >> K): the given multiples of K, each at least 4 K,
    and the smallest power of two above `widest` = max(N, M) of the tower, where the shared
    parameters outnumber a static layer's (Sec. 3.2)."""
    if min(multiples) < 4:
        raise ValueError(f"tuning.overparam_multiples {list(multiples)}: P must be at least 4 K "
                         "(P >> K, Eq. 7)")
    return sorted({m * rank for m in multiples} | {2 ** math.ceil(math.log2(widest + 1))})


def tower_widths(params: dict, schema: dict, model: str) -> list[int]:
    """Input and hidden widths of a backbone's deep tower under params.yaml's model section."""
    config = ModelConfig.from_params("base", params["model"], params["apg"], params["condition"])
    tower = build_model(model, schema, config).tower
    return [tower.layers[0].in_features, *params["model"]["hidden_units"]]


def tune_rank(params: dict, splits: dict, schema: dict) -> pd.DataFrame:
    """WDL + APG (Table 2's version and condition, `tuning.start`'s learning rate): every K at
    `tuning.start`'s P, then every P of `overparam_grid` at the chosen K (P only exists for
    v5). K is the cheapest within `tuning.tolerance` points of the best validation AUC (a
    larger K costs training time); P, which costs nothing at inference (merged), the best.
    Then the two best (K, P) are trained again on `tuning.second_seed`: how far one seed's
    numbers move is what a one-seed sweep can resolve. `chosen` marks the final (K, P),
    `position` where each choice lies in its grid, `sweep` which sweep a row belongs to."""
    model, variant = params["table4"]["model"], params["table2"]["apg_version"]
    tuning = params["tuning"]
    start, rate = tuning["start"], tuning["start"]["learning_rate"]

    def run(sweep: str, rank: int, overparam: int | None, seed: int | None = None) -> dict:
        apg = {"rank": rank, "overparam": overparam}
        row = {"sweep": sweep, **apg, "seed": seed or tuning["seed"],
               **validation_run(params, splits, schema, model, variant, None, rate, apg, seed)}
        print(row, flush=True)
        return row

    overparam = start["overparam"] if variant == "v5" else None
    if overparam is not None and overparam < 4 * max(tuning["ranks"]):
        raise ValueError(f"tuning.start.overparam = {overparam} is below 4 K for K up to "
                         f"{max(tuning['ranks'])}; P >> K (Eq. 7)")
    rows = [run("K", rank, overparam) for rank in tuning["ranks"]]
    choice = cheapest_within(rows, "rank", tuning["tolerance"])
    position = f"K: {grid_position(tuning['ranks'], choice['rank'])}"
    if variant == "v5":
        grid = overparam_grid(choice["rank"], tuning["overparam_multiples"],
                              max(tower_widths(params, schema, model)))
        p_rows = [run("P", choice["rank"], p) for p in grid if p != overparam]
        candidates = p_rows + ([choice] if overparam in grid else [])
        choice = max(candidates, key=lambda r: r["valid_auc"])
        position += f", P: {grid_position(grid, choice['overparam'])}"
        rows += p_rows
    best_two = sorted(rows, key=lambda r: -r["valid_auc"])[:2]
    rows += [run("second seed", r["rank"], r["overparam"], tuning["second_seed"])
             for r in best_two]
    table = pd.DataFrame(rows)
    table["chosen"] = [r is choice for r in rows]
    table["position"] = [position if r is choice else "" for r in rows]
    return table


def seed_resolution(table: pd.DataFrame) -> pd.DataFrame:
    """From `tune_rank`'s table: the two best (K, P), their validation AUC on the sweep's seed
    (a) and on the second seed (b), and how far each moved. The gap between the two settings
    is resolved by one seed only where it exceeds that movement."""
    key = ["rank", "overparam"]
    second = table.loc[table["sweep"] == "second seed", [*key, "valid_auc"]]
    first = table.loc[table["sweep"] != "second seed", [*key, "valid_auc"]]
    out = first.merge(second, on=key, suffixes=("_seed_a", "_seed_b"))
    out["b_minus_a"] = out["valid_auc_seed_b"] - out["valid_auc_seed_a"]
    return out


def _table_order(params: dict):
    """Sort key: tables in order, backbones in Table 2's order and Table 6's methods after
    them, Base first."""
    models = {m: i for i, m in enumerate([*params["table2"]["models"],
                                          *table6_methods(params)])}
    return lambda column: (column.map(models) if column.name == "model" else
                           column.map(lambda v: "" if v == "base" else v)
                           if column.name == "variant" else
                           column)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apg.tune", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["learning-rate", "condition", "rank"])
    parser.add_argument("--runs", nargs="+", metavar="TABLE/MODEL-VARIANT",
                        help="learning-rate: only these runs, e.g. table2/wdl-base")
    parser.add_argument("--out", default=None,
                        help="write reports/tuning/OUT.csv|md instead (a part of a sweep run "
                             "alongside others; combine the parts into learning_rate.csv and "
                             "finish with --resume)")
    parser.add_argument("--resume", action="store_true",
                        help="learning-rate: reuse the rows already recorded in "
                             "reports/tuning/learning_rate.csv for the same run and rate (only "
                             "when nothing those runs depend on has changed since)")
    args = parser.parse_args(argv)
    root = project_root()
    params = load_params(root)
    processed = root / data_paths(params["data"]["dataset"])["processed"]
    schema = load_schema(processed)
    splits = {name: load_split(processed, name) for name in ("train", "valid")}
    out = root / TUNING_DIR / (args.out or args.what.replace("-", "_"))
    if args.what == "condition":
        table = tune_condition(params, splits, schema)
    elif args.what == "rank":
        table = tune_rank(params, splits, schema)
        write_table(seed_resolution(table), root / TUNING_DIR / "rank_seeds", floatfmt=".4g")
    else:
        runs = [(r.split("/")[0], *r.split("/")[1].rsplit("-", 1)) for r in args.runs or []]
        csv = out.with_suffix(".csv")
        kept = (pd.read_csv(csv).drop(columns=["chosen", "position"], errors="ignore")
                if csv.exists() else None)
        table = tune_learning_rate(params, splits, schema, runs or None,
                                   kept if args.resume else None)
        if runs and kept is not None:
            redone = kept[RUN_KEY].apply(tuple, axis=1).isin(set(runs))
            table = pd.concat([kept[~redone], table]).sort_values(
                [*RUN_KEY, "learning_rate"], key=_table_order(params))
        table = mark_best_rates(table)
        if not args.out:
            write_table(shared_rate_comparison(table), root / TUNING_DIR /
                        "learning_rate_shared", floatfmt=".4g")
    write_table(table, out, floatfmt=".4g")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
