"""The paper profile (`make paper`): Tables 2, 4 and 6, Figure 6 and the claims ledger on each of
the paper's data sets whose raw files are present, side by side in `reports/paper.ipynb`.

Each data set runs the whole pipeline with its own overrides of params.yaml (`paper.datasets`:
its name, Table 6's settings, which reports apply to it). The data set the project's own
params.yaml runs, with no overrides, is the project's own `dvc repro`; every other one runs in
a copy of the project under `.profiles/paper/<dataset>` (`pipeline.run_copy`) with its raw
files hard-linked in. MovieLens is downloaded by the pipeline; Amazon and IAAC run only when
their files are in `data/raw/<dataset>/` (`python -m apg.data download amazon` fetches
Amazon's; IAAC's need a Tianchi account): a data set without them is reported as not run, with
what to do. Learning rates, K and P are the ones `make tune` chose on MovieLens unless
`paper.datasets.<dataset>` sets its own (the report says so).
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pandas as pd

from apg.data import FIXTURE, get_dataset
from apg.pipeline import (REPORT_DIRS, ROBUSTNESS_DIR, copy_project, data_paths, load_params,
                          merge, project_root, run_copy, run_notebook)

PAPER_DIR = "reports/paper"     # each data set's tables and figures, copied from its run


def dataset_params(params: dict, dataset: str, profile: str | None = None) -> dict:
    """params.yaml for one data set of the paper profile: `profiles.<profile>` (if given), then
    `paper.datasets.<dataset>.overrides` merged over it."""
    datasets = params["paper"]["datasets"]
    if dataset not in datasets:
        raise ValueError(f"unknown data set {dataset!r} for the paper profile; "
                         f"paper.datasets has {sorted(datasets)}")
    base = merge(params, params["profiles"][profile]) if profile else params
    return merge(base, datasets[dataset]["overrides"] or {})


def missing_files(root: Path, dataset: str) -> str | None:
    """None when the project's raw folder of `dataset` holds the files of one of its sources,
    or when the pipeline makes or downloads them itself (the fixture, MovieLens); else what is
    missing and where to get it."""
    if dataset == FIXTURE or dataset.startswith("movielens"):
        return None
    spec, raw = get_dataset(dataset), data_paths(dataset)["raw"]
    if any(all((root / raw / name).is_file() for name in source.files)
           for source in spec.sources):
        return None
    wanted = " or ".join(", ".join(source.files) for source in spec.sources)
    return f"no raw files: put {wanted} into {raw}/ (from {spec.sources[0].url}; docs/data.md)"


def link_raw(source: Path, target: Path) -> None:
    """A data set's raw files into a copy of the project: hard links (no second copy of a
    large file, and the copy's stages cannot alter the user's files through them), or copies
    across file systems."""
    target.mkdir(parents=True, exist_ok=True)
    for file in sorted(p for p in source.iterdir() if p.is_file()):
        try:
            os.link(file, target / file.name)
        except OSError:
            shutil.copy2(file, target / file.name)


def run_dataset(root: Path, params: dict, dataset: str, profile: str | None) -> Path:
    """Run the pipeline for one data set; returns the project folder its reports are in: the
    project itself when its params.yaml already is that data set's, else a copy under
    `.profiles/paper/<dataset>` running only the data set's reports (and what they need)."""
    settings = dataset_params(params, dataset, profile)
    if settings == params:
        return run_copy(root, None, params)
    raw = data_paths(settings["data"]["dataset"])["raw"]

    def place_raw(copy: Path) -> None:
        if (root / raw).is_dir() and settings["data"]["dataset"] != FIXTURE:
            link_raw(root / raw, copy / raw)

    stages = [f"report_{name}" for name in params["paper"]["datasets"][dataset]["reports"]]
    return run_copy(root, root / ".profiles" / "paper" / dataset, settings, stages, place_raw)


def run_paper(root: Path, params: dict, profile: str | None = None,
              log=print) -> dict[str, dict]:
    """Every data set of `paper.datasets` whose files are present (`missing_files`), its
    tables and Figure 6 copied to reports/paper/<dataset>/, then reports/paper.ipynb over
    them. Returns each data set's status: where its tables are, or why it was not run."""
    status = {}
    for dataset in params["paper"]["datasets"]:
        name = dataset_params(params, dataset, profile)["data"]["dataset"]
        missing = missing_files(root, name)
        if missing:
            log(f"paper profile: {dataset} not run: {missing}")
            status[dataset] = {"run": False, "reason": missing}
            continue
        log(f"paper profile: {dataset}")
        folder = run_dataset(root, params, dataset, profile)
        copied = root / PAPER_DIR / dataset
        shutil.rmtree(copied, ignore_errors=True)
        shutil.copytree(folder / REPORT_DIRS["tables_dir"], copied / "tables")
        (copied / "figures").mkdir()
        shutil.copy2(folder / REPORT_DIRS["figures_dir"] / "figure6.png", copied / "figures")
        status[dataset] = {"run": True, "dir": str(copied.relative_to(root))}
    overrides = {d: s["overrides"] or {} for d, s in params["paper"]["datasets"].items()}
    parameters = {"datasets": status, "overrides": overrides,
                  "alpha": params["report"]["alpha"], "robustness_dir": ROBUSTNESS_DIR,
                  **REPORT_DIRS}
    run_notebook("notebooks/report_paper.ipynb", "reports/paper.ipynb", parameters, root,
                 staged=("tables_dir", "figures_dir"))
    return status


