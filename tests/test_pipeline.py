"""The pipeline glue: params reach the notebooks, executed notebooks are stripped, and the whole
chain runs end to end (fixture profile, in a temporary copy of the project)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from papermill.inspection import _infer_parameters

from apg.pipeline import (efficiency_parameters, load_params, merge, project_root,
                          report_parameters, run_profile, strip_run_metadata,
                          throughput_parameters, train_parameters)

ROOT = Path(__file__).resolve().parents[1]


def notebook_parameters(name):
    return {p.name for p in _infer_parameters(nbformat.read(ROOT / "notebooks" / name, 4))}


def test_params_yaml_sets_every_parameter_of_the_training_notebook():
    """No hidden defaults: the pipeline passes every parameter train.ipynb has, and no other."""
    passed = train_parameters(load_params(ROOT), "table2", "wdl", "v5")
    assert set(passed) == notebook_parameters("train.ipynb")


@pytest.mark.parametrize("name", ["table2", "table4", "table6", "figure1", "figure6", "claims"])
def test_report_stage_sets_every_parameter_of_the_report_notebook(name):
    passed = report_parameters(load_params(ROOT), name)
    assert set(passed) == notebook_parameters(f"report_{name}.ipynb")


def test_efficiency_stage_sets_every_parameter_of_its_notebook():
    passed = efficiency_parameters(load_params(ROOT))
    assert set(passed) == notebook_parameters("efficiency.ipynb")
    assert not any("throughput" in key for key in passed)     # nothing from training
    assert efficiency_parameters(load_params(ROOT), device="cuda")["device"] == "cuda"


def test_a_base_run_gets_no_apg_or_condition_section_and_its_own_rate():
    params = load_params(ROOT)
    params["learning_rates"]["table2"]["deepfm"] = {"base": 0.25, "v5": 0.125}
    base = train_parameters(params, "table2", "deepfm", "base")
    apg = train_parameters(params, "table2", "deepfm", "v5")
    assert base["apg_section"] is None and base["condition_section"] is None
    assert apg["apg_section"] == params["apg"] and apg["condition_section"] == params["condition"]
    assert (base["train_section"]["learning_rate"], apg["train_section"]["learning_rate"]) == (
        0.25, 0.125)
    assert base["predictions_path"] == "data/predictions/movielens-1m/table2/deepfm-base.parquet"
    assert base["curve_path"] == "metrics/movielens-1m/curves/table2/deepfm-base.csv"


def test_table6_runs_take_their_domain_from_the_setting():
    """MMoE and STAR: Base models whose only condition key is the setting's field, with the
    multi-domain settings in their model section; APG: table6.model + APG with the group-wise
    condition on that field, merged over `condition:`; each run its own rate."""
    params = load_params(ROOT)
    params["learning_rates"]["table6"]["star"]["fg"] = 0.125
    star = train_parameters(params, "table6", "star", "fg")
    assert (star["model"], star["variant"], star["apg_section"]) == ("star", "base", None)
    assert star["condition_section"] == {"strategy": "group", "fields": ["item_id"]}
    assert star["model_section"] == {**params["model"],
                                     "multidomain": params["table6"]["multidomain"]}
    assert star["train_section"]["learning_rate"] == 0.125
    assert star["metrics_path"] == "metrics/movielens-1m/table6/star-fg.json"
    apg = train_parameters(params, "table6", "apg", "cg")
    assert (apg["model"], apg["variant"]) == ("wdl", params["table6"]["apg_version"])
    assert apg["condition_section"] == {**params["condition"], "strategy": "group",
                                        "fields": ["genres"], "aggregation": None}
    assert apg["model_section"] == params["model"] and apg["apg_section"] == params["apg"]
    with pytest.raises(ValueError, match="unknown Table 6 setting 'xg'"):
        train_parameters(params, "table6", "apg", "xg")
    with pytest.raises(ValueError, match="unknown Table 6 method 'dcn'"):
        train_parameters(params, "table6", "dcn", "cg")
    params["table6"]["baselines"] = ["mmoe", "ple"]
    with pytest.raises(ValueError, match=r"table6.baselines: unknown method\(s\) \['ple'\]"):
        train_parameters(params, "table6", "mmoe", "cg")


def test_table6_and_figure6_reports_build_every_run_as_it_trains():
    params = load_params(ROOT)
    table6 = report_parameters(params, "table6")
    assert list(table6["specs"]) == ["base", "mmoe-cg", "mmoe-fg", "star-cg", "star-fg",
                                     "apg-cg", "apg-fg"]
    assert table6["specs"]["base"]["condition_section"] is None
    assert table6["base_metrics"] == "metrics/movielens-1m/table2/wdl-base.json"
    figure6 = report_parameters(params, "figure6")
    assert figure6["run"] == train_parameters(params, "table6", "apg",
                                              params["figure6"]["setting"])
    assert figure6["field"] == params["table6"]["settings"][params["figure6"]["setting"]]


def test_throughput_stage_times_every_table2_model_and_apg_wdl_v4():
    """Each model built as its training run builds it: Table 2's condition for Table 2, Table
    4's merged over it for APG-WDL v4; the notebook gets every parameter it has, and no other."""
    params = load_params(ROOT)
    params["condition"].update(strategy="self", fields=[])
    params["table4"]["condition"] = {"strategy": "group", "fields": ["user_id"]}
    passed = throughput_parameters(params)
    assert set(passed) == notebook_parameters("throughput.ipynb")
    models, version = params["table2"]["models"], params["table2"]["apg_version"]
    assert [e["name"] for e in passed["entries"]] == [
        *(f"table2/{m}-{v}" for m in models for v in ("base", version)), "table4/wdl-v4"]
    conditions = {e["name"]: e["condition"] for e in passed["entries"]}
    assert conditions["table2/dcn-v5"]["strategy"] == "self"
    assert (conditions["table4/wdl-v4"]["strategy"],
            conditions["table4/wdl-v4"]["fields"]) == ("group", ["user_id"])
    assert passed["throughput_section"] == params["throughput"]
    assert set(passed["train_section"]) == {"batch_size", "eval_batch_size", "device", "threads"}
    assert passed["metrics_path"] == "metrics/movielens-1m/throughput.json"
    params["throughput"]["round"] = 3
    with pytest.raises(TypeError, match="round"):
        throughput_parameters(params)


