"""Amazon Electronics (SNAP, 5-core reviews and item metadata) as DIN builds its CTR samples.

The paper's Amazon numbers follow DIN (Zhou et al., KDD 2018), whose processing most CTR work
reuses:

- an item's category is the last entry of the last list in its metadata's `categories`;
- each user's reviews are sorted by time (reviews at the same second keep their file order);
- every position i >= 1 of that sequence gives two samples with the same history, the items
  reviewed before i and their categories: the item reviewed at i (label 1) and one item drawn
  uniformly from all items, never the positive one (label 0), from a seeded generator;
- the last position of each user goes to test. DIN has no validation split; the kit's early
  stopping needs one, so the position before the last goes to valid, the rest to train. The
  5-core data leaves every user at least 5 reviews, hence at least 2 training positions; a user
  with one review has no position and gives no sample.

Histories keep their most recent `max_history` items (a user of the 5-core data has up to a few
hundred reviews; the feature layer mean-pools a history, so older items matter little).

Both files are gzip, one record per line: the reviews strict JSON, the metadata Python dict
literals (single quotes), read with `ast.literal_eval`, never `eval`. Both are streamed line by
line and only the keys used are kept, so the text of the 500 MB reviews file is never held.
"""

from __future__ import annotations

import ast
import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from apg.data.preprocess import SPLITS, Rows, write_coded
from apg.data.sources import DataError, get_dataset

SOURCE = get_dataset("amazon").sources[0]   # SNAP's two files (apg.data.sources)
REVIEWS_FILE, META_FILE = SOURCE.files
# DIN's counts for these files; checked when the real files are read (`check_din_counts`).
EXPECTED_COUNTS = {"users": 192403, "items": 63001, "categories": 801}
COLUMNS = ["user_id", "item_id", "category", "history_items", "history_categories", "label",
           "split"]
SEPARATOR = "|"   # joins a history's values (the multi-valued field convention of preprocess)
HISTORY_FIELDS = ("history_items", "history_categories")
SPLIT_RULE = "DIN: each user's last position test, the one before it valid, the others train"


def missing_files_message(raw_dir: Path) -> str:
    """What to do when the raw files are not in `raw_dir`."""
    return (f"the Amazon Electronics files are missing from {raw_dir}/: it needs {REVIEWS_FILE} "
            f"and {META_FILE}. Run `python -m apg.data download amazon --out {raw_dir}`.\n"
            + get_dataset("amazon").manual_instructions(raw_dir))


