"""Load preprocessed splits as tensors and cut them into mini-batches.

Batches are contiguous slices of a copy permuted once per epoch: a per-row Dataset/DataLoader
costs about half the training throughput on small CPU models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch

from apg.data.sources import DataError


def _not_preprocessed(path: Path) -> DataError:
    return DataError(f"{path} not found: the data has not been preprocessed. Run the preprocess "
                     "stage first (`dvc repro preprocess`, or `python -m apg.data preprocess "
                     f"<dataset> --raw data/raw/<dataset> --out {path.parent}`).")


def load_schema(processed_dir: Path) -> dict:
    """The schema.json written by `apg.data.preprocess.preprocess`."""
    path = Path(processed_dir) / "schema.json"
    if not path.is_file():
        raise _not_preprocessed(path)
    return json.loads(path.read_text(encoding="utf-8"))


def feature_columns(schema: dict) -> list[str]:
    """All input columns, in schema order (the column order of `x`)."""
    return [column for field in schema["fields"] for column in field["columns"]]


def load_split(processed_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """x: LongTensor (n, n_columns) in schema column order; y: FloatTensor (n,) of 0/1 labels."""
    schema = load_schema(processed_dir)
    if split not in schema["rows"]:
        raise DataError(f"unknown split {split!r}; valid: {', '.join(schema['rows'])}")
    path = Path(processed_dir) / f"{split}.parquet"
    if not path.is_file():
        raise _not_preprocessed(path)
    columns = feature_columns(schema)
    table = pq.read_table(path, columns=[*columns, schema["label"]])
    x = np.column_stack([table[name].to_numpy() for name in columns]).astype(np.int64)
    y = table[schema["label"]].to_numpy().astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def iterate_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool,
                    generator: torch.Generator | None = None
                    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of (xb, yb) batches; the last one may be smaller.

    With shuffle, rows are permuted once (by a CPU `generator`) and then sliced contiguously.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if shuffle:
        order = torch.randperm(len(x), generator=generator).to(x.device)
        x, y = x.index_select(0, order), y.index_select(0, order)
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]
