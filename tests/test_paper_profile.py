"""The paper profile: each data set whose raw files are present runs its reports, side by side
in reports/paper.ipynb; a data set without files is reported as not run."""

from pathlib import Path

import pandas as pd
import pytest

from apg import paper
from apg.claims import NOT_RUN
from apg.generated import largest_groups
from apg.paper_profile import ledgers, missing_files, run_paper_fixture

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("movielens-1m", "amazon", "iaac")


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    """`make paper` with the fixture profile in a copy of the project, the Amazon and IAAC
    fixtures (their real file formats) placed as their raw files."""
    return run_paper_fixture(ROOT, tmp_path_factory.mktemp("paper") / "kit")


def test_every_data_set_with_files_is_run(paper_run):
    root, status = paper_run
    assert all(status[d]["run"] for d in DATASETS)
    assert (root / "reports/paper.ipynb").is_file()
    for dataset in DATASETS:
        assert (root / "reports/paper" / dataset / "figures/figure6.png").is_file()


def test_tables_have_a_column_block_per_data_set(paper_run):
    root, _ = paper_run
    table2 = pd.read_csv(root / "reports/tables/paper_table2.csv")
    assert len(table2) == 14
    for dataset in DATASETS:                # (the tiny IAAC fixture's test day: about 20 clicks)
        assert table2[f"{dataset}: auc_mean"].between(0, 100).all()
    assert table2["movielens-1m: auc_mean"].gt(60).all()
    rows = table2.set_index(["model", "variant"])
    for dataset, key in (("movielens-1m", "movielens"), ("amazon", "amazon"), ("iaac", "iaac")):
        assert rows.loc[("wdl", "apg"), f"{dataset}: paper_auc"] == paper.TABLE2[key]["apg"]["wdl"]
    table6 = pd.read_csv(root / "reports/tables/paper_table6.csv")
    assert len(table6) == 7 and table6["iaac: memory_mb"].gt(0).all()
    table4 = pd.read_csv(root / "reports/tables/paper_table4.csv")
    assert list(table4["version"]) == ["base", "v1", "v3", "v4", "v5"]


def test_the_ledger_has_a_verdict_per_data_set(paper_run):
    root, _ = paper_run
    ledger = pd.read_csv(root / "reports/tables/paper_claims.csv")
    for dataset in DATASETS:
        assert ledger[f"{dataset}: verdict"].notna().all()
    figure1 = ledger["claim"].str.contains("active and cold")
    assert (ledger.loc[figure1, "amazon: verdict"] == NOT_RUN).all()   # no user property
    assert (ledger.loc[~figure1, "amazon: verdict"] != NOT_RUN).any()


def test_figure6_on_amazon_draws_its_largest_categories(paper_run):
    root, _ = paper_run
    figure6 = pd.read_csv(root / "reports/paper/amazon/tables/figure6.csv")
    assert (figure6["n_groups"] == 6).all()      # the fixture's 6 categories, under max_groups


def test_a_data_set_without_files_is_not_run(tmp_path):
    message = missing_files(tmp_path, "iaac")
    assert "round1_ijcai_18_train_20180301.txt" in message and "data/raw/iaac" in message
    assert missing_files(tmp_path, "movielens-1m") is None      # the pipeline downloads it
    ledger = ledgers({"movielens-1m": None, "iaac": None},
                     {"movielens-1m": "not run", "iaac": message}, 0.05, tmp_path)
    assert (ledger["iaac: verdict"] == NOT_RUN).all()
    assert ledger["iaac: ours"].eq(message).all()


def test_largest_groups_keeps_the_groups_with_most_rows():
    rows = pd.DataFrame({"group": [3, 3, 3, 1, 2, 2, 4, 4, 4, 4]})
    assert largest_groups(rows, None) == [1, 2, 3, 4]
    assert largest_groups(rows, 2) == [3, 4]          # 3 and 4 rows, in code order
    with pytest.raises(ValueError, match="at least 2"):
        largest_groups(rows, 1)
