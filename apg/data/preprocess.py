"""Turn a data set's CTR rows into integer-coded train/valid/test parquet files.

A data set gives its `Rows` (string values per field, labels, split); `write_coded` writes
(all in `out_dir`):
    train.parquet, valid.parquet, test.parquet  an int32 column per single-valued field, int32
                                                `<field>_0..<field>_{L-1}` (0-padded) per
                                                multi-valued one (MovieLens: `genres`), int8
                                                `label`
    schema.json                                 fields, column order, vocabulary sizes, split sizes
    vocab.json                                  {field: [value of code 1, value of code 2, ...]}

Vocabularies come from the training split only; code 0 is padding and out-of-vocabulary.
`preprocess` does it for the canonical MovieLens table.
"""

from __future__ import annotations

import calendar
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from apg.data.sources import DataError

# MovieLens' fields (`features`)
SINGLE_FIELDS = ("user_id", "item_id", "gender", "age", "occupation", "zip3", "year", "hour",
                 "weekday")
MULTI_FIELDS = ("genres",)
SPLITS = ("train", "valid", "test")
LABEL = "label"


def features(canonical: pd.DataFrame) -> pd.DataFrame:
    """The categorical feature values (strings) of each rating; hour and weekday in UTC."""
    when = pd.to_datetime(canonical["timestamp"], unit="s", utc=True)
    hours = np.array([f"{h:02d}" for h in range(24)])
    return pd.DataFrame({
        "user_id": canonical["user_id"],
        "item_id": canonical["item_id"],
        "gender": canonical["gender"],
        "age": canonical["age"],
        "occupation": canonical["occupation"],
        "zip3": canonical["zip"].str[:3],
        "year": canonical["year"],
        "hour": hours[when.dt.hour.to_numpy()],
        "weekday": np.array(calendar.day_name)[when.dt.day_of_week.to_numpy()],
        "genres": canonical["genres"],
    })


def split_indices(n: int, split: Sequence[float], seed: int) -> dict[str, np.ndarray]:
    """Row indices of each split: a seeded permutation cut by the fractions, each part sorted."""
    if (len(split) != len(SPLITS) or not all(isinstance(f, (int, float)) and f > 0 for f in split)
            or not math.isclose(sum(split), 1.0, abs_tol=1e-9)):
        raise DataError(f"split must be three positive fractions (train, valid, test) summing to "
                        f"1, such as [0.8, 0.1, 0.1]; got {list(split)!r}")
    n_train, n_valid = round(n * split[0]), round(n * split[1])
    sizes = (n_train, n_valid, n - n_train - n_valid)
    if min(sizes) < 1:
        raise DataError(f"{n} rows are too few to split by {list(split)}: a split would be empty")
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum((0, *sizes))
    return {name: np.sort(order[start:stop])
            for name, start, stop in zip(SPLITS, bounds[:-1], bounds[1:])}


def encode_single(values: pd.Series, train: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes 1..n for the sorted values seen in the training rows, 0 for any other value."""
    vocab = sorted(values.iloc[train].unique())
    return (pd.Index(vocab).get_indexer(values) + 1).astype(np.int32), vocab


def encode_multi(values: pd.Series, train: np.ndarray,
                 width: int | None) -> tuple[np.ndarray, list[str]]:
    """Value lists (joined by "|") as rows of codes, 0-padded to `width` (default: the longest).

    Lists longer than `width` keep their first `width` values.
    """
    combos = pd.Categorical(values)
    lists = [combo.split("|") if combo else [] for combo in combos.categories]
    vocab = sorted({v for combo in values.iloc[train].unique() if combo for v in combo.split("|")})
    width = width or max([1, *map(len, lists)])
    index = {value: code for code, value in enumerate(vocab, start=1)}
    table = np.zeros((len(lists), width), dtype=np.int32)
    for row, items in enumerate(lists):
        codes = [index.get(value, 0) for value in items[:width]]
        table[row, :len(codes)] = codes
    return table[combos.codes], vocab


@dataclass(frozen=True)
class Rows:
    """A data set's CTR rows before coding, one per instance: a string column per field in
    `values` (a multi-valued field's values joined by "|"), which fields are multi-valued, the
    0/1 labels, each split's row indices, and how the labels and the split were made (recorded
    in schema.json)."""

    values: pd.DataFrame
    multi: tuple[str, ...]
    labels: np.ndarray
    parts: dict[str, np.ndarray]
    settings: dict


def write_coded(rows: Rows, out_dir: Path, widths: dict[str, int | None]) -> dict:
    """Write the coded splits, schema.json and vocab.json into `out_dir`; returns the schema.

    Fields are the single-valued columns of `rows.values` in order, then the multi-valued ones;
    `widths` caps a multi-valued field's columns (None: its longest list). The same rows give
    byte-identical files.
    """
    columns, fields, vocabs = {}, [], {}
    for name in [c for c in rows.values.columns if c not in rows.multi]:
        columns[name], vocabs[name] = encode_single(rows.values[name], rows.parts["train"])
        fields.append({"name": name, "kind": "single", "vocab_size": len(vocabs[name]) + 1,
                       "columns": [name]})
    for name in rows.multi:
        matrix, vocabs[name] = encode_multi(rows.values[name], rows.parts["train"],
                                            widths.get(name))
        names = [f"{name}_{i}" for i in range(matrix.shape[1])]
        columns.update(zip(names, matrix.T))
        fields.append({"name": name, "kind": "multi", "vocab_size": len(vocabs[name]) + 1,
                       "columns": names})
    columns[LABEL] = rows.labels

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for part, indices in rows.parts.items():
        table = pa.table({name: column[indices] for name, column in columns.items()})
        pq.write_table(table, out_dir / f"{part}.parquet")
    schema = {
        "fields": fields,
        "label": LABEL,
        "rows": {part: len(indices) for part, indices in rows.parts.items()},
        "positive_rate": {part: round(float(rows.labels[indices].mean()), 6)
                          for part, indices in rows.parts.items()},
        **rows.settings,
    }
    _write_json(out_dir / "schema.json", schema)
    _write_json(out_dir / "vocab.json", vocabs)
    return schema


def preprocess(canonical: pd.DataFrame, out_dir: Path, *, split: Sequence[float] = (0.8, 0.1, 0.1),
               split_seed: int = 2022, label_threshold: int = 4,
               max_genres: int | None = None) -> dict:
    """MovieLens: `write_coded` of its features (`features`), label = rating >=
    label_threshold, a seeded random split (`split_indices`); returns the schema."""
    for name, value in (("split_seed", split_seed), ("label_threshold", label_threshold)):
        if not isinstance(value, int):
            raise DataError(f"{name} must be a whole number, got {value!r}")
    if max_genres is not None and not (isinstance(max_genres, int) and max_genres > 0):
        raise DataError(f"max_genres must be a positive whole number or None, got {max_genres!r}")
    values = features(canonical)
    labels = (canonical["rating"].to_numpy() >= label_threshold).astype(np.int8)
    rows = Rows(values, MULTI_FIELDS, labels, split_indices(len(values), split, split_seed),
                {"split": list(split), "split_seed": split_seed,
                 "label_threshold": label_threshold})
    return write_coded(rows, out_dir, {"genres": max_genres})


def _write_json(path: Path, content: dict) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