def _records(path: Path, parse: Callable[[str], object]) -> Iterator[tuple[int, dict]]:
    """(line number, record) for every non-empty line of the gzip file at `path`."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    record = parse(line)
                except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
                    raise DataError(f"{path}, line {number}: not a record ({type(exc).__name__}:"
                                    f" {exc}): {line[:200]!r}; {_replace(path)}") from None
                if not isinstance(record, dict):
                    raise DataError(f"{path}, line {number}: expected a dict, found "
                                    f"{type(record).__name__}: {line[:200]!r}; {_replace(path)}")
                yield number, record
    except (EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is truncated or not gzip-compressed UTF-8 text "
                        f"({type(exc).__name__}: {exc}); {_replace(path)}") from None


def _replace(path: Path) -> str:
    return (f"the file is corrupt or not the original: delete it and download it again "
            f"({SOURCE.url}{path.name})")


def _field(path: Path, number: int, record: dict, key: str, kind: type):
    value = record.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataError(f"{path}, line {number}: `{key}` must be a {kind.__name__}, found "
                        f"{value!r}; {_replace(path)}")
    if isinstance(value, str) and (not value or SEPARATOR in value):
        raise DataError(f"{path}, line {number}: `{key}` {value!r} is empty or contains "
                        f"{SEPARATOR!r}; {_replace(path)}")
    return value


def read_reviews(path: Path) -> pd.DataFrame:
    """user_id, item_id (str), time (int64 unix seconds), in file order: one row per review."""
    users, items, times = [], [], []
    for number, record in _records(path, json.loads):
        users.append(_field(path, number, record, "reviewerID", str))
        items.append(_field(path, number, record, "asin", str))
        times.append(_field(path, number, record, "unixReviewTime", int))
    if not users:
        raise DataError(f"{path} holds no reviews; {_replace(path)}")
    return pd.DataFrame({"user_id": users, "item_id": items,
                         "time": np.array(times, dtype=np.int64)})


def read_categories(path: Path, items: set[str]) -> dict[str, str]:
    """{item: category} for the metadata records of `items`: the last entry of the last list in
    `categories` (DIN's rule)."""
    categories = {}
    for number, record in _records(path, ast.literal_eval):
        item = _field(path, number, record, "asin", str)
        if item not in items:
            continue
        lists = record.get("categories")
        if (not isinstance(lists, list) or not lists or not isinstance(lists[-1], list)
                or not lists[-1]):
            raise DataError(f"{path}, line {number}: item {item!r} has no category list "
                            f"(`categories` = {lists!r}); {_replace(path)}")
        category = lists[-1][-1]
        if not isinstance(category, str) or not category or SEPARATOR in category:
            raise DataError(f"{path}, line {number}: item {item!r} has the category "
                            f"{category!r}, not a non-empty name without {SEPARATOR!r}; "
                            f"{_replace(path)}")
        categories[item] = category
    return categories


def _require_metadata(reviews: pd.DataFrame, categories: dict[str, str]) -> None:
    missing = sorted(set(reviews["item_id"]) - set(categories))
    if missing:
        raise DataError(f"{len(missing)} reviewed item(s) have no metadata record, first "
                        f"{missing[0]!r}: the metadata file does not belong to the reviews")


def negatives(positives: np.ndarray, n_items: int, rng: np.random.Generator) -> np.ndarray:
    """One item code per positive, uniform over the n_items codes and never the positive's:
    drawn all at once, the draws that hit their positive drawn again until none does."""
    if n_items < 2:
        raise DataError(f"negative sampling needs at least 2 items, found {n_items}")
    drawn = rng.integers(n_items, size=len(positives))
    clash = np.flatnonzero(drawn == positives)
    while len(clash):
        drawn[clash] = rng.integers(n_items, size=len(clash))
        clash = clash[drawn[clash] == positives[clash]]
    return drawn


def din_samples(reviews: pd.DataFrame, categories: dict[str, str], max_history: int,
                seed: int) -> pd.DataFrame:
    """DIN's samples from the reviews (module docstring): columns `COLUMNS`, two rows per
    position (positive, then its negative), users in order of first appearance, positions in
    time order. `label` is int8, `split` "train" / "valid" / "test", histories joined by "|";
    negatives from `np.random.default_rng(seed)` over the items sorted by id."""
    if max_history < 1:
        raise DataError(f"max_history must be at least 1, got {max_history}")
    _require_metadata(reviews, categories)
    item_list = sorted(categories)
    code = {item: i for i, item in enumerate(item_list)}
    ordered = reviews.assign(first=reviews.groupby("user_id", sort=False).ngroup()).sort_values(
        ["first", "time"], kind="stable")
    users, items = ordered["user_id"].tolist(), ordered["item_id"].tolist()
    cats = [categories[item] for item in items]
    starts = np.flatnonzero(np.diff(ordered["first"].to_numpy(), prepend=-1))
    ends = [*starts[1:], len(items)]
    positions = [(begin, i, end) for begin, end in zip(starts, ends)
                 for i in range(begin + 1, end)]
    positive_codes = np.array([code[items[i]] for _, i, _ in positions])
    negative_items = [item_list[c] for c in negatives(positive_codes, len(item_list),
                                                      np.random.default_rng(seed))]
    rows = []
    for (begin, i, end), negative in zip(positions, negative_items):
        split = "test" if i == end - 1 else "valid" if i == end - 2 else "train"
        first = max(begin, i - max_history)
        history = SEPARATOR.join(items[first:i]), SEPARATOR.join(cats[first:i])
        rows.append((users[i], items[i], cats[i], *history, 1, split))
        rows.append((users[i], negative, categories[negative], *history, 0, split))
    return pd.DataFrame(rows, columns=COLUMNS).astype({"label": "int8"})


def check_din_counts(reviews: pd.DataFrame, categories: dict[str, str]) -> None:
    """DataError unless users, items and categories are DIN's (`EXPECTED_COUNTS`)."""
    found = {"users": reviews["user_id"].nunique(), "items": reviews["item_id"].nunique(),
             "categories": len({categories[item] for item in reviews["item_id"].unique()})}
    if found != EXPECTED_COUNTS:
        raise DataError(f"the Amazon Electronics files hold {found}, DIN's processing expects "
                        f"{EXPECTED_COUNTS}: they are not the 5-core reviews and metadata of "
                        f"Electronics, or are truncated; download them again ({SOURCE.url})")


def load_amazon(raw_dir: Path, max_history: int, seed: int, check: bool) -> pd.DataFrame:
    """DIN's samples (`din_samples`) from the two files in `raw_dir`; with `check` (the real
    files, not a fixture) their counts are checked against DIN's first (`check_din_counts`)."""
    raw_dir = Path(raw_dir)
    paths = raw_dir / REVIEWS_FILE, raw_dir / META_FILE
    if not all(path.is_file() for path in paths):
        raise DataError(missing_files_message(raw_dir))
    reviews = read_reviews(paths[0])
    categories = read_categories(paths[1], set(reviews["item_id"]))
    _require_metadata(reviews, categories)
    if check:
        check_din_counts(reviews, categories)
    return din_samples(reviews, categories, max_history, seed)


def amazon_rows(samples: pd.DataFrame, max_history: int, seed: int) -> Rows:
    """`din_samples` as preprocessing's rows: user, item and category single-valued, the two
    histories multi-valued, the split DIN's (`SPLIT_RULE`)."""
    split = samples["split"].to_numpy()
    parts = {name: np.flatnonzero(split == name) for name in SPLITS}
    empty = [name for name, rows in parts.items() if not len(rows)]
    if empty:
        raise DataError(f"the Amazon samples have no {' or '.join(empty)} rows: every user "
                        f"needs at least 3 reviews for DIN's split (the 5-core file has 5)")
    return Rows(samples[["user_id", "item_id", "category", *HISTORY_FIELDS]], HISTORY_FIELDS,
                samples["label"].to_numpy(), parts,
                {"split": SPLIT_RULE, "max_history": max_history, "negative_seed": seed})


def preprocess_amazon(raw_dir: Path, out_dir: Path, *, max_history: int, negative_seed: int,
                      check_counts: bool) -> dict:
    """The Amazon files in `raw_dir` as coded splits in `out_dir` (`write_coded`); returns the
    schema."""
    samples = load_amazon(raw_dir, max_history, negative_seed, check_counts)
    return write_coded(amazon_rows(samples, max_history, negative_seed), out_dir, {})
