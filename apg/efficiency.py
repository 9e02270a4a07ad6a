"""Table 5 (Sec. 4.4): inference time and hidden-layer memory of Base and APG v1-v5, beside the
per-layer costs that Table 1 predicts.

The setting is the paper's: the WDL deep tower with three hidden layers, input width 393, K = 4,
scales [64,32,16] .. [1024,512,256]; v5 is measured after `merge_for_inference()` (Sec. 3.2, "No
Additional Inference Latency and Memory Cost"), and "v5-unmerged" is the v5 tower as trained.
Inputs are synthetic: the cost of a forward pass depends on shapes, not on values.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.ticker import NullLocator
from torch import nn
from torch.nn import functional as F

from apg import paper
from apg.config import EFFICIENCY_VERSIONS, APGConfig, EfficiencyConfig
from apg.layers import APGLinear
from apg.reporting import plot_style
from apg.runtime import cpu_threads, keep_freed_memory, resolve_device, synchronize
from apg.tower import Tower

BYTES_PER_VALUE = 4  # float32
COLUMNS = ("device", "version", "hidden_units", "time_s", "batch_ms", "memory_mb", "stored_params",
           "generated_per_instance", "peak_mb", "table1_macs", "table1_memory", "time_delta_pct",
           "memory_delta_pct", "paper_time_s", "paper_memory", "paper_time_delta_pct",
           "paper_memory_delta_pct", "paper_time_delta_pct_printed",
           "paper_memory_delta_pct_printed", "table1_macs_ratio", "table1_memory_ratio")


def scale_label(hidden_units: Sequence[int]) -> str:
    """"[1024,512,256]": the hidden units as Table 5 heads its columns (without the input)."""
    return "[" + ",".join(str(u) for u in hidden_units) + "]"


# -- models and their counted costs -------------------------------------------------------------
def build_tower(version: str, cfg: EfficiencyConfig, hidden_units: Sequence[int]) -> Tower:
    """The hidden layers of Table 5's WDL tower for one of `EFFICIENCY_VERSIONS`, in eval mode.

    Called as `tower(x, z)` (Base ignores z). "v5" is the tower after `merge_for_inference()`,
    "v5-unmerged" the v5 tower as trained. Weights are drawn from `cfg.seed`.
    """
    if version not in EFFICIENCY_VERSIONS:
        raise ValueError(f"unknown version {version!r}; choose one of {EFFICIENCY_VERSIONS}")
    variant = "v5" if version == "v5-unmerged" else version
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        tower = Tower(cfg.input_dim, list(hidden_units), variant,
                      apg=APGConfig(rank=cfg.rank, overparam=cfg.overparam),
                      condition_dim=cfg.condition_dim)
    if version == "v5":
        tower = tower.merge_for_inference()
    return tower.eval()


def _layer_costs(version: str, n: int, m: int, k: int, d: int) -> tuple[int, int]:
    """(multiply-adds, memory values) per instance of one layer N -> M: Table 1's Total Cost."""
    low_rank = n * k + m * k + k * k            # the generated U_i, V_i, S_i of v2 / v3
    if version == "base":                       # W x_i
        return n * m, n * m
    if version == "v1":                         # W_i x_i: generate W_i (NMD), apply it (NM)
        return n * m * d + n * m, n * m * d
    if version == "v2":                         # (U_i, S_i, V_i) x_i: + rebuild W_i (NKK + NMK)
        return low_rank * d + n * k * k + n * m * k + n * m, low_rank * d
    if version == "v3":                         # U_i (S_i (V_i x_i)): decomposed feed-forward
        return low_rank * (d + 1), low_rank * d
    # v4, and v5 (Table 1 omits over-parameterisation: merged, it costs what v4 costs)
    return k * k * d + n * k + m * k + k * k, k * k * d + n * k + m * k


