"""Amazon Electronics: SNAP's two files parsed, DIN's samples built, bad files refused."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from apg.data import DataError
from apg.data.amazon import (COLUMNS, META_FILE, REVIEWS_FILE, amazon_rows, check_din_counts,
                             din_samples, load_amazon, negatives, read_categories, read_reviews)
from apg.data.batches import load_split
from apg.data.preprocess import write_coded
from apg.data.amazon_fixture import write_amazon_files

# Three users, written out by hand: u1 reviews a, then c and b at the same second (c first in
# the file), u2 reviews c then a, u3 reviews one item only.
REVIEW_LINES = [
    '{"reviewerID": "u1", "asin": "c", "reviewerName": "Zo\\u00eb", "overall": 5.0, '
    '"unixReviewTime": 300}',
    '{"reviewerID": "u2", "asin": "a", "overall": 1.0, "unixReviewTime": 50}',
    '{"reviewerID": "u1", "asin": "a", "overall": 4.0, "unixReviewTime": 100}',
    '{"reviewerID": "u3", "asin": "d", "overall": 4.0, "unixReviewTime": 100}',
    '',
    '{"reviewerID": "u1", "asin": "b", "helpful": [1, 2], "unixReviewTime": 300}',
    '{"reviewerID": "u2", "asin": "c", "unixReviewTime": 20}',
]
META_LINES = [
    "{'asin': 'a', 'title': u'Caf\\xe9 cable', 'categories': [['Electronics', 'Cables']]}",
    "{'asin': 'b', 'categories': [['Electronics'], ['Electronics', 'Audio', 'Headphones']]}",
    "{'asin': 'c', 'price': 9.5, 'categories': [['Electronics', 'Cables']]}",
    "{'asin': 'd', 'categories': [['Camera']]}",
    "{'asin': 'z', 'categories': [['Never reviewed']]}",
]


def write(path, lines):
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


@pytest.fixture
def raw(tmp_path):
    write(tmp_path / REVIEWS_FILE, REVIEW_LINES)
    write(tmp_path / META_FILE, META_LINES)
    return tmp_path


def test_reviews_and_categories_by_hand(raw):
    reviews = read_reviews(raw / REVIEWS_FILE)
    expected = pd.DataFrame({"user_id": ["u1", "u2", "u1", "u3", "u1", "u2"],
                             "item_id": ["c", "a", "a", "d", "b", "c"],
                             "time": np.array([300, 50, 100, 100, 300, 20], dtype=np.int64)})
    pd.testing.assert_frame_equal(reviews, expected)
    # the last entry of the last list; items nobody reviewed are skipped
    assert read_categories(raw / META_FILE, {"a", "b", "c", "d"}) == {
        "a": "Cables", "b": "Headphones", "c": "Cables", "d": "Camera"}


def test_din_samples_by_hand(raw):
    samples = load_amazon(raw, max_history=2, seed=0, check=False)
    assert list(samples.columns) == COLUMNS and samples["label"].dtype == np.int8
    # u1 in time order: a (100), c (300, first in the file), b (300); u2: c (20), a (50);
    # u3 has one review, hence no position
    positives = [
        ("u1", "c", "Cables", "a", "Cables", 1, "valid"),
        ("u1", "b", "Headphones", "a|c", "Cables|Cables", 1, "test"),
        ("u2", "a", "Cables", "c", "Cables", 1, "test"),
    ]
    assert [tuple(row) for row in samples.iloc[::2].itertuples(index=False)] == positives
    negative_rows = samples.iloc[1::2]
    assert (negative_rows["label"] == 0).all()
    for positive, negative in zip(positives, negative_rows.itertuples(index=False)):
        assert negative.user_id == positive[0] and negative.item_id != positive[1]
        assert negative.item_id in {"a", "b", "c", "d"}   # the reviewed items only
        assert (negative.history_items, negative.history_categories, negative.split) == (
            positive[3], positive[4], positive[6])
        assert negative.category == {"a": "Cables", "b": "Headphones", "c": "Cables",
                                     "d": "Camera"}[negative.item_id]


def test_din_samples_with_two_items_are_fully_determined():
    # with two items the negative of each positive can only be the other one
    reviews = pd.DataFrame({"user_id": ["u"] * 4, "item_id": ["x", "y", "x", "x"],
                            "time": [1, 2, 3, 4]})
    samples = din_samples(reviews, {"x": "X", "y": "Y"}, max_history=2, seed=5)
    assert [tuple(row) for row in samples.itertuples(index=False)] == [
        ("u", "y", "Y", "x", "X", 1, "train"), ("u", "x", "X", "x", "X", 0, "train"),
        ("u", "x", "X", "x|y", "X|Y", 1, "valid"), ("u", "y", "Y", "x|y", "X|Y", 0, "valid"),
        ("u", "x", "X", "y|x", "Y|X", 1, "test"), ("u", "y", "Y", "y|x", "Y|X", 0, "test")]


def test_negatives_are_seeded_uniform_and_never_the_positive():
    positives = np.zeros(40_000, dtype=np.int64)
    drawn = negatives(positives, 5, np.random.default_rng(1))
    assert (drawn != positives).all()
    np.testing.assert_array_equal(drawn, negatives(positives, 5, np.random.default_rng(1)))
    counts = np.bincount(drawn, minlength=5)
    assert counts[0] == 0
    np.testing.assert_allclose(counts[1:] / len(drawn), 0.25, atol=0.01)
    mixed = np.random.default_rng(2).integers(3, size=1000)
    assert (negatives(mixed, 3, np.random.default_rng(0)) != mixed).all()


def test_the_fixture_files_follow_the_rules(tmp_path):
    write_amazon_files(tmp_path, n_users=30, seed=3)
    reviews = read_reviews(tmp_path / REVIEWS_FILE)
    counts = reviews.groupby("user_id").size()
    assert sorted(counts)[0] == 1 and sorted(counts)[1] >= 5   # one single-review user
    samples = load_amazon(tmp_path, max_history=3, seed=0, check=False)
    per_user = samples.groupby("user_id")["split"].value_counts().unstack(fill_value=0)
    assert len(per_user) == 29
    assert (per_user["test"] == 2).all() and (per_user["valid"] == 2).all()
    assert (per_user["train"] == 2 * (counts[per_user.index] - 3)).all()
    assert samples["history_items"].str.count(r"\|").max() == 2     # at most 3 items
    assert samples["label"].mean() == 0.5


def test_missing_files_name_both_files_and_the_folder(tmp_path):
    write(tmp_path / REVIEWS_FILE, REVIEW_LINES)
    with pytest.raises(DataError) as error:
        load_amazon(tmp_path, max_history=2, seed=0, check=False)
    for text in (REVIEWS_FILE, META_FILE, str(tmp_path), "snap.stanford.edu"):
        assert text in str(error.value)


def test_truncated_gzip_is_refused(raw):
    content = (raw / REVIEWS_FILE).read_bytes()
    (raw / REVIEWS_FILE).write_bytes(content[:len(content) // 2])
    with pytest.raises(DataError, match=f"{REVIEWS_FILE} is truncated"):
        read_reviews(raw / REVIEWS_FILE)


@pytest.mark.parametrize("line, problem", [
    ('{"reviewerID": "u1", "asin": "a", "unixReviewTime": 1', "not a record"),
    ('["u1", "a", 1]', "expected a dict"),
    ('{"reviewerID": "u1", "asin": "a", "unixReviewTime": "1 Jan"}', "must be a int"),
    ('{"reviewerID": "u|1", "asin": "a", "unixReviewTime": 1}', "contains '|'"),
])
def test_a_malformed_review_names_its_file_and_line(tmp_path, line, problem):
    write(tmp_path / REVIEWS_FILE, [REVIEW_LINES[0], line])
    with pytest.raises(DataError, match=f"{REVIEWS_FILE}, line 2: .*{problem}"):
        read_reviews(tmp_path / REVIEWS_FILE)


def test_metadata_is_never_evaluated_as_code(tmp_path):
    write(tmp_path / META_FILE, ["{'asin': 'a', 'categories': [[__import__('os').getcwd()]]}"])
    with pytest.raises(DataError, match=f"{META_FILE}, line 1: not a record"):
        read_categories(tmp_path / META_FILE, {"a"})


def test_an_item_without_a_category_or_metadata_is_refused(raw, tmp_path):
    write(tmp_path / META_FILE, ["{'asin': 'a', 'categories': []}"])
    with pytest.raises(DataError, match="line 1: item 'a' has no category list"):
        read_categories(tmp_path / META_FILE, {"a"})
    write(raw / META_FILE, META_LINES[:2])
    with pytest.raises(DataError, match="2 reviewed item.s. have no metadata record, first 'c'"):
        load_amazon(raw, max_history=2, seed=0, check=False)


def test_counts_other_than_dins_are_refused(raw):
    with pytest.raises(DataError, match="DIN's processing expects"):
        load_amazon(raw, max_history=2, seed=0, check=True)
    reviews = read_reviews(raw / REVIEWS_FILE)
    with pytest.raises(DataError, match="'users': 3, 'items': 4, 'categories': 3"):
        check_din_counts(reviews, read_categories(raw / META_FILE, set(reviews["item_id"])))


def test_the_fixture_reviews_are_json_and_the_metadata_python_literals(tmp_path):
    write_amazon_files(tmp_path, seed=0)
    with gzip.open(tmp_path / REVIEWS_FILE, "rt", encoding="utf-8") as lines:
        first = json.loads(lines.readline())
    assert {"reviewerID", "asin", "unixReviewTime", "overall", "reviewTime"} <= set(first)
    with gzip.open(tmp_path / META_FILE, "rt", encoding="utf-8") as lines:
        meta = lines.read().splitlines()
    assert all(line.startswith("{'asin': '") for line in meta)
    assert any("u'" in line for line in meta) and any("\\u2605" in line for line in meta)


def test_amazon_rows_code_into_splits_the_models_read(tmp_path):
    write_amazon_files(tmp_path / "raw", n_users=30, seed=1)
    samples = load_amazon(tmp_path / "raw", max_history=4, seed=0, check=False)
    schema = write_coded(amazon_rows(samples, max_history=4, seed=0), tmp_path / "out", {})
    assert [(f["name"], f["kind"], len(f["columns"])) for f in schema["fields"]] == [
        ("user_id", "single", 1), ("item_id", "single", 1), ("category", "single", 1),
        ("history_items", "multi", 4), ("history_categories", "multi", 4)]
    assert schema["rows"] == samples["split"].value_counts()[["train", "valid", "test"]].to_dict()
    assert schema["positive_rate"] == {"train": 0.5, "valid": 0.5, "test": 0.5}
    assert schema["max_history"] == 4 and schema["negative_seed"] == 0
    x, y = load_split(tmp_path / "out", "test")
    test = samples[samples["split"] == "test"]
    np.testing.assert_array_equal(y.numpy(), test["label"].to_numpy())
    vocab = json.loads((tmp_path / "out" / "vocab.json").read_text())
    first = test.iloc[0]
    codes = x[0].tolist()
    expected_items = [vocab["history_items"].index(item) + 1 if item in vocab["history_items"]
                      else 0 for item in first["history_items"].split("|")]
    assert codes[3:3 + len(expected_items)] == expected_items
    assert codes[3 + len(expected_items):7] == [0] * (4 - len(expected_items))


def test_amazon_rows_need_every_split():
    reviews = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["x", "y"], "time": [1, 2]})
    samples = din_samples(reviews, {"x": "X", "y": "Y"}, max_history=2, seed=0)
    with pytest.raises(DataError, match="no train or valid rows"):
        amazon_rows(samples, max_history=2, seed=0)


def test_preprocess_dataset_runs_amazon_on_its_own_options(tmp_path):
    from apg.data import preprocess_dataset
    write_amazon_files(tmp_path / "raw", n_users=20, seed=2)
    # MovieLens' options (split, label_threshold) are ignored: DIN's split and labels hold
    schema = preprocess_dataset("amazon", tmp_path / "raw", tmp_path / "out", max_history=5,
                                negative_seed=1, check_counts=False, split=[0.5, 0.25, 0.25],
                                label_threshold=4)
    assert schema["split"].startswith("DIN") and schema["negative_seed"] == 1
    assert "label_threshold" not in schema
    with pytest.raises(DataError, match="amazon needs the data option.s. negative_seed, "
                                        "check_counts"):
        preprocess_dataset("amazon", tmp_path / "raw", tmp_path / "again", max_history=5)
    assert not (tmp_path / "again").exists()


def test_the_preprocessing_benchmark_measures_a_child_run(tmp_path, monkeypatch):
    from apg.data import benchmark
    monkeypatch.setitem(benchmark.WRITERS, "amazon",
                        lambda raw: write_amazon_files(raw, n_users=20, seed=0))
    params = tmp_path / "params.yaml"
    params.write_text("data: {max_history: 5, negative_seed: 0, check_counts: false}\n")
    result = benchmark.measure("amazon", tmp_path, params)
    schema = json.loads((tmp_path / "amazon" / "processed" / "schema.json").read_text())
    assert result["rows"] == sum(schema["rows"].values()) > 0
    assert result["seconds"] > 0 and 10 < result["peak_memory_mb"] < 2000
