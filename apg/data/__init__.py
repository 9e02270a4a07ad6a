"""MovieLens data for apg-kit: download, parse to one canonical table, preprocess, batch.

    download(dataset, raw_dir)            source files, checksums verified  (apg.data.download)
    load_canonical(raw_dir)               one table, whichever source       (apg.data.movielens)
    preprocess(canonical, out_dir)        coded parquet splits + schema     (apg.data.preprocess)
    preprocess_dataset(dataset, raw, out) the two above, as the pipeline stage runs them
    write_fixture(raw_dir)                the "fixture" data set's raw files
    load_split / iterate_batches          tensors for training              (apg.data.batches,
                                                                              imports torch)
    synthetic_movielens / ensure_fixture  small synthetic data              (apg.data.fixture)
"""

from __future__ import annotations

import inspect
from pathlib import Path

from apg.data.download import download
from apg.data.fixture import ensure_fixture, synthetic_movielens, write_grouplens_1m
from apg.data.movielens import load_canonical
from apg.data.preprocess import preprocess
from apg.data.sources import DATASETS, DataError, get_dataset

FIXTURE = "fixture"
OPTIONS = tuple(name for name, parameter in inspect.signature(preprocess).parameters.items()
                if parameter.kind is inspect.Parameter.KEYWORD_ONLY)


def write_fixture(raw_dir: Path) -> Path:
    """The "fixture" data set's raw files: the default synthetic tables, GroupLens ML-1M format."""
    return write_grouplens_1m(synthetic_movielens(), raw_dir)


def preprocess_dataset(dataset: str, raw_dir: Path, out_dir: Path, **options) -> dict:
    """Preprocess the raw files of `dataset` (for "fixture", any MovieLens format is taken).

    `options` are preprocess's keyword options (split, split_seed, label_threshold, max_genres);
    returns the schema.
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise DataError(f"unknown data option(s) {', '.join(unknown)}; "
                        f"valid: {', '.join(OPTIONS)}")
    canonical = load_canonical(raw_dir, None if dataset == FIXTURE else dataset)
    return preprocess(canonical, out_dir, **options)


__all__ = ["DATASETS", "DataError", "FIXTURE", "download", "ensure_fixture", "get_dataset",
           "load_canonical", "preprocess", "preprocess_dataset", "synthetic_movielens",
           "write_fixture"]