def table1_costs(version: str, input_dim: int, hidden_units: Sequence[int], rank: int,
                 condition_dim: int) -> dict[str, int]:
    """Per-instance costs of the tower's hidden layers by Table 1's "Total Cost" columns.

    Exact counts of the terms the table states in O() (N, M: a layer's input and output widths,
    D: condition width, K: rank), summed over the layers:
      Base  macs NM                               memory NM
      v1    macs NMD + NM                         memory NMD
      v2    macs (NK+MK+KK)D + NKK + NMK + NM     memory (NK+MK+KK)D
      v3    macs (NK+MK+KK)(D+1)                  memory (NK+MK+KK)D
      v4/v5 macs KKD + NK + MK + KK               memory KKD + NK + MK
    macs = SPG + R-Wi + FF (computation), memory = SPG + SPS. Biases, the generator's bias and
    the generated values themselves are outside Table 1 (`memory_counts` counts them).
    "v5-unmerged" is given v5's costs: Table 1 does not depict over-parameterisation.
    """
    if version not in EFFICIENCY_VERSIONS:
        raise ValueError(f"unknown version {version!r}; choose one of {EFFICIENCY_VERSIONS}")
    widths = [input_dim, *hidden_units]
    costs = [_layer_costs(version, n, m, rank, condition_dim)
             for n, m in zip(widths[:-1], widths[1:])]
    return dict(macs=sum(c[0] for c in costs), memory=sum(c[1] for c in costs))


def memory_counts(tower: nn.Module, tensors=None) -> dict[str, int]:
    """Values a tower's hidden layers hold: Table 5's memory, counted rather than profiled.

    stored: every value (weights, biases, generator weights and biases, shared U, V or v5's
    unmerged factors) of `tensors`, by default the tower's parameters; generated: values its
    generators emit per instance (0 for Base). Table 6 counts a model this way with its
    `hidden_tensors()`: what lies between the embeddings and the logit (WDL's tower and
    output layer; STAR's normalisation with its running moments, star layers and auxiliary
    network; MMoE's experts, gates and heads), never the embeddings or the wide part (the
    paper's footnote 6).
    """
    stored = sum(p.numel() for p in (tower.parameters() if tensors is None else tensors))
    generated = sum(m.generator.out_dim for m in tower.modules() if isinstance(m, APGLinear))
    return dict(stored=stored, generated=generated)


def memory_mb(counts: dict[str, int]) -> float:
    """float32 megabytes of stored plus per-instance generated values (10^6 bytes, as "M")."""
    return BYTES_PER_VALUE * (counts["stored"] + counts["generated"]) / 1e6


# -- timing ----------------------------------------------------------------------------------
def synthetic_batch(cfg: EfficiencyConfig, device: torch.device) -> tuple[torch.Tensor, ...]:
    """x ~ N(0, 1) of shape (batch, input_dim) and z ~ N(0, 1) of shape (batch, condition_dim)."""
    g = torch.Generator().manual_seed(cfg.seed)
    x = torch.randn(cfg.batch_size, cfg.input_dim, generator=g)
    z = torch.randn(cfg.batch_size, cfg.condition_dim, generator=g)
    return x.to(device), z.to(device)


def captured(tower: nn.Module, x: torch.Tensor, z: torch.Tensor,
             device: torch.device) -> tuple[Callable, float]:
    """`tower(x, z)` captured once as a CUDA graph: a call that replays all its kernels in one
    launch (the per-kernel launch cost, not the arithmetic, bounds a small tower's time on a
    GPU), and the memory (MB) the capture allocated, what a replay uses. Under inference mode."""
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):         # warm-up on a side stream, as capture requires
        for _ in range(2):
            tower(x, z)
    torch.cuda.current_stream(device).wait_stream(stream)
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        tower(x, z)
    peak = (torch.cuda.max_memory_allocated(device) - before) / 1e6
    return lambda x, z: graph.replay(), peak


