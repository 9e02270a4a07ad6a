"""The sections of params.yaml as dataclasses, each checking its own values, and the names
they may take.

Nothing here imports torch, so the pipeline checks params.yaml before it starts a stage's
notebook without paying torch's import (seconds per stage); the modules that use a section
import its class from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERSIONS = ("v1", "v2", "v3", "v4", "v5")             # the APG versions of Table 3
VARIANTS = ("base", *VERSIONS)                         # what a model's tower can be
AGGREGATIONS = ("concat", "mean", "attention")         # of several conditions (Sec. 3.1.1)
INITS = ("kit", "default")                             # APGLinear's initialisation (apg.layers)
STRATEGIES = ("group", "mix_input", "mix_output", "self")   # condition strategies (Sec. 3.1.1)
EFFICIENCY_VERSIONS = ("base", *VERSIONS, "v5-unmerged")    # Table 5's rows
EFFICIENCY_DEVICES = ("cpu", "cuda", "auto")


def throughput_name(table: str, model: str, variant: str) -> str:
    """A timed model's key in the throughput metrics: the run it stands for, "table2/wdl-v5"."""
    return f"{table}/{model}-{variant}"


@dataclass
class APGConfig:
    """The `apg:` section of params.yaml (everything but the version, which is the variant)."""

    rank: int = 4
    overparam: int = 32
    hypernet_hidden: list[int] = field(default_factory=list)
    generated_bias: bool = False
    init: str = "kit"

    def __post_init__(self):
        if self.init not in INITS:
            raise ValueError(f"apg.init {self.init!r} is not one of {INITS}")


@dataclass
class ConditionConfig:
    """The `condition:` section of params.yaml."""

    strategy: str = "group"
    fields: list[str] = field(default_factory=lambda: ["user_id"])
    aggregation: str | None = None
    share_embeddings: bool = True
    dim: int | None = None  # size of own condition embeddings; default: the model's

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"condition.strategy {self.strategy!r} is not one of {STRATEGIES}")
        n = len(self.fields)
        if self.strategy == "group" and n != 1:
            raise ValueError(f"condition.strategy 'group' takes exactly one field, got {n}: "
                             f"{self.fields}; use 'mix_input' or 'mix_output' for several")
        if self.strategy.startswith("mix"):
            if n < 2:
                raise ValueError(f"condition.strategy {self.strategy!r} needs two or more "
                                 f"fields, got {self.fields}")
            if self.aggregation not in AGGREGATIONS:
                raise ValueError(f"condition.aggregation must be one of {AGGREGATIONS} for "
                                 f"{self.strategy!r}, got {self.aggregation!r}")
        if not self.strategy.startswith("mix") and self.aggregation is not None:
            raise ValueError(f"condition.aggregation ({self.aggregation!r}) applies to the mix "
                             f"strategies only; set it to null for {self.strategy!r}")
        if self.strategy == "self" and n:
            raise ValueError("condition.strategy 'self' uses each layer's own input; "
                             f"leave condition.fields empty (got {self.fields})")
        if self.dim is not None and (self.share_embeddings or self.strategy == "self"):
            raise ValueError(f"condition.dim ({self.dim}) sizes the condition's own embeddings "
                             "and only applies with share_embeddings: false and a group or mix "
                             "strategy; shared embeddings have the model's embedding_dim. Set "
                             "dim: null, or share_embeddings: false")


@dataclass
class MultiDomainConfig:
    """The settings of Table 6's multi-domain baselines (apg/models/star.py, mmoe.py), whose
    domain is the group-wise condition's field."""

    experts: int = 4          # MMoE: expert towers shared by the domains
    pn_min_rows: int = 32     # STAR: a domain's own batch moments need this many rows
    aux_hidden: list[int] = field(default_factory=lambda: [32])   # STAR's auxiliary network

    def __post_init__(self):
        if self.experts < 1:
            raise ValueError(f"multidomain.experts must be at least 1, got {self.experts!r}")


