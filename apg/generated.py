"""What a trained APG model generates for each group (Figure 6, Sec. 4.6): the S_i of every APG
layer of its tower for each value of its group-wise condition field, and the groups' rows in
the training split (for a similarity computed from the data alone, `apg.similarity`).

A group is a code of the condition field; for a multi-valued field (a movie's genres) a row's
group is its first value, the rule the condition itself follows (`apg.conditions`). Code 0
(padding, unknown) is no group.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch

from apg.data.batches import feature_columns, load_schema
from apg.layers import APGLinear
from apg.models import CTRModel


def first_column(schema: dict, field: str) -> str:
    """The column holding a field's (first) value."""
    by_name = {f["name"]: f for f in schema["fields"]}
    if field not in by_name:
        raise ValueError(f"unknown field {field!r}; the data has {list(by_name)}")
    return by_name[field]["columns"][0]


def group_names(processed_dir: Path, field: str) -> dict[int, str]:
    """Code -> value of a field's training vocabulary (code 0 left out)."""
    vocab = json.loads((Path(processed_dir) / "vocab.json").read_text(encoding="utf-8"))
    return dict(enumerate(vocab[field], 1))


@torch.no_grad()
def generated_s(model: CTRModel, schema: dict, field: str, codes) -> np.ndarray:
    """(groups, values): for each code of `field`, the S_i (K x K, Eq. 5) every APG layer of
    the model's tower generates from that group's condition, flattened and concatenated layer
    after layer. The model must be conditioned group-wise on `field` with shared-factor layers
    (v4, v5), where S_i is all that is generated."""
    condition = model.condition
    if (condition is None or condition.config.strategy != "group"
            or condition.config.fields != [field]):
        raise ValueError(f"the model is not conditioned group-wise on {field!r} (its "
                         f"condition: {condition.config if condition is not None else None})")
    layers = [m for m in model.tower.modules() if isinstance(m, APGLinear)]
    if not layers or any(layer.version not in ("v4", "v5") for layer in layers):
        raise ValueError("generated_s reads S_i of shared-factor APG layers (v4, v5); the "
                         f"tower has {[layer.version for layer in layers] or 'no APG layers'}")
    columns = feature_columns(schema)
    x = torch.zeros(len(codes), len(columns), dtype=torch.long)
    x[:, columns.index(first_column(schema, field))] = torch.as_tensor(list(codes))
    model.eval()
    z = condition(x, model.embedding(x), model.embedding)
    return torch.cat([layer.generate(z)["S"].flatten(1) for layer in layers], 1).numpy()


def largest_groups(rows: pd.DataFrame, limit: int | None) -> list[int]:
    """The codes of the groups `training_groups` found, in code order: all of them, or the
    `limit` with the most rows (the paper's Figure 6 draws 10 of Amazon's item categories)."""
    counts = rows["group"].value_counts(sort=False).sort_index()
    if limit is not None:
        if limit < 2:
            raise ValueError(f"figure6.max_groups must be at least 2 (a similarity needs "
                             f"pairs), got {limit}")
        counts = counts.sort_values(ascending=False, kind="stable").iloc[:limit]
    return sorted(int(code) for code in counts.index)


def training_groups(processed_dir: Path, field: str, user_field: str) -> pd.DataFrame:
    """The training split's rows as (user, group, label), group = the row's code of `field`
    (its first value), rows without one dropped."""
    schema = load_schema(processed_dir)
    column = first_column(schema, field)
    table = pq.read_table(Path(processed_dir) / "train.parquet",
                          columns=[user_field, column, schema["label"]]).to_pandas()
    table.columns = ["user", "group", "label"]
    return table[table["group"] > 0].reset_index(drop=True)