def time_epoch(towers: dict[str, nn.Module], x: torch.Tensor, z: torch.Tensor,
               cfg: EfficiencyConfig, device: torch.device) -> dict[str, dict[str, float]]:
    """Inference time of one epoch per tower, and on CUDA the peak memory its calls allocate.

    `warmup_batches` untimed calls per tower, then `repeats` rounds; in each round every tower in
    turn runs batches until `round_seconds` have passed, at least one (interleaved, so drift
    hits all alike; a fast tower gets many calls per round, v2 at the largest scale one).
    On CUDA the calls of a round are queued back to back in chunks of 1, 2, 4, ... calls, and
    the round ends once the device has finished a chunk after `round_seconds`, as in an epoch
    of inference (no wait for the device after each batch, nor a queue far ahead of it).
    batch_ms is the median over rounds of round time / calls; time_s extrapolates it to one
    epoch over `rows`: batch time x ceil(rows / batch_size). peak_mb is the largest rise of
    allocated memory over the memory allocated before a tower's calls (NaN on CPU). With
    `cuda_graphs` each tower's call is a replay of its `captured` graph, and peak_mb what the
    capture allocated.
    """
    seconds = {name: [] for name in towers}
    peak = {name: 0.0 if device.type == "cuda" else math.nan for name in towers}
    with torch.inference_mode():
        for tower in towers.values():
            for _ in range(cfg.warmup_batches):
                tower(x, z)
        if cfg.cuda_graphs:
            towers = dict(towers)               # the callers' towers stay modules
            for name, tower in towers.items():
                towers[name], peak[name] = captured(tower, x, z, device)
        for _ in range(cfg.repeats):
            for name, tower in towers.items():
                synchronize(device)
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                    before = torch.cuda.memory_allocated(device)
                start, calls, chunk = time.perf_counter(), 0, 1
                while calls == 0 or time.perf_counter() - start < cfg.round_seconds:
                    for _ in range(chunk):          # queued back to back, then waited for:
                        tower(x, z)                 # a round's time is the device's, however
                    calls += chunk                  # far ahead of it the host can queue
                    chunk *= 2
                    synchronize(device)
                seconds[name].append((time.perf_counter() - start) / calls)
                if device.type == "cuda":
                    rise = (torch.cuda.max_memory_allocated(device) - before) / 1e6
                    peak[name] = max(peak[name], rise)
    batches = math.ceil(cfg.rows / cfg.batch_size)
    return {name: dict(time_s=float(np.median(s)) * batches, batch_ms=float(np.median(s)) * 1e3,
                       peak_mb=peak[name]) for name, s in seconds.items()}


def measure_scale(cfg: EfficiencyConfig, hidden_units: Sequence[int], versions: Sequence[str],
                  device: torch.device) -> list[dict]:
    """One Table 5 column: time, counted memory and Table 1's costs of each version."""
    keep_freed_memory()
    towers = {v: build_tower(v, cfg, hidden_units).to(device) for v in versions}
    x, z = synthetic_batch(cfg, device)
    with cpu_threads(device, cfg.threads):
        timings = time_epoch(towers, x, z, cfg, device)
    rows = []
    for version, tower in towers.items():
        counts = memory_counts(tower)
        table1 = table1_costs(version, cfg.input_dim, hidden_units, cfg.rank, cfg.condition_dim)
        rows.append(dict(version=version, hidden_units=scale_label(hidden_units),
                         **timings[version], memory_mb=memory_mb(counts),
                         stored_params=counts["stored"],
                         generated_per_instance=counts["generated"],
                         table1_macs=table1["macs"], table1_memory=table1["memory"]))
    return rows