@dataclass
class ModelConfig:
    """The `model:` section of params.yaml plus the variant being trained."""

    variant: str = "base"
    embedding_dim: int = 16
    hidden_units: list[int] = field(default_factory=lambda: [128, 64, 32])
    dropout: float = 0.0
    apg: APGConfig = field(default_factory=APGConfig)
    condition: ConditionConfig = field(default_factory=ConditionConfig)
    multidomain: MultiDomainConfig = field(default_factory=MultiDomainConfig)

    @classmethod
    def from_params(cls, variant: str, model: dict, apg: dict | None = None,
                    condition: dict | None = None) -> "ModelConfig":
        """Build from plain dicts (params.yaml sections); unknown keys are an error. A Base
        model reads no APG or condition section (None). A multi-domain baseline's settings
        (`table6.multidomain`) come as the model section's key `multidomain`."""
        if variant != "base" and (apg is None or condition is None):
            raise ValueError(f"variant {variant!r} needs the `apg:` and `condition:` sections")
        model = dict(model)
        multidomain = MultiDomainConfig(**(model.pop("multidomain", None) or {}))
        return cls(variant=variant, **model, apg=APGConfig(**(apg or {})),
                   condition=ConditionConfig(**(condition or {})), multidomain=multidomain)


@dataclass
class TrainConfig:
    """The `train:` section of params.yaml."""

    learning_rate: float = 1e-3
    batch_size: int = 1024
    eval_batch_size: int = 8192
    max_epochs: int = 50
    patience: int = 2
    weight_decay: float = 0.0
    device: str = "auto"
    threads: int = 0  # CPU threads in all; 0 keeps torch's default
    concurrent_runs: int = 3  # runs trained side by side on a CPU; 1 = one after another
    progress: bool = False  # each epoch's line on the terminal as it happens (apg.train)

    def __post_init__(self):
        for name in ("learning_rate", "batch_size", "eval_batch_size", "max_epochs", "patience",
                     "concurrent_runs"):
            if not getattr(self, name) > 0:
                raise ValueError(f"train.{name} must be positive, got {getattr(self, name)!r}")


