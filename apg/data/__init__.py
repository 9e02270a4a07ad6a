"""The data sets of apg-kit: download, parse, preprocess into coded splits, batch.

    download(dataset, raw_dir)            source files, checksums verified  (apg.data.download)
    load_canonical(raw_dir)               MovieLens as one table, whichever source
                                                                            (apg.data.movielens)
    preprocess(canonical, out_dir)        coded parquet splits + schema     (apg.data.preprocess)
    preprocess_amazon(raw, out, ...)      Amazon Electronics, DIN's samples (apg.data.amazon)
    preprocess_iaac(raw, out, ...)        IAAC's train file, split by day   (apg.data.iaac)
    preprocess_dataset(dataset, raw, out) any data set, as the pipeline stage runs it
    write_fixture(raw_dir)                the "fixture" data set's raw files
    load_split / iterate_batches          tensors for training              (apg.data.batches,
                                                                              imports torch)
    synthetic_movielens / ensure_fixture  small synthetic data              (apg.data.fixture)
"""

from __future__ import annotations

import inspect
from pathlib import Path

from apg.data.amazon import preprocess_amazon
from apg.data.download import download
from apg.data.fixture import ensure_fixture, synthetic_movielens, write_grouplens_1m
from apg.data.iaac import preprocess_iaac
from apg.data.movielens import load_canonical
from apg.data.preprocess import preprocess
from apg.data.sources import DATASETS, DataError, get_dataset

FIXTURE = "fixture"


def _keyword_options(function) -> tuple[str, ...]:
    return tuple(name for name, parameter in inspect.signature(function).parameters.items()
                 if parameter.kind is inspect.Parameter.KEYWORD_ONLY)


# Each data set's preprocessing and the options (params.yaml `data:` keys) it reads; the other
# data sets' options are ignored.
PREPROCESSORS = {"amazon": preprocess_amazon, "iaac": preprocess_iaac}
OPTIONS = tuple(dict.fromkeys([*_keyword_options(preprocess),
                               *(name for function in PREPROCESSORS.values()
                                 for name in _keyword_options(function))]))


def write_fixture(raw_dir: Path) -> Path:
    """The "fixture" data set's raw files: the default synthetic tables, GroupLens ML-1M format."""
    return write_grouplens_1m(synthetic_movielens(), raw_dir)


def preprocess_dataset(dataset: str, raw_dir: Path, out_dir: Path, **options) -> dict:
    """Preprocess the raw files of `dataset` (for "fixture", any MovieLens format is taken).

    `options` are the `data:` options (`OPTIONS`); each data set takes its own (MovieLens:
    split, split_seed, label_threshold, max_genres and check_counts) and ignores the others'.
    Returns the schema.
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise DataError(f"unknown data option(s) {', '.join(unknown)}; "
                        f"valid: {', '.join(OPTIONS)}")
    if dataset in PREPROCESSORS:
        function = PREPROCESSORS[dataset]
        needed = _keyword_options(function)
        missing = [name for name in needed if name not in options]
        if missing:
            raise DataError(f"{dataset} needs the data option(s) {', '.join(missing)} "
                            f"(params.yaml `data:`)")
        return function(raw_dir, out_dir, **{name: options[name] for name in needed})
    if dataset != FIXTURE and "check_counts" not in options:
        raise DataError(f"{dataset} needs the data option check_counts (params.yaml `data:`)")
    canonical = load_canonical(raw_dir, None if dataset == FIXTURE else dataset,
                               check_counts=dataset != FIXTURE and options["check_counts"])
    return preprocess(canonical, out_dir, **{name: value for name, value in options.items()
                                             if name in _keyword_options(preprocess)})


__all__ = ["DATASETS", "DataError", "FIXTURE", "OPTIONS", "download", "ensure_fixture",
           "get_dataset", "load_canonical", "preprocess", "preprocess_amazon",
           "preprocess_dataset", "preprocess_iaac", "synthetic_movielens", "write_fixture"]
