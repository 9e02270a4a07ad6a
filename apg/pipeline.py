"""The pipeline's stage commands (run by dvc.yaml) and the quick / fixture profiles.

    python -m apg.pipeline train TABLE MODEL VARIANT   notebooks/train.ipynb via papermill
                                                 (Table 6: train table6 METHOD SETTING)
    python -m apg.pipeline throughput            notebooks/throughput.ipynb (Table 2's speed)
    python -m apg.pipeline report NAME           notebooks/report_NAME.ipynb (table2, table4,
                                                 table6, figure1, figure6, claims: the
                                                 ledger) via papermill
    python -m apg.pipeline efficiency [--device] notebooks/efficiency.ipynb (Table 5)
    python -m apg.pipeline profile NAME [--dir]  the whole chain in a copy, with a profile
    python -m apg.pipeline record-notebooks [NB] re-record the outputs saved in notebooks/

Every stage reads its knobs from params.yaml; a notebook gets them as papermill parameters and
never reads a hidden default. Executed notebooks are stripped of run-dependent metadata
(timestamps, durations, random cell ids) so re-running a stage only changes real results.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

PARAMS = "params.yaml"


def project_root(start: Path | None = None) -> Path:
    """The folder holding params.yaml: the current one or the nearest above it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS).exists():
            return folder
    raise FileNotFoundError(f"no {PARAMS} in {here} or above; run from inside the apg-kit "
                            "repository")


def load_params(root: Path | None = None) -> dict:
    return yaml.safe_load((project_root(root) / PARAMS).read_text())


def data_paths(dataset: str) -> dict[str, str]:
    """Where the pipeline keeps a data set's files, relative to the project root."""
    return {"raw": f"data/raw/{dataset}", "processed": f"data/processed/{dataset}"}


TABLES = ("table2", "table4", "table6")
TABLE6_BASELINES = ("mmoe", "star")   # the multi-domain models table6.baselines may name


def run_paths(dataset: str, table: str, model: str, variant: str) -> dict[str, str]:
    """Where one training run writes its metrics (DVC metrics), its learning curve (DVC plots),
    its test predictions (a DVC output, not in git) and its executed notebook."""
    name = f"{model}-{variant}"
    return {"metrics": f"metrics/{dataset}/{table}/{name}.json",
            "curve": f"metrics/{dataset}/curves/{table}/{name}.csv",
            "predictions": f"data/predictions/{dataset}/{table}/{name}.parquet",
            "notebook": f"reports/runs/{dataset}/{table}/{name}.ipynb"}


def run_condition(params: dict, table: str) -> dict:
    """The condition of Table 2's or Table 4's APG runs: `condition:`, with `table4.condition`
    merged over it for Table 4 (all versions, v1 included, must afford it;
    docs/decisions.md)."""
    if table not in ("table2", "table4"):
        raise ValueError(f"unknown table {table!r} for a condition; choose table2 or table4 "
                         "(Table 6's runs take theirs from table6.settings, `run_spec`)")
    condition = merge(params["condition"], params[table].get("condition") or {})
    unknown = set(condition) - set(params["condition"])
    if unknown:
        raise ValueError(f"params.yaml `{table}.condition:` has unknown key(s) {sorted(unknown)};"
                         f" its keys are those of `condition:`, {sorted(params['condition'])}")
    return condition


def table6_field(params: dict, setting: str) -> str:
    """The field of a Table 6 setting (`table6.settings`: cg the movie's genre, fg the movie):
    APG's group-wise condition and, for MMoE and STAR, their domain (`apg.domains`)."""
    settings = params["table6"]["settings"]
    if setting not in settings:
        raise ValueError(f"unknown Table 6 setting {setting!r}; table6.settings has "
                         f"{sorted(settings)}")
    return settings[setting]


def table6_methods(params: dict) -> list[str]:
    """Table 6's methods beside its Base row: the multi-domain baselines, then APG."""
    return [*params["table6"]["baselines"], "apg"]