@dataclass
class ThroughputConfig:
    """The `throughput:` section of params.yaml: how Table 2's throughput is timed
    (`apg.benchmark.time_models`)."""

    rounds: int = 5        # interleaved rounds; the medians over them are reported
    batches: int = 20      # training steps per model and round
    infer_rounds: int = 3  # passes over the validation split per model

    def __post_init__(self):
        for name in ("rounds", "batches", "infer_rounds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"throughput.{name} must be positive, got {getattr(self, name)!r}")


@dataclass
class ReportConfig:
    """The `report:` section of params.yaml: how the reports compare runs (no defaults here:
    params.yaml is their one source)."""

    alpha: float                          # paired t-test level; CIs are 1 - alpha
    epoch_budgets: list[int]              # validation AUC after this many epochs
    frequency_fields: list[str]           # fields whose training counts bucket the test rows
    n_buckets: int

    def __post_init__(self):
        if not 0 < self.alpha < 1:
            raise ValueError(f"report.alpha must lie between 0 and 1, got {self.alpha!r}")
        if not self.epoch_budgets or min(self.epoch_budgets) < 1:
            raise ValueError(f"report.epoch_budgets must be positive epoch counts, got "
                             f"{self.epoch_budgets!r}")
        if self.n_buckets < 2:
            raise ValueError(f"report.n_buckets must be at least 2, got {self.n_buckets!r}")


@dataclass
class Figure1Config:
    """The `figure1:` section of params.yaml: active against cold users (`apg.activity`; no
    defaults here: params.yaml is their one source)."""

    user_field: str                       # whose activity groups are compared
    attribute: str                        # a user property whose distribution should look alike
    quantile: float                       # cold: counts at or below it; active: at or above 1 - it
    seed: int                             # the activity-matched CTR samples


@dataclass
class Figure6Config:
    """The `figure6:` section of params.yaml: the S_i of Table 6's APG per group against the
    groups' similarity in the data (`apg.generated`, `apg.similarity`; no defaults here:
    params.yaml is their one source)."""

    setting: str                          # the Table 6 setting whose groups are drawn (cg)
    max_groups: int | None                # the groups with the most training rows; None: all
    min_rows: int                         # rows a user needs in a group for a CTR there
    permutations: int                     # of the Mantel test
    seed: int                             # of the permutations

    def __post_init__(self):
        for name in ("min_rows", "permutations"):
            if not getattr(self, name) >= 1:
                raise ValueError(f"figure6.{name} must be at least 1, got "
                                 f"{getattr(self, name)!r}")


@dataclass
class EfficiencyConfig:
    """The `efficiency:` section of params.yaml: what Table 5 measures and how."""

    input_dim: int = 393
    scales: list[list[int]] = field(default_factory=lambda: [
        [64, 32, 16], [128, 64, 32], [256, 128, 64], [512, 256, 128], [1024, 512, 256]])
    versions: list[str] = field(default_factory=lambda: list(EFFICIENCY_VERSIONS))
    rank: int = 4
    overparam: int = 32
    # A group-wise condition vector of width D. The paper does not state D; its v1 / Base
    # memory ratio (419.11 / 12.91, about 32x at the largest scale; v1 stores N M D values where
    # Base stores N M) implies D close to 32.
    condition_dim: int = 32
    rows: int = 478138          # IAAC's size: one epoch of the paper's inference
    batch_size: int = 1024
    round_seconds: float = 0.25  # each timed round calls a tower until this much time has passed
    warmup_batches: int = 2
    repeats: int = 5
    threads: int = 2
    device: str = "cpu"
    cuda_graphs: bool = False   # on CUDA, each tower's forward replayed as one captured graph
    seed: int = 0
    layer_widths: list[int] = field(default_factory=lambda: [1024, 512])  # the one-layer check
    layer_rounds: int = 50

    def __post_init__(self):
        for name in ("input_dim", "rank", "overparam", "condition_dim", "rows", "batch_size",
                     "round_seconds", "threads", "layer_rounds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"efficiency.{name} must be positive, got {getattr(self, name)!r}")
        if self.warmup_batches < 0:
            raise ValueError(f"efficiency.warmup_batches must be >= 0, got {self.warmup_batches}")
        if self.repeats < 1:
            raise ValueError(f"efficiency.repeats must be >= 1, got {self.repeats}")
        if not self.scales:
            raise ValueError("efficiency.scales is empty; give one list of hidden units per scale")
        for scale in self.scales:
            if not scale or any(not isinstance(u, int) or u < 1 for u in scale):
                raise ValueError(f"efficiency.scales: {scale!r} is not a non-empty list of "
                                 "positive hidden widths")
        if not self.versions:
            raise ValueError(f"efficiency.versions is empty; choose from {EFFICIENCY_VERSIONS}")
        unknown = [v for v in self.versions if v not in EFFICIENCY_VERSIONS]
        if unknown:
            raise ValueError(f"efficiency.versions: unknown version(s) {unknown}; "
                             f"choose from {EFFICIENCY_VERSIONS}")
        if len(set(self.versions)) != len(self.versions):
            raise ValueError(f"efficiency.versions lists a version twice: {self.versions}")
        if len(self.layer_widths) != 2 or min(self.layer_widths) < 1:
            raise ValueError(f"efficiency.layer_widths must be [n_in, n_out], got "
                             f"{self.layer_widths!r}")
        if self.device not in EFFICIENCY_DEVICES:
            raise ValueError(f"efficiency.device {self.device!r} is not one of "
                             f"{EFFICIENCY_DEVICES}")
