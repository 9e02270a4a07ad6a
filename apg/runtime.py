"""Process-level settings: the device to run on, freed memory kept in the heap, thread counts.

Large tensors (a v1 layer generates B x N x M weights per batch) are allocated and freed on every
step. glibc serves such blocks with fresh `mmap` pages, so each step pays page faults for memory
it just released; on a 2-core machine that was 3-5x the arithmetic (see TOOLCHAIN.md and the
efficiency report). Keeping freed blocks in the heap removes that cost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from contextlib import contextmanager

import torch

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Ask glibc malloc to reuse freed blocks instead of returning them to the OS.

    Returns True when applied (glibc on Linux), False elsewhere (nothing to do there).
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2**30))


@contextmanager
def cpu_threads(device: torch.device, threads: int):
    """Run with `threads` torch threads on CPU; restore the previous setting afterwards."""
    previous = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work (timings); nothing to wait for on a CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def resolve_device(device: str) -> torch.device:
    """'auto' picks CUDA when present, else CPU; 'cpu' / 'cuda' / 'cuda:N' are taken as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available here; "
                         "use device: auto or cpu")
    if not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"unknown device {device!r}; use auto, cpu or cuda")
    return torch.device(device)