def device_label(device: torch.device, threads: int) -> str:
    """"cpu (2 threads)" or the CUDA card's name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({threads} thread{'s' if threads != 1 else ''})"


def _paper_value(version: str, hidden: str, quantity: str, key: str) -> float:
    found = paper.table5(version, json.loads(hidden), quantity)
    return math.nan if found is None or found[key] is None else found[key]


def run_table5(cfg: EfficiencyConfig,
               progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Table 5 measured: one row per scale x version, with Δ vs Base and the paper's numbers.

    Δ is 100 (x / base - 1) in %, within the same scale and device, as the paper computes it
    (NaN for Base). paper_*_delta_pct are recomputed from the printed costs, paper_*_printed as
    printed (`apg.paper.table5`); NaN where the paper has no number (v3 memory, v5).
    `progress`, if given, is called with a line after each scale.
    """
    if "base" not in cfg.versions:
        raise ValueError(f"efficiency.versions {cfg.versions} lacks 'base': Table 5's Δ is "
                         "relative to Base")
    device = resolve_device(cfg.device)
    if cfg.cuda_graphs and device.type != "cuda":
        raise ValueError(f"efficiency.cuda_graphs needs a CUDA device, not {device}; set "
                         "efficiency.device: cuda or cuda_graphs: false")
    label = device_label(device, cfg.threads) + (", CUDA graphs" if cfg.cuda_graphs else "")
    rows = []
    for hidden_units in cfg.scales:
        rows += measure_scale(cfg, hidden_units, cfg.versions, device)
        if progress:
            progress(f"{label} {scale_label(hidden_units)}: {', '.join(cfg.versions)} done")
    table = pd.DataFrame(rows)
    table.insert(0, "device", label)
    base = table[table["version"] == "base"].set_index("hidden_units")
    for column, delta in (("time_s", "time_delta_pct"), ("memory_mb", "memory_delta_pct"),
                          ("table1_macs", "table1_macs_ratio"),
                          ("table1_memory", "table1_memory_ratio")):
        ratio = table[column] / table["hidden_units"].map(base[column])
        table[delta] = 100 * (ratio - 1) if delta.endswith("pct") else ratio
    table.loc[table["version"] == "base", ["time_delta_pct", "memory_delta_pct"]] = math.nan
    for quantity, name in (("time", "paper_time_s"), ("memory", "paper_memory")):
        for key, column in (("cost", name), ("delta_pct", f"paper_{quantity}_delta_pct"),
                            ("delta_pct_printed", f"paper_{quantity}_delta_pct_printed")):
            table[column] = [_paper_value(v, h, quantity, key)
                             for v, h in zip(table["version"], table["hidden_units"])]
    return table[list(COLUMNS)]


# -- one layer, several formulations -------------------------------------------------------------
def _v4_formulations(layer: APGLinear) -> dict[str, Callable]:
    """y = U (S_i (V x)) + b written three ways from the layer's own tensors (Eq. 5-6)."""
    u, v, bias, k = layer.U, layer.V, layer.bias, layer.rank
    weight, gen_bias = layer.generator.weights[-1][0], layer.generator.biases[-1][0]

    def s_of(z):                                  # S_i = reshape(G(z_i)), G one linear layer
        return torch.addmm(gen_bias, z, weight).view(-1, k, k)

    def bmm(x, z):
        h = torch.bmm(s_of(z), (x @ v.t()).unsqueeze(-1)).squeeze(-1)
        return h @ u.t() + bias

    def einsum(x, z):
        return torch.einsum("ok,bkj,jn,bn->bo", u, s_of(z), v, x) + bias

    def broadcast(x, z):
        h = (s_of(z) * (x @ v.t()).unsqueeze(-2)).sum(-1)
        return h @ u.t() + bias

    return {"matmul-bmm-matmul": bmm, "einsum chain": einsum, "broadcast multiply-sum": broadcast}


def _v4_steps(layer: APGLinear, x: torch.Tensor, z: torch.Tensor) -> dict[str, Callable]:
    """The kit's v4 forward split into its steps, each on its own precomputed input, and the
    memory-traffic floor (reading x once, writing y once): where the layer's time goes."""
    k = layer.rank
    s = layer.generator(z).view(-1, k, k)
    vx = F.linear(x, layer.V).unsqueeze(-1)
    svx = torch.bmm(s, vx).squeeze(-1)
    y = torch.empty(x.shape[0], layer.out_features, device=x.device)
    return {"step: S_i = G(z_i)": lambda x, z: layer.generator(z),
            "step: V x": lambda x, z: F.linear(x, layer.V),
            "step: S_i (V x)": lambda x, z: torch.bmm(s, vx),
            "step: U (...) + b": lambda x, z: F.linear(svx, layer.U, layer.bias),
            "floor: read x once": lambda x, z: x.sum(),
            "floor: write y once": lambda x, z: y.fill_(0.0)}


