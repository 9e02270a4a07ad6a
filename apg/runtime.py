"""Process-level settings that make CPU training fast on Linux.

Large tensors (a v1 layer generates B x N x M weights per batch) are allocated and freed on every
step. glibc serves such blocks with fresh `mmap` pages, so each step pays page faults for memory
it just released; on a 2-core machine that was 3-5x the arithmetic (see TOOLCHAIN.md and the
efficiency report). Keeping freed blocks in the heap removes that cost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

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
