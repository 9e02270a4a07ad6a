"""The feature layer every backbone shares: one embedding table for all fields.

Input rows are the integer matrix written by `apg.data.preprocess`: one column per single-valued
field and `L` padded columns per multi-valued field (code 0 = padding / out of vocabulary).
All columns are looked up in one table (each field's codes shifted by an offset), which is one
gather per batch instead of one per field; multi-valued fields are mean-pooled over their
non-padding entries.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn


class _Gather(torch.autograd.Function):
    """table[index] with a scatter-add backward: on CPU about 3x faster than the backward of
    `nn.functional.embedding`, which dominated a small model's training step."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.rows = table.shape[0]
        return table.index_select(0, index.reshape(-1)).view(*index.shape, table.shape[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (index,) = ctx.saved_tensors
        grad = grad.reshape(-1, grad.shape[-1])
        table_grad = grad.new_zeros(ctx.rows, grad.shape[1]).index_add_(0, index.reshape(-1), grad)
        return table_grad, None


class FeatureEmbedding(nn.Module):
    """Maps x (B, n_columns) to field embeddings (B, n_fields, dim).

    `schema` is the dict of `schema.json`; `fields` selects a subset (default: all, in schema
    order). With `dim = 1` this is the first-order (linear / "wide") term of every field.
    """

    def __init__(self, schema: dict, dim: int, fields: list[str] | None = None,
                 init_std: float = 0.01):
        super().__init__()
        by_name = {f["name"]: f for f in schema["fields"]}
        names = fields if fields is not None else list(by_name)
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; the data has {list(by_name)}")
        all_columns = [c for f in schema["fields"] for c in f["columns"]]
        self.fields = names
        self.dim = dim
        column_index, offsets = [], []
        # Output layout: runs of consecutive single-valued fields ("single", first, end column)
        # and multi-valued fields ("multi", first, end column), in field order.
        self._layout: list[tuple[str, int, int]] = []
        offset = 0
        for name in names:
            field = by_name[name]
            start = len(column_index)
            for column in field["columns"]:
                column_index.append(all_columns.index(column))
                offsets.append(offset)
            offset += field["vocab_size"]
            kind = field["kind"]
            if kind == "single" and self._layout and self._layout[-1][0] == "single":
                self._layout[-1] = ("single", self._layout[-1][1], len(column_index))
            else:
                self._layout.append((kind, start, len(column_index)))
        self._first = {name: start for name, start in zip(
            names, [0, *itertools.accumulate(len(by_name[n]["columns"]) for n in names)])}
        self.register_buffer("column_index", torch.tensor(column_index), persistent=False)
        self._all_columns_in_order = column_index == list(range(len(all_columns)))
        self.register_buffer("offsets", torch.tensor(offsets), persistent=False)
        self._all_single = all(kind == "single" for kind, _, _ in self._layout)
        self.table = nn.Embedding(offset, dim)
        nn.init.normal_(self.table.weight, std=init_std)

    @property
    def n_fields(self) -> int:
        return len(self.fields)

    def first_value(self, x: torch.Tensor, field: str) -> torch.Tensor:
        """(B, dim): each row's embedding of the field's first value; for a multi-valued field
        its first listed value, not the mean of all (the padding row when it has none)."""
        start = self._first[field]
        codes = x[:, self.column_index[start]] + self.offsets[start]
        return self.table(codes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes = x if self._all_columns_in_order else x.index_select(1, self.column_index)
        emb = _Gather.apply(self.table.weight, codes + self.offsets)  # (B, n_columns, dim)
        if self._all_single:
            return emb
        parts = []
        for kind, start, end in self._layout:
            if kind == "single":
                parts.append(emb[:, start:end])
            else:
                mask = (codes[:, start:end] > 0).unsqueeze(-1).to(emb.dtype)
                pooled = (emb[:, start:end] * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                parts.append(pooled.unsqueeze(1))
        return torch.cat(parts, dim=1)