def test_efficiency_stage_refuses_an_unknown_key():
    params = load_params(ROOT)
    params["efficiency"]["repeat"] = 3
    with pytest.raises(TypeError, match="repeat"):
        efficiency_parameters(params)


def test_table4_takes_its_base_row_from_table2():
    params = load_params(ROOT)
    assert report_parameters(params, "table4")["base_metrics"] == (
        f"metrics/{params['data']['dataset']}/table2/wdl-base.json")
    params["table2"]["models"] = ["dcn"]
    with pytest.raises(ValueError, match="table4.model 'wdl' is not among table2.models"):
        report_parameters(params, "table4")


def test_table4_runs_merge_their_own_condition_over_the_shared_one():
    params = load_params(ROOT)
    params["condition"].update(strategy="self", fields=[])
    params["table4"]["condition"] = {"strategy": "group", "fields": ["user_id"]}
    params["learning_rates"]["table2"]["wdl"]["v1"] = 0.001
    table4 = train_parameters(params, "table4", "wdl", "v1")
    table2 = train_parameters(params, "table2", "wdl", "v1")
    assert (table4["condition_section"]["strategy"],
            table4["condition_section"]["fields"]) == ("group", ["user_id"])
    assert (table2["condition_section"]["strategy"],
            table2["condition_section"]["fields"]) == ("self", [])
    assert table4["metrics_path"].endswith("/table4/wdl-v1.json")
    assert table2["metrics_path"].endswith("/table2/wdl-v1.json")
    params["table4"]["condition"] = {"stratgy": "group"}
    with pytest.raises(ValueError, match=r"`table4.condition:` has unknown key\(s\) \['stratgy'\]"):
        train_parameters(params, "table4", "wdl", "v1")
    with pytest.raises(ValueError, match="unknown table 'table9'"):
        train_parameters(params, "table9", "wdl", "v1")


def test_each_run_gets_its_own_learning_rate():
    params = load_params(ROOT)
    params["learning_rates"]["table4"]["wdl"]["v5"] = 0.5
    assert train_parameters(params, "table4", "wdl", "v5")["train_section"]["learning_rate"] == 0.5
    del params["learning_rates"]["table2"]["dcn"]["base"]
    with pytest.raises(ValueError, match=r"`learning_rates.table2.dcn` has no rate for 'base'"
                                         r".*make tune"):
        train_parameters(params, "table2", "dcn", "base")