# -- the combined report (notebooks/report_paper.ipynb) -----------------------------------------
TABLE_VIEWS = {     # each table's rows, and the columns shown per data set
    "table2": (["model", "variant"], ["auc_mean", "auc_std", "delta", "p_value", "paper_auc",
                                      "paper_delta"]),
    "table4": (["version"], ["auc_mean", "auc_std", "delta_vs_base", "p_value", "paper_auc",
                             "paper_delta_vs_base"]),
    "table6": (["method", "setting"], ["auc_mean", "delta_vs_base", "p_value", "memory_mb",
                                       "paper_auc", "paper_memory"]),
}


def read_tables(folders: dict[str, str | None], name: str) -> dict[str, pd.DataFrame]:
    """Table `name` (its CSV) of each data set that was run (`folders`: data set -> the folder
    holding its tables/, None when not run)."""
    return {dataset: pd.read_csv(Path(folder) / "tables" / f"{name}.csv")
            for dataset, folder in folders.items()
            if folder and (Path(folder) / "tables" / f"{name}.csv").is_file()}


def side_by_side(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """One table of the paper with a column block per data set: `TABLE_VIEWS[name]`'s columns,
    named "<data set>: <column>", rows in the first data set's order."""
    keys, columns = TABLE_VIEWS[name]
    blocks = [table.set_index(keys)[columns].add_prefix(f"{dataset}: ")
              for dataset, table in tables.items()]
    if not blocks:
        return pd.DataFrame(columns=keys)
    return pd.concat(blocks, axis=1).reset_index()


def ledgers(folders: dict[str, str | None], reasons: dict[str, str], alpha: float,
            robustness_dir: Path) -> pd.DataFrame:
    """The claims that depend on the data set (Tables 2, 4 and 6, Figures 1 and 6), a verdict
    and our number per data set, each from that data set's own tables and the paper's numbers
    for it (`claims.ledger`); "not yet run" with the reason where it was not run. Rows are the
    claims in the paper's order, worded as for the first data set."""
    from apg import claims

    blocks = {}
    for dataset, folder in folders.items():
        tables = (claims.load_tables(Path(folder) / "tables", robustness_dir, dataset)
                  if folder else {})
        ledger = claims.ledger(tables, alpha, dataset)
        if not folder:
            ledger = ledger.assign(verdict=claims.NOT_RUN, ours=reasons[dataset])
        blocks[dataset] = ledger
    first = next(iter(blocks.values()))
    kept = ~first["evidence"].str.contains("table5|make paper|not public|production system")
    columns = [block.loc[kept, ["verdict", "ours"]].add_prefix(f"{dataset}: ")
               for dataset, block in blocks.items()]
    return pd.concat([first.loc[kept, ["where", "claim"]], *columns], axis=1).reset_index(
        drop=True)


def run_paper_fixture(root: Path, target: Path) -> tuple[Path, dict[str, dict]]:
    """The paper profile with the fixture profile in a copy of the project at `target`, the
    Amazon and IAAC fixtures (their real file formats) placed as their raw files: the tests'
    end-to-end run and what reports/paper.ipynb reads by default. Returns the copy and the
    data sets' status."""
    from apg.data.amazon_fixture import write_amazon_files
    from apg.data.iaac_fixture import write_iaac_fixture

    copy = copy_project(root, target, load_params(root))
    write_amazon_files(copy / data_paths("amazon")["raw"], n_users=300, n_items=200)
    write_iaac_fixture(copy / data_paths("iaac")["raw"], rows=3000)
    return copy, run_paper(copy, load_params(copy), profile="fixture", log=lambda _: None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apg.paper_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=None,
                        help="a profile of params.yaml under each data set's overrides "
                             "(the tests use fixture)")
    parser.add_argument("--record-fixture", type=Path, default=None, metavar="DIR",
                        help="instead: run `run_paper_fixture` and copy each data set's "
                             "tables and Figure 6 to DIR (what notebooks/report_paper.ipynb "
                             "reads by default; `python -m apg.pipeline record-notebooks`)")
    args = parser.parse_args(argv)
    root = project_root()
    if args.record_fixture:
        copy, _ = run_paper_fixture(root, root / ".profiles" / "paper-fixture")
        shutil.rmtree(args.record_fixture, ignore_errors=True)
        shutil.copytree(copy / PAPER_DIR, args.record_fixture)
        return
    run_paper(root, load_params(root), args.profile)


if __name__ == "__main__":
    main()