def layer_formulations(n_in: int = 1024, n_out: int = 512, batch: int = 1024, rank: int = 4,
                       condition_dim: int = 32, rounds: int = 30, threads: int = 2,
                       seed: int = 0, device: str = "cpu") -> pd.DataFrame:
    """A single v4 layer against nn.Linear(n_in, n_out) on the same input (Sec. 4.4).

    Every formulation is first checked to equal the kit's `APGLinear` v4 (atol 1e-4); then in
    each of `rounds` rounds every call (with the kit's steps and the memory-traffic floor,
    `_v4_steps`) is timed once, in a fresh random order: a call right after nn.Linear finds
    the caches flushed by its large product, and a fixed or rotated order would hand that
    penalty to the same neighbour in almost every round. On CUDA one timed sample is 100
    calls queued back to back (a single call is shorter than the wait for the device).
    median_ms is the median over rounds; ratio is relative to nn.Linear.
    """
    keep_freed_memory()
    where = resolve_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        linear = nn.Linear(n_in, n_out).to(where)
        layer = APGLinear(n_in, n_out, condition_dim, version="v4", rank=rank).to(where)
        x, z = torch.randn(batch, n_in).to(where), torch.randn(batch, condition_dim).to(where)
    formulations = _v4_formulations(layer)
    calls = {"nn.Linear": lambda x, z: linear(x), "APGLinear v4 (kit)": layer, **formulations}
    per_sample = 100 if where.type == "cuda" else 1
    order = np.random.default_rng(seed)
    with cpu_threads(where, threads), torch.inference_mode():
        expected = layer(x, z)
        for name, call in formulations.items():
            torch.testing.assert_close(call(x, z), expected, atol=1e-4, rtol=1e-4,
                                       msg=lambda m, name=name: f"{name}: {m}")
        calls.update(_v4_steps(layer, x, z))
        ms = {name: [] for name in calls}
        names = list(calls)
        for _ in range(rounds):
            for name in order.permutation(names):
                synchronize(where)
                start = time.perf_counter()
                for _ in range(per_sample):
                    calls[name](x, z)
                synchronize(where)
                ms[name].append((time.perf_counter() - start) * 1e3 / per_sample)
    median = {name: float(np.median(t)) for name, t in ms.items()}
    return pd.DataFrame([dict(formulation=name, n_in=n_in, n_out=n_out, batch=batch,
                              median_ms=t, ratio=t / median["nn.Linear"])
                         for name, t in median.items()])


# -- targets and figure --------------------------------------------------------------------------
_OPS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal}


def _target(target: str, measured: float, op: str, threshold: float, note: str) -> dict:
    met = None if not np.isfinite(measured) else bool(_OPS[op](measured, threshold))
    return dict(target=target, measured=measured, threshold=threshold, met=met, note=note)


def _ratio(rows: pd.DataFrame, column: str, version: str, reference: str) -> tuple[float, str]:
    """rows[column] of version / of reference, or NaN and a note naming what is missing."""
    values = rows.set_index("version")[column]
    missing = [v for v in (version, reference) if v not in values.index]
    if missing:
        return math.nan, f"not measured: {', '.join(missing)}"
    return float(values[version] / values[reference]), ""


