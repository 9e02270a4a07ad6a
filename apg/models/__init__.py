"""The backbones (one file each), Table 6's multi-domain baselines on WDL, and `build_model`,
the one way the kit makes a model."""

from __future__ import annotations

from apg.models.autoint import AutoInt
from apg.models.base import CTRModel, ModelConfig
from apg.models.dcn import DCN
from apg.models.deepfm import DeepFM
from apg.models.difm import DIFM
from apg.models.fibinet import FiBiNET
from apg.models.mmoe import MMoE
from apg.models.pnn import PNN
from apg.models.star import STAR
from apg.models.wdl import WDL

MODELS: dict[str, type[CTRModel]] = {"wdl": WDL, "pnn": PNN, "fibinet": FiBiNET, "difm": DIFM,
                                     "deepfm": DeepFM, "dcn": DCN, "autoint": AutoInt,
                                     "mmoe": MMoE, "star": STAR}


def build_model(name: str, schema: dict, config: ModelConfig) -> CTRModel:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](schema, config)


__all__ = ["MODELS", "CTRModel", "ModelConfig", "build_model"]