def run_spec(params: dict, table: str, model: str, variant: str) -> dict:
    """What one run of a table trains: the model to build, its tower's variant, its condition
    (None for a Base run with no domain) and its model section.

    Tables 2 and 4 name the backbone and the variant. Table 6 names a method (one of
    `table6.baselines`, or "apg") and a setting (`table6_field`): MMoE and STAR are Base models
    whose domain is the setting's field, with `table6.multidomain` in their model section (and
    no other condition key, none of which they read); "apg" is `table6.model` with APG
    `table6.apg_version`, conditioned group-wise on that field (`condition:` merged under it).
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; choose one of {TABLES}")
    if table != "table6":
        return {"model": model, "variant": variant, "model_section": params["model"],
                "condition": None if variant == "base" else run_condition(params, table)}
    table6, field = params["table6"], table6_field(params, variant)
    unknown = set(table6["baselines"]) - set(TABLE6_BASELINES)
    if unknown:
        raise ValueError(f"table6.baselines: unknown method(s) {sorted(unknown)}; choose from "
                         f"{list(TABLE6_BASELINES)}")
    if model == "apg":
        return {"model": table6["model"], "variant": table6["apg_version"],
                "model_section": params["model"],
                "condition": merge(params["condition"], {"strategy": "group", "fields": [field],
                                                         "aggregation": None})}
    if model not in table6["baselines"]:
        raise ValueError(f"unknown Table 6 method {model!r}; choose one of "
                         f"{[*table6['baselines'], 'apg']}")
    return {"model": model, "variant": "base", "condition": {"strategy": "group",
                                                             "fields": [field]},
            "model_section": {**params["model"], "multidomain": table6["multidomain"]}}


def training_runs(params: dict) -> list[tuple[str, str, str]]:
    """(table, model, variant) of every training run of the pipeline (dvc.yaml's train
    stages): Table 2's backbones as Base and + APG, Table 4's versions (its Base row is Table
    2's Base run), and Table 6's methods in each setting (its Base row is Table 2's too)."""
    runs = [("table2", model, variant) for model in params["table2"]["models"]
            for variant in ("base", params["table2"]["apg_version"])]
    runs += [("table4", params["table4"]["model"], v) for v in params["table4"]["versions"]]
    runs += [("table6", method, setting) for method in table6_methods(params)
             for setting in params["table6"]["settings"]]
    return runs


def check_sections(params: dict) -> None:
    """Refuse a params.yaml whose training sections miss a key or have one nobody reads
    (papermill would pass a misspelt key on silently and the run would use a default)."""
    from dataclasses import fields

    from apg.config import APGConfig, ConditionConfig, ModelConfig, TrainConfig

    model_keys = {f.name for f in fields(ModelConfig)} - {"variant", "apg", "condition",
                                                          "multidomain"}
    expected = {"seeds": None, "model": model_keys,
                "apg": {f.name for f in fields(APGConfig)},
                "condition": {f.name for f in fields(ConditionConfig)},
                "train": {f.name for f in fields(TrainConfig)} - {"learning_rate"}}
    for section, keys in expected.items():
        if section not in params:
            raise ValueError(f"params.yaml has no `{section}:` section")
        if keys is None:
            continue
        given = set(params[section] or {})
        problems = [f"unknown key(s) {sorted(given - keys)}" if given - keys else "",
                    f"missing key(s) {sorted(keys - given)}" if keys - given else ""]
        if any(problems):
            raise ValueError(f"params.yaml `{section}:` has "
                             + " and ".join(p for p in problems if p)
                             + f"; its keys are {sorted(keys)}")


def learning_rate(params: dict, table: str, model: str, variant: str) -> float:
    """The run's own learning rate, `learning_rates.<table>.<model>.<variant>` (each chosen on
    validation by `make tune`; Table 4's Base is Table 2's; Table 6's model is a method and
    its variant a setting)."""
    rates = ((params.get("learning_rates") or {}).get(table) or {}).get(model) or {}
    if variant not in rates:
        raise ValueError(f"params.yaml `learning_rates.{table}.{model}` has no rate for "
                         f"{variant!r}; add one (choose it on validation with `make tune`, "
                         "reports/tuning/learning_rate.md)")
    return rates[variant]


def train_parameters(params: dict, table: str, model: str, variant: str,
                     out: str | None = None) -> dict:
    """The papermill parameters of notebooks/train.ipynb for one (model, variant) run of a
    table (`run_spec`): params.yaml's sections as they are, the run's condition, its learning
    rate in the train section. A Base run gets no APG section, nor a condition unless it is a
    multi-domain baseline's domain: nothing else in them changes it. `out` names the folder
    its files go to (default: the table's)."""
    check_sections(params)
    dataset = params["data"]["dataset"]
    spec = run_spec(params, table, model, variant)
    paths = run_paths(dataset, out or table, model, variant)
    return {
        "dataset": dataset,
        "data_dir": data_paths(dataset)["processed"],
        "model": spec["model"],
        "variant": spec["variant"],
        "seeds": list(params["seeds"]),
        "model_section": spec["model_section"],
        "apg_section": None if spec["variant"] == "base" else params["apg"],
        "condition_section": spec["condition"],
        "train_section": {**params["train"],
                          "learning_rate": learning_rate(params, table, model, variant)},
        "metrics_path": paths["metrics"],
        "curve_path": paths["curve"],
        "predictions_path": paths["predictions"],
    }


def throughput_path(dataset: str) -> str:
    """Where the throughput stage writes its metrics (one file for every timed model)."""
    return f"metrics/{dataset}/throughput.json"


# What of `train:` changes what a timed step costs (the stage's params in dvc.yaml).
THROUGHPUT_TRAIN_KEYS = ("batch_size", "eval_batch_size", "device", "threads")


def throughput_parameters(params: dict) -> dict:
    """The papermill parameters of notebooks/throughput.ipynb: every Table 2 backbone as Base
    and as + APG (Table 2's condition), and Table 4's backbone with APG v4 (Table 4's
    condition; Table 5 sets it beside Base), each built as its training runs build it."""
    from apg.config import ThroughputConfig, throughput_name

    check_sections(params)
    ThroughputConfig(**params["throughput"])         # refuse unknown keys and bad values early
    dataset = params["data"]["dataset"]
    timed = [("table2", model, variant) for model in params["table2"]["models"]
             for variant in ("base", params["table2"]["apg_version"])]
    timed.append(("table4", params["table4"]["model"], "v4"))
    entries = [{"name": throughput_name(table, model, variant), "model": model,
                "variant": variant, "condition": run_condition(params, table)}
               for table, model, variant in timed]
    train = {key: params["train"][key] for key in THROUGHPUT_TRAIN_KEYS}
    return {"dataset": dataset, "data_dir": data_paths(dataset)["processed"],
            "model_section": params["model"], "apg_section": params["apg"],
            "train_section": train, "throughput_section": params["throughput"],
            "entries": entries, "metrics_path": throughput_path(dataset)}


def strip_run_metadata(path: Path, staging: str | None = None) -> None:
    """Remove what changes on every execution: timestamps, durations, random cell ids; and in
    the injected parameters, the `staging` prefix of the paths the notebook wrote to, so they
    name where its files are once it has succeeded."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if staging and "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace(f'"{staging}/', '"')
    nbformat.write(nb, path)


STAGING = ".staging"   # a stage's files until it has succeeded (git- and DVC-ignored)


def ipc_kernel_manager(folder: Path):
    """A jupyter kernel manager class whose kernels listen on local IPC sockets in `folder`
    (TCP ports would make every kernel warn that they are unencrypted)."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(transport="ipc", ip=str(folder / "kernel"), **kwargs)

    return IPCKernelManager


def move_into_place(staged: Path, final: Path) -> None:
    """Move a staged file, or every file under a staged folder, to its final path."""
    files = [staged] if staged.is_file() else sorted(p for p in staged.rglob("*") if p.is_file())
    for file in files:
        target = final / file.relative_to(staged) if file != staged else final
        target.parent.mkdir(parents=True, exist_ok=True)
        file.replace(target)


def run_notebook(source: str, output: str, parameters: dict, root: Path,
                 staged: tuple[str, ...] = ()) -> None:
    """Execute a notebook with papermill from the project root into `output`, stripped of its
    run metadata. Nothing appears at a final path unless the notebook ran through: the
    executed notebook and what it writes to the paths of the parameters named in `staged`
    (files or folders, relative to the root) go to `.staging/<output>/` first and are moved
    into place afterwards; on failure that folder is removed, the error and the failing cell's
    traceback are raised, and the source (which may be `output`) is never touched."""
    import papermill

    staging = Path(STAGING) / Path(output).with_suffix("")
    shutil.rmtree(root / staging, ignore_errors=True)
    finals = {key: parameters[key] for key in staged}
    parameters = {**parameters, **{key: str(staging / path) for key, path in finals.items()}}
    running = root / staging / output
    running.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as sockets:
            papermill.execute_notebook(str(root / source), str(running), parameters=parameters,
                                       kernel_name="python3", cwd=str(root), progress_bar=False,
                                       kernel_manager_class=ipc_kernel_manager(Path(sockets)))
        strip_run_metadata(running, staging.as_posix())
        for path in finals.values():
            move_into_place(root / staging / path, root / path)
        move_into_place(running, root / output)
    finally:
        shutil.rmtree(root / staging, ignore_errors=True)
        for folder in (root / staging).parents:       # and its parents, once empty
            if folder == root or not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()


TRAIN_OUTPUTS = ("metrics_path", "curve_path", "predictions_path")
REPORT_OUTPUTS = ("tables_dir", "figures_dir")


def stage_train(root: Path, params: dict, table: str, model: str, variant: str) -> None:
    parameters = train_parameters(params, table, model, variant)
    notebook = run_paths(params["data"]["dataset"], table, model, variant)["notebook"]
    print(f"{table} {model}-{variant}: {len(parameters['seeds'])} seed(s) on "
          f"{parameters['dataset']}, executing {notebook}", file=sys.stderr, flush=True)
    run_notebook("notebooks/train.ipynb", notebook, parameters, root, staged=TRAIN_OUTPUTS)


def stage_throughput(root: Path, params: dict) -> None:
    run_notebook("notebooks/throughput.ipynb", "reports/throughput.ipynb",
                 throughput_parameters(params), root, staged=("metrics_path",))


REPORT_DIRS = {"tables_dir": "reports/tables", "figures_dir": "reports/figures"}


def base_metrics(params: dict, table: str) -> str:
    """Table 4's and Table 6's Base row is Table 2's Base run of the same backbone: same seeds,
    split, model and learning rate, and a Base run has no condition, so training it twice would
    repeat it."""
    model = params[table]["model"]
    if model not in params["table2"]["models"]:
        raise ValueError(f"{table}.model {model!r} is not among table2.models "
                         f"{params['table2']['models']}; {table} takes its Base row from "
                         "Table 2's runs, so add it there")
    return run_paths(params["data"]["dataset"], "table2", model, "base")["metrics"]


SPEC_KEYS = ("model", "variant", "model_section", "apg_section", "condition_section")


def table6_specs(params: dict) -> dict[str, dict]:
    """How each of Table 6's runs builds its model (`train_parameters`' SPEC_KEYS), Base (Table
    2's run) first: what the report counts the memory of."""
    runs = {"base": ("table2", params["table6"]["model"], "base")}
    runs |= {f"{m}-{s}": ("table6", m, s) for m in table6_methods(params)
             for s in params["table6"]["settings"]}
    return {name: {k: v for k, v in train_parameters(params, *run).items() if k in SPEC_KEYS}
            for name, run in runs.items()}


REPORTS = ("table2", "table4", "table6", "figure1", "figure6", "claims")
TUNING_DIR = "reports/tuning"
ROBUSTNESS_DIR = "reports/robustness"


def report_parameters(params: dict, name: str) -> dict:
    """The papermill parameters of notebooks/report_NAME.ipynb: where its inputs are, the
    table's params (Table 2: its backbones and APG version; Table 4: its backbone and
    versions; Table 6: its methods, settings and how each run builds its model; Figures 1 and
    6: their sections, and for Figure 6 the Table 6 run it retrains) and the `report:`
    section."""
    from apg.config import Figure1Config, Figure6Config, ReportConfig

    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}; choose one of {REPORTS}")
    ReportConfig(**params["report"])                 # refuse unknown keys and bad values early
    dataset = params["data"]["dataset"]
    common = {"dataset": dataset, **REPORT_DIRS, "report_section": params["report"]}
    if name == "figure1":
        Figure1Config(**params["figure1"])
        return {**common, "data_dir": data_paths(dataset)["processed"],
                "figure1_section": params["figure1"]}
    if name == "table6":
        return {**common, "metrics_dir": f"metrics/{dataset}/table6",
                "base_metrics": base_metrics(params, "table6"), "tuning_dir": TUNING_DIR,
                "data_dir": data_paths(dataset)["processed"],
                "methods": table6_methods(params), "settings": params["table6"]["settings"],
                "specs": table6_specs(params)}
    if name == "figure6":
        Figure6Config(**params["figure6"])
        setting = params["figure6"]["setting"]
        return {**common, "data_dir": data_paths(dataset)["processed"],
                "figure6_section": params["figure6"],
                "field": table6_field(params, setting),
                "run": train_parameters(params, "table6", "apg", setting)}
    if name == "claims":
        return {**common, "inputs_dir": REPORT_DIRS["tables_dir"], "robustness_dir": ROBUSTNESS_DIR}
    inputs = {"metrics_dir": f"metrics/{dataset}/{name}", "tuning_dir": TUNING_DIR}
    if name == "table4":
        return {**common, **inputs, "base_metrics": base_metrics(params, "table4"),
                "model": params["table4"]["model"], "versions": params["table4"]["versions"]}
    return {**common, **inputs, "throughput_metrics": throughput_path(dataset),
            "robustness_dir": ROBUSTNESS_DIR,
            "predictions_dir": f"data/predictions/{dataset}/table2",
            "data_dir": data_paths(dataset)["processed"],
            "models": params["table2"]["models"], "apg_version": params["table2"]["apg_version"]}


def stage_report(root: Path, params: dict, name: str) -> None:
    parameters = report_parameters(params, name)
    run_notebook(f"notebooks/report_{name}.ipynb", f"reports/{name}.ipynb", parameters, root,
                 staged=REPORT_OUTPUTS)


def efficiency_parameters(params: dict, **overrides) -> dict:
    """The papermill parameters of notebooks/efficiency.ipynb: the `efficiency:` section with
    the given keys overridden (those not None). Table 5 times synthetic inputs: nothing from
    training."""
    from apg.config import EfficiencyConfig

    section = {**params["efficiency"], **{k: v for k, v in overrides.items() if v is not None}}
    EfficiencyConfig(**section)                      # refuse unknown keys and bad values early
    return {**section, **REPORT_DIRS}


def efficiency_suffix(device: str, cuda_graphs: bool) -> str:
    """What Table 5's files of one regime end with: "" on the CPU (the pipeline's stage),
    "_cuda" on a GPU, "_cuda_graphs" on a GPU with CUDA graphs."""
    return ("_cuda" if device.startswith("cuda") else "") + ("_graphs" if cuda_graphs else "")


def stage_efficiency(root: Path, params: dict, **overrides) -> None:
    """Table 5 on CPU (the pipeline's stage) or, with device="cuda", on a GPU (and with
    cuda_graphs, batch_size, in the regime where launches do not bound the time)."""
    parameters = efficiency_parameters(params, **overrides)
    suffix = efficiency_suffix(parameters["device"], parameters["cuda_graphs"])
    run_notebook("notebooks/efficiency.ipynb", f"reports/efficiency{suffix}.ipynb",
                 parameters, root, staged=REPORT_OUTPUTS)


def merge(base: dict, override: dict) -> dict:
    """params with a profile's overrides applied (nested dicts merged, everything else replaced)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def run_profile(name: str, target: Path, root: Path | None = None) -> Path:
    """Run the whole pipeline with a profile of params.yaml in a copy of the project.

    The committed reference reports stay untouched: the copy gets the project's files (not its
    data, environments or caches), params.yaml with `profiles.<name>` merged in, and runs
    `dvc repro` there. Raw downloads come from the shared download cache.
    """
    root = project_root(root)
    params = load_params(root)
    profiles = params.get("profiles", {})
    if name not in profiles:
        raise SystemExit(f"unknown profile {name!r}; params.yaml defines {sorted(profiles)}")
    return run_copy(root, target, merge(params, profiles[name]))


def copy_project(root: Path, target: Path, params: dict) -> Path:
    """A fresh copy of the project at `target` (returned) with `params` as its params.yaml
    (keeping the project's `profiles:`): the project's files but not its data, results,
    environments or caches, plus the inputs of the reports that no stage writes (the tuning
    and robustness tables); DVC there runs without git."""
    target = target.resolve()
    if target.exists():
        shutil.rmtree(target)
    skip = {root: {".git", ".venv", "data", "metrics", "reports", "dvc.lock", ".profiles",
                   STAGING},
            root / ".dvc": {"cache", "tmp"}}

    def ignore(folder, names):
        return [n for n in names if n in skip.get(Path(folder), ())
                or n in ("__pycache__", ".ipynb_checkpoints") or n.endswith(".egg-info")]

    shutil.copytree(root, target, ignore=ignore)
    for kept in (TUNING_DIR, ROBUSTNESS_DIR):    # inputs of the reports, not results of a run
        shutil.copytree(root / kept, target / kept)
    profiles = load_params(root).get("profiles", {})
    (target / PARAMS).write_text(yaml.safe_dump(
        {**{k: v for k, v in params.items() if k != "profiles"}, "profiles": profiles},
        sort_keys=False))
    _dvc(target, "config", "--local", "core.no_scm", "true")
    return target


def _dvc(cwd: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=env, check=True)


def run_copy(root: Path, target: Path | None, params: dict, stages: list[str] | None = None,
             before=None) -> Path:
    """`dvc repro` (of `stages`, default all) with `params` as params.yaml, in a fresh copy of
    the project at `target` (`copy_project`; returned), or in the project itself when target
    is None. `before(copy)`, if given, runs before `dvc repro` (e.g. to place raw files)."""
    if target is None:
        _dvc(root, "repro", *(stages or []))
        return root
    target = copy_project(root, target, params)
    if before:
        before(target)
    _dvc(target, "repro", *(stages or []))
    return target


def record_notebooks(root: Path, notebooks: list[str] | None = None) -> None:
    """Re-record what `pytest --nbval` compares: notebooks run in place with their own default
    parameters. With no names given: every notebook in notebooks/, after refreshing the
    fixture metrics and test predictions that the report notebooks read by default (a
    fixture-profile run of the pipeline, in a copy, `apg.parallel`'s runs of it on the CPU,
    and the paper profile's on the fixtures of all three data sets). Note that train.ipynb is a dependency of the training stages:
    re-recording it makes `dvc repro` train again."""
    if not notebooks:
        import pandas as pd

        fixture = run_profile("fixture", root / ".profiles" / "fixture", root)
        subprocess.run([sys.executable, "-m", "apg.parallel", "train", "--device", "cpu",
                        "--workers", "2"], cwd=fixture, check=True)   # the device report's
        fixtures = root / "notebooks" / "fixtures"
        for kind in ("metrics", "predictions"):
            if (fixtures / kind).exists():
                shutil.rmtree(fixtures / kind)
        shutil.copytree(fixture / "metrics", fixtures / "metrics",    # what the reports read
                        ignore=shutil.ignore_patterns(".gitignore"))
        predictions = fixtures / "predictions" / "fixture" / "table2"
        predictions.mkdir(parents=True)
        for saved in sorted((fixture / "data" / "predictions" / "fixture" / "table2").glob("*.parquet")):
            pd.read_parquet(saved).to_csv(predictions / f"{saved.stem}.csv", index=False)   # text in git
        subprocess.run([sys.executable, "-m", "apg.paper_profile", "--record-fixture",
                        str(fixtures / "paper")], cwd=root, check=True)   # report_paper's
        notebooks = [str(p.relative_to(root)) for p in sorted((root / "notebooks").glob("*.ipynb"))]
    for notebook in notebooks:
        run_notebook(notebook, notebook, {}, root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apg.pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("table", choices=TABLES)
    train.add_argument("model")
    train.add_argument("variant")
    report = sub.add_parser("report")
    report.add_argument("name")
    profile = sub.add_parser("profile")
    profile.add_argument("name")
    profile.add_argument("--dir", type=Path, default=None,
                         help="where to put the copy (default: .profiles/NAME)")
    sub.add_parser("throughput")
    efficiency = sub.add_parser("efficiency")
    efficiency.add_argument("--device", choices=["cpu", "cuda"], default=None,
                            help="override efficiency.device (cuda: the GPU table)")
    efficiency.add_argument("--cuda-graphs", action="store_true", default=None,
                            help="override efficiency.cuda_graphs (each tower one graph)")
    efficiency.add_argument("--batch-size", type=int, default=None,
                            help="override efficiency.batch_size")
    record = sub.add_parser("record-notebooks")
    record.add_argument("notebooks", nargs="*", help="paths from the project root (default: all)")
    args = parser.parse_args(argv)
    root = project_root()
    if args.command == "profile":
        target = run_profile(args.name, args.dir or root / ".profiles" / args.name, root)
        print(f"profile {args.name!r} done: reports under {target / 'reports'}")
        return
    if args.command == "record-notebooks":
        record_notebooks(root, args.notebooks)
        return
    params = load_params(root)
    if args.command == "train":
        stage_train(root, params, args.table, args.model, args.variant)
    elif args.command == "throughput":
        stage_throughput(root, params)
    elif args.command == "efficiency":
        stage_efficiency(root, params, device=args.device, cuda_graphs=args.cuda_graphs,
                         batch_size=args.batch_size)
    else:
        stage_report(root, params, args.name)


if __name__ == "__main__":
    main()