@pytest.mark.parametrize("section,change,message", [
    ("train", {"lerning_rate": 0.1}, r"unknown key\(s\) \['lerning_rate'\]"),
    ("apg", {"rank": None}, None),
    ("model", {"width": 3}, r"`model:` has unknown key\(s\) \['width'\]"),
])
def test_misspelt_or_missing_params_are_refused(section, change, message):
    params = load_params(ROOT)
    if message is None:                       # a missing key
        del params[section]["rank"]
        message = r"`apg:` has missing key\(s\) \['rank'\]"
    else:
        params[section].update(change)
    with pytest.raises(ValueError, match=message):
        train_parameters(params, "table2", "wdl", "v5")


def test_profiles_override_only_what_they_name():
    params = {"seeds": [1, 2, 3], "data": {"dataset": "movielens-1m", "split_seed": 7}}
    quick = merge(params, {"seeds": [1], "data": {"dataset": "movielens-100k"}})
    assert quick == {"seeds": [1], "data": {"dataset": "movielens-100k", "split_seed": 7}}
    assert params["data"]["dataset"] == "movielens-1m"


def test_project_root_is_found_from_a_subfolder():
    assert project_root(ROOT / "notebooks") == ROOT


def test_strip_run_metadata_removes_timestamps_and_random_ids(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00", "duration": 3.2}
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.metadata["papermill"] = {"duration": 0.1}
    cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00"}
    nb.cells = [cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    strip_run_metadata(path)
    once = path.read_text()
    stripped = nbformat.read(path, 4)
    assert "papermill" not in stripped.metadata
    assert stripped.cells[0].metadata == {} and stripped.cells[0].id == "cell-0"
    strip_run_metadata(path)
    assert path.read_text() == once


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    """The whole pipeline (download -> preprocess -> train matrix -> report) on the fixture."""
    return run_profile("fixture", tmp_path_factory.mktemp("e2e") / "kit", ROOT)


def test_end_to_end_pipeline_writes_table2(fixture_run):
    table = pd.read_csv(fixture_run / "reports" / "tables" / "table2.csv")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    models = params["table2"]["models"]
    assert list(table["model"]) == [m for m in models for _ in range(2)]
    assert list(table["variant"]) == ["base", "apg"] * len(models)
    required = {"dataset", "model", "variant", "auc_mean", "auc_std", "n_seeds", "delta",
                "paper_auc", "paper_delta"}
    assert required <= set(table.columns)
    assert (table["n_seeds"] == len(params["profiles"]["fixture"]["seeds"])).all()
    assert table["auc_mean"].between(55, 100).all()
    assert table.loc[table["variant"] == "base", "delta"].eq(0).all()
    throughput = pd.read_csv(fixture_run / "reports" / "tables" / "table2_throughput.csv")
    assert list(throughput["model"]) == models
    speeds = ["train_base", "train_apg", "apg_over_base", "infer_base", "train_base_in_runs",
              "train_apg_in_runs"]
    assert (throughput[speeds] > 0).all().all()
    timed = json.loads((fixture_run / "metrics" / "fixture" / "throughput.json").read_text())
    rounds = params["profiles"]["fixture"]["throughput"]["rounds"]
    assert len(timed["models"]) == 2 * len(models) + 1
    assert all(len(m["train_rounds"]) == rounds for m in timed["models"].values())
    assert (fixture_run / "reports" / "figures" / "table2.png").stat().st_size > 10_000
    report = (fixture_run / "reports" / "table2.ipynb").read_text()
    assert "SUMMARY" in report and "start_time" not in report


def test_end_to_end_pipeline_writes_table4(fixture_run):
    table = pd.read_csv(fixture_run / "reports" / "tables" / "table4.csv")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert list(table["version"]) == ["base", *params["table4"]["versions"]]
    required = {"dataset", "version", "auc_mean", "auc_std", "n_seeds", "delta_vs_base",
                "paper_auc", "paper_delta_vs_base"}
    assert required <= set(table.columns)
    assert (table["n_seeds"] == len(params["profiles"]["fixture"]["seeds"])).all()
    assert table["auc_mean"].between(55, 100).all()          # AUC in %, above chance
    assert table.loc[table["version"] == "v5", "paper_auc"].item() == 79.73
    assert table.loc[table["version"] == "v3", "paper_auc"].item() == 79.49   # v2's row
    assert (fixture_run / "reports" / "figures" / "table4.png").stat().st_size > 10_000
    report = (fixture_run / "reports" / "table4.ipynb").read_text()
    assert "HOLDS" in report and "start_time" not in report


def test_end_to_end_pipeline_writes_table5(fixture_run):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    profile = merge(params["efficiency"], params["profiles"]["fixture"]["efficiency"])
    tables = fixture_run / "reports" / "tables"
    table = pd.read_csv(tables / "table5.csv")
    assert len(table) == len(profile["scales"]) * len(profile["versions"])
    assert set(table["version"]) == set(profile["versions"])
    assert (table["time_s"] > 0).all() and (table["memory_mb"] > 0).all()
    assert table["device"].eq("cpu (1 thread)").all()
    targets = pd.read_csv(tables / "table5_targets.csv")
    assert not targets["target"].str.contains("training").any()   # Table 5 measures inference
    assert (tables / "table5_layer.csv").exists()
    assert (fixture_run / "reports" / "figures" / "table5.png").stat().st_size > 10_000
    assert "start_time" not in (fixture_run / "reports" / "efficiency.ipynb").read_text()


def test_end_to_end_pipeline_writes_the_ledger_curves_budgets_and_buckets(fixture_run):
    tables = fixture_run / "reports" / "tables"
    ledger = pd.read_csv(tables / "claims.csv")
    assert {"where", "claim", "paper", "ours", "evidence", "verdict"} <= set(ledger.columns)
    assert ledger["verdict"].isin(["reproduces", "partly", "does not reproduce",
                                   "not testable here", "not yet run"]).all()
    tested = ledger[ledger["evidence"] == "reports/tables/table2.csv; reports/robustness/"]
    assert len(tested) == 7 and (tested["ours"].str.contains("2 seeds")).all()
    assert "0.39" in pd.read_csv(tables / "paper_inconsistencies.csv")["printed"].astype(str).tolist()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    models = params["table2"]["models"]
    budgets = pd.read_csv(tables / "table2_budgets.csv")
    assert list(budgets["budget"].unique()) == [*map(str, params["report"]["epoch_budgets"]),
                                                "best"]
    buckets = pd.read_csv(tables / "table2_buckets.csv")
    assert set(buckets["field"]) == set(params["report"]["frequency_fields"])
    assert set(buckets["model"]) == set(models)
    figure1 = pd.read_csv(tables / "figure1.csv")
    assert list(figure1["panel"]) == ["ctr", "ctr_matched", params["figure1"]["attribute"]]
    assert figure1["ks_d"].between(0, 1).all() and (figure1["dataset"] == "fixture").all()
    assert (fixture_run / "reports" / "figures" / "figure1.png").stat().st_size > 10_000
    row = ledger[ledger["evidence"] == "reports/tables/figure1.csv"]
    assert len(row) == 1 and row["verdict"].item() != "not yet run"
    curve = pd.read_csv(fixture_run / "metrics" / "fixture" / "curves" / "table2" / "wdl-base.csv")
    assert list(curve.columns) == ["epoch", "valid_auc", "valid_auc_min", "valid_auc_max",
                                   "n_seeds"]
    predictions = pd.read_parquet(fixture_run / "data" / "predictions" / "fixture" / "table2"
                                  / "wdl-v5.parquet")
    assert list(predictions.columns) == ["seed_1", "seed_2"]
    assert predictions.stack().between(0, 1).all()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    shown = json.loads(subprocess.run([sys.executable, "-m", "dvc", "plots", "show", "--json"],
                                      cwd=fixture_run, env=env, capture_output=True, text=True,
                                      check=True).stdout)
    assert "Table 2, WDL" in shown["data"]
    assert len(shown["data"]["Table 2, WDL"][0]["content"]["data"]["values"]) > 0


def test_end_to_end_pipeline_writes_table6_figure6_and_their_ledger_rows(fixture_run):
    tables = fixture_run / "reports" / "tables"
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    table = pd.read_csv(tables / "table6.csv", keep_default_na=False)
    assert list(zip(table["method"], table["setting"])) == [
        ("base", "-"), ("mmoe", "cg"), ("star", "cg"), ("apg", "cg"), ("mmoe", "fg"),
        ("star", "fg"), ("apg", "fg")]
    required = {"dataset", "method", "setting", "auc_mean", "auc_std", "n_seeds",
                "delta_vs_base", "p_value", "memory_mb", "n_params", "paper_auc",
                "paper_memory"}
    assert required <= set(table.columns)
    assert (table["n_seeds"] == len(params["profiles"]["fixture"]["seeds"])).all()
    assert table["auc_mean"].between(55, 100).all()
    memory = table.set_index(["method", "setting"])["memory_mb"]
    for setting in ("cg", "fg"):       # per-domain copies cost more than shared generators
        assert memory[("apg", setting)] < memory[("mmoe", setting)] < memory[("star", setting)]
    assert memory[("star", "fg")] > memory[("star", "cg")]
    claims = pd.read_csv(tables / "table6_claims.csv")
    assert list(claims["comparison"]) == ["apg-cg vs mmoe-cg", "apg-cg vs star-cg",
                                          "apg-fg vs mmoe-fg", "apg-fg vs star-fg",
                                          "apg-fg vs apg-cg"]
    figure6 = pd.read_csv(tables / "figure6.csv")
    assert set(figure6["kind"]) == {"data", "seeds"}
    assert figure6["p_value"].between(0, 1).all() and figure6["r"].between(-1, 1).all()
    assert (fixture_run / "reports" / "figures" / "figure6.png").stat().st_size > 10_000
    assert (fixture_run / "reports" / "figures" / "table6.png").stat().st_size > 10_000
    ledger = pd.read_csv(tables / "claims.csv")
    rows = ledger[ledger["evidence"].isin(["reports/tables/table6_claims.csv",
                                           "reports/tables/figure6.csv"])]
    assert len(rows) == 4 and not (rows["verdict"] == "not yet run").any()


def test_end_to_end_metrics_record_stopping(fixture_run):
    path = fixture_run / "metrics" / "fixture" / "table4" / "wdl-v4.json"
    metrics = json.loads(path.read_text())
    for run in metrics["runs"]:
        assert {"best_epoch", "stopped_epoch", "hit_cap", "test_auc"} <= set(run)
        assert run["best_epoch"] <= run["stopped_epoch"]


def dvc(args, cwd, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=check)


@pytest.fixture
def fixture_copy(fixture_run, tmp_path):
    """A copy of the finished fixture run to change params in (the run itself stays as is)."""
    import shutil

    copy = tmp_path / "kit"
    shutil.copytree(fixture_run, copy, symlinks=True)
    return copy


def set_params(root: Path, **changes) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        section = params
        for part in path:
            section = section[part]
        section[key] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_changing_k_retrains_the_apg_runs_and_no_base_run(fixture_copy):
    set_params(fixture_copy, apg__rank=2)
    changed = set(json.loads(dvc(["status", "--json"], fixture_copy).stdout))
    assert any(name.startswith("train_table2_apg@") for name in changed)
    assert any(name.startswith("train_table4@") for name in changed)
    assert not [name for name in changed if name.startswith("train_table2_base@")]
    assert "efficiency" not in changed and "download" not in changed


def test_table4_report_renders_with_only_some_versions(fixture_copy):
    """`dvc exp run -S table4.versions=[v4,v5]`: the report says which claims it cannot check."""
    set_params(fixture_copy, table4__versions=["v4", "v5"])
    dvc(["repro", "report_table4"], fixture_copy)
    table = pd.read_csv(fixture_copy / "reports" / "tables" / "table4.csv")
    assert list(table["version"]) == ["base", "v4", "v5"]
    report = (fixture_copy / "reports" / "table4.ipynb").read_text()
    assert "NOT RUN: the basic model (v1) beats Base" in report


def test_end_to_end_second_repro_changes_nothing(fixture_run):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    before = {p: p.read_bytes() for p in (fixture_run / "reports").rglob("*") if p.is_file()}
    out = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=fixture_run, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "Running stage" not in out
    after = {p: p.read_bytes() for p in (fixture_run / "reports").rglob("*") if p.is_file()}
    assert before == after


def write_notebook(path, *sources, parameters=""):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    cells = [nbformat.v4.new_code_cell(src) for src in sources]
    if parameters:
        cells.insert(0, nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells = cells
    nbformat.write(nb, path)


WRITES_THEN = (
    "from pathlib import Path\n"
    "Path(metrics_path).parent.mkdir(parents=True, exist_ok=True)\n"
    "Path(metrics_path).write_text('{}')\n"
    "Path(tables_dir).mkdir(parents=True, exist_ok=True)\n"
    "(Path(tables_dir) / 'table.csv').write_text('a\\n1\\n')\n")


def test_a_notebook_that_fails_leaves_no_result_behind(tmp_path):
    """It wrote its metrics and a table before failing: neither reaches its final path."""
    from papermill.exceptions import PapermillExecutionError

    from apg.pipeline import run_notebook

    write_notebook(tmp_path / "failing.ipynb", WRITES_THEN + "raise ValueError('the run failed')",
                   parameters="metrics_path = 'm.json'\ntables_dir = 't'")
    (tmp_path / "reports" / "tables").mkdir(parents=True)
    (tmp_path / "reports" / "tables" / "other.csv").write_text("kept\n")
    with pytest.raises(PapermillExecutionError, match="the run failed"):
        run_notebook("failing.ipynb", "reports/runs/out.ipynb",
                     {"metrics_path": "metrics/run.json", "tables_dir": "reports/tables"},
                     tmp_path, staged=("metrics_path", "tables_dir"))
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["failing.ipynb", "reports/tables/other.csv"]
    assert not (tmp_path / ".staging").exists()


def test_a_notebook_that_succeeds_puts_its_staged_files_in_place(tmp_path):
    from apg.pipeline import run_notebook

    write_notebook(tmp_path / "ok.ipynb", WRITES_THEN,
                   parameters="metrics_path = 'm.json'\ntables_dir = 't'")
    (tmp_path / "reports" / "tables").mkdir(parents=True)
    (tmp_path / "reports" / "tables" / "other.csv").write_text("kept\n")
    run_notebook("ok.ipynb", "reports/runs/out.ipynb",
                 {"metrics_path": "metrics/run.json", "tables_dir": "reports/tables"},
                 tmp_path, staged=("metrics_path", "tables_dir"))
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["metrics/run.json", "ok.ipynb", "reports/runs/out.ipynb",
                     "reports/tables/other.csv", "reports/tables/table.csv"]
    assert (tmp_path / "reports" / "tables" / "table.csv").read_text() == "a\n1\n"
    assert not (tmp_path / ".staging").exists()
    injected = nbformat.read(tmp_path / "reports" / "runs" / "out.ipynb", 4).cells[1].source
    assert 'metrics_path = "metrics/run.json"' in injected        # where the file is now
    assert 'tables_dir = "reports/tables"' in injected


def test_a_notebook_kernel_starts_without_warnings(tmp_path, capfd):
    """Kernels listen on IPC sockets: no warning about unencrypted TCP on every stage."""
    from apg.pipeline import run_notebook

    write_notebook(tmp_path / "ok.ipynb", "print(1 + 1)")
    run_notebook("ok.ipynb", "notebooks/out.ipynb", {}, tmp_path)
    assert not (tmp_path / ".staging").exists()
    assert nbformat.read(tmp_path / "notebooks" / "out.ipynb", 4).cells[0].outputs[0]["text"] == "2\n"
    assert "WARNING" not in capfd.readouterr().err


def test_a_notebook_that_fails_in_place_is_kept(tmp_path):
    """`make notebooks` records in place (output = source): a failure must not delete it."""
    from papermill.exceptions import PapermillExecutionError

    from apg.pipeline import run_notebook

    write_notebook(tmp_path / "notebook.ipynb", "raise ValueError('the run failed')")
    source = (tmp_path / "notebook.ipynb").read_bytes()
    with pytest.raises(PapermillExecutionError, match="the run failed"):
        run_notebook("notebook.ipynb", "notebook.ipynb", {}, tmp_path)
    assert (tmp_path / "notebook.ipynb").read_bytes() == source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notebook.ipynb"]
