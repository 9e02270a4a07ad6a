"""The domain of an instance for the multi-domain baselines of Table 6 (Sec. 4.5): one field's
code.

The group-wise condition names the field (`condition.fields`, one field): coarse-grained (cg)
the movie's genre, fine-grained (fg) the movie itself. A multi-valued field gives its first
value; preprocessing sorts a movie's genres, so a movie's genre domain is its alphabetically
first genre. Code 0 (unknown) is a domain of its own.
"""

from __future__ import annotations

import torch
from torch import nn

from apg.config import ModelConfig


class DomainIndex(nn.Module):
    """Maps x (B, n_columns) to each row's domain, a code in [0, n_domains)."""

    def __init__(self, schema: dict, field: str):
        super().__init__()
        by_name = {f["name"]: f for f in schema["fields"]}
        if field not in by_name:
            raise ValueError(f"unknown domain field {field!r}; the data has {list(by_name)}")
        columns = [c for f in schema["fields"] for c in f["columns"]]
        self.field = field
        self.column = columns.index(by_name[field]["columns"][0])
        self.n_domains = by_name[field]["vocab_size"]

    @classmethod
    def of_model(cls, schema: dict, config: ModelConfig, model: str) -> "DomainIndex":
        """The domain of a multi-domain `model` (STAR, MMoE): its config's group-wise
        condition field; such a model has no APG layers."""
        if config.variant != "base" or config.condition.strategy != "group":
            raise ValueError(f"{model} takes its domain from a group-wise condition (one "
                             "field) and has no APG layers: variant 'base', "
                             "condition.strategy 'group'")
        return cls(schema, config.condition.fields[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.column]

    def extra_repr(self) -> str:
        return f"field={self.field!r}, n_domains={self.n_domains}"
