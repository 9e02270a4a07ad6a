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

from apg.pipeline import (load_params, merge, project_root, run_profile, strip_run_metadata,
                          train_parameters)

ROOT = Path(__file__).resolve().parents[1]


def notebook_parameters(name):
    return {p.name for p in _infer_parameters(nbformat.read(ROOT / "notebooks" / name, 4))}


def test_params_yaml_sets_every_parameter_of_the_training_notebook():
    """No hidden defaults: the pipeline passes every parameter train.ipynb has, and no other."""
    passed = train_parameters(load_params(ROOT), "wdl", "v4")
    assert set(passed) == notebook_parameters("train.ipynb")


def test_report_stage_sets_every_parameter_of_the_report_notebook():
    params = load_params(ROOT)
    passed = {"dataset", "metrics_dir", "tables_dir", "figures_dir", *params["table4"]}
    assert passed == notebook_parameters("report_table4.ipynb")


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
        train_parameters(params, "wdl", "v4")


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


def test_end_to_end_pipeline_writes_table4(fixture_run):
    table = pd.read_csv(fixture_run / "reports" / "tables" / "table4.csv")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert list(table["version"]) == params["table4"]["versions"]
    required = {"dataset", "version", "auc_mean", "auc_std", "n_seeds", "delta_vs_base",
                "paper_auc", "paper_delta_vs_base"}
    assert required <= set(table.columns)
    assert (table["n_seeds"] == len(params["profiles"]["fixture"]["seeds"])).all()
    assert table["auc_mean"].between(55, 100).all()          # AUC in %, above chance
    assert table.loc[table["version"] == "v5", "paper_auc"].item() == 79.73
    assert (fixture_run / "reports" / "figures" / "table4.png").stat().st_size > 10_000
    report = (fixture_run / "reports" / "table4.ipynb").read_text()
    assert "HOLDS" in report and "start_time" not in report


def test_end_to_end_metrics_record_stopping(fixture_run):
    metrics = json.loads((fixture_run / "metrics" / "fixture" / "wdl-v4.json").read_text())
    for run in metrics["runs"]:
        assert {"best_epoch", "stopped_epoch", "hit_cap", "test_auc"} <= set(run)
        assert run["best_epoch"] <= run["stopped_epoch"]


def test_end_to_end_second_repro_changes_nothing(fixture_run):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    before = {p: p.read_bytes() for p in (fixture_run / "reports").rglob("*") if p.is_file()}
    out = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=fixture_run, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "Running stage" not in out
    after = {p: p.read_bytes() for p in (fixture_run / "reports").rglob("*") if p.is_file()}
    assert before == after