def speed_targets(table5: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    """The efficiency targets of the issue, checked on measurements (never in timed tests).

    table5: `run_table5` output of one device (its largest scale is used); layers:
    `layer_formulations` output. measured is a ratio; met is None where it could not be
    measured (see note). The training-throughput target of APG-WDL v4 is checked with the
    other training timings, in the Table 2 report (`reporting.throughput_verdicts`).
    """
    largest = max(table5["hidden_units"].unique(), key=json.loads)
    rows = table5[table5["hidden_units"] == largest]
    where = f"{rows['device'].iloc[0]}, {largest}"
    out = []
    for target, column, version, reference, op, threshold in (
            ("v4 time <= 0.2 x Base", "time_s", "v4", "base", "<=", 0.2),
            ("v4 hidden-layer memory <= 0.1 x Base", "memory_mb", "v4", "base", "<=", 0.1),
            ("v5 merged time within 10% of v4", "time_s", "v5", "v4", "<=", 1.1),
            ("v5 merged faster than v5 unmerged", "time_s", "v5", "v5-unmerged", "<", 1.0),
            ("v3 faster than v2", "time_s", "v3", "v2", "<", 1.0),
            ("v2 faster than v1", "time_s", "v2", "v1", "<", 1.0)):
        measured, missing = _ratio(rows, column, version, reference)
        out.append(_target(target, measured, op, threshold, missing or where))
    kit = layers.set_index("formulation").loc["APGLinear v4 (kit)"]
    out.append(_target("APGLinear v4 <= 0.06 x nn.Linear", float(kit["ratio"]), "<=", 0.06,
                       f"{int(kit['n_in'])}->{int(kit['n_out'])}, batch {int(kit['batch'])}, "
                       "median of interleaved rounds"))
    return pd.DataFrame(out)


def _faster(rows: pd.DataFrame, column: str, fast: str, slow: str) -> tuple[int, int]:
    """At how many of the scales where both were measured `fast` took less than `slow`."""
    wide = rows.pivot(index="hidden_units", columns="version", values=column)
    if fast not in wide or slow not in wide:
        return 0, 0
    both = wide[[fast, slow]].dropna()
    return int((both[fast] < both[slow]).sum()), len(both)


def table5_verdicts(table5: pd.DataFrame) -> list[str]:
    """Sec. 4.4's claims checked against one device's `run_table5` table, in plain words.

    The abstract's headline (v4 against Base at the largest scale: -38.7 % time, -96.6 %
    memory) holds when our reduction is at least the paper's, holds in direction when it is
    smaller, and does not hold otherwise. The orderings of the versions are counted per scale,
    ours beside the paper's own count; Table 1's predicted cost ratios sit beside measured ones.
    """
    largest = max(table5["hidden_units"].unique(), key=json.loads)
    at = table5[table5["hidden_units"] == largest].set_index("version")
    device = table5["device"].iloc[0]
    lines = []
    for quantity in ("time", "memory"):
        if "v4" not in at.index:
            break
        ours = at.loc["v4", f"{quantity}_delta_pct"]
        theirs = at.loc["v4", f"paper_{quantity}_delta_pct_printed"]
        if not np.isfinite(theirs):
            lines.append(f"v4 {quantity} against Base at {largest}: {ours:+.1f} % here "
                         f"({device}); the paper has no number at this scale.")
            continue
        verdict = ("holds" if ours <= theirs else
                   "holds in direction, but the reduction is smaller than the paper's"
                   if ours < 0 else "does not hold")
        lines.append(f"v4 {quantity} against Base at {largest}: {ours:+.1f} % here ({device}), "
                     f"{theirs:+.1f} % in the paper: {verdict}.")
    for fast, slow in (("v2", "v1"), ("v3", "v2"), ("v4", "v3"), ("v4", "base"),
                       ("v5", "v5-unmerged")):
        ours, n = _faster(table5, "time_s", fast, slow)
        if not n:
            continue
        theirs, m = _faster(table5, "paper_time_s", fast, slow)
        paper_says = f"the paper: {theirs} of {m}" if m else "not in the paper"
        lines.append(f"{fast} faster than {slow}: at {ours} of {n} scales ({paper_says}).")
    for version in at.index.drop("base", errors="ignore"):
        measured = at.loc[version, "time_s"] / at.loc["base", "time_s"]
        lines.append(f"{version} at {largest}: Table 1 predicts "
                     f"{at.loc[version, 'table1_macs_ratio']:.3g} x Base's multiply-adds; it "
                     f"took {measured:.3g} x Base's time.")
    return lines


def plot_table5(table5: pd.DataFrame):
    """Time per epoch and hidden-layer memory against scale, one line per version (log axes)."""
    plt = plot_style()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    scales = list(dict.fromkeys(table5["hidden_units"]))
    first = [json.loads(s)[0] for s in scales]
    for ax, column, ylabel in ((axes[0], "time_s", "inference time per epoch (s)"),
                               (axes[1], "memory_mb", "hidden-layer memory (MB)")):
        for version, rows in table5.groupby("version", sort=False):
            x = [json.loads(s)[0] for s in rows["hidden_units"]]
            ax.plot(x, rows[column], marker="o", label=version)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(first, scales, rotation=20)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("hidden units")
        ax.set_ylabel(ylabel)
    axes[0].set_title(f"Table 5, {table5['device'].iloc[0]}")
    axes[1].legend(frameon=False)
    fig.tight_layout()
    return fig
