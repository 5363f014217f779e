"""Let the C allocator keep freed memory for the next forward pass (glibc only).

A forward pass of a video model allocates and frees the same few-megabyte activation buffers
every time. glibc serves blocks above its mmap threshold (adjusted up to 32 MiB as blocks are
freed) with fresh mappings and returns free memory at the top of the heap beyond its trim
threshold, so each pass touches new pages again: on a 2-core CPU, ResNet-50 over 8 frames took
about 57 000 page faults per forward, ~15 % of its time. Serving blocks up to 32 MiB from the
heap and keeping up to 1 GiB of freed heap makes later passes reuse pages that are already
mapped (19 000 faults; TSN's forward 300 → 239 ms, `benchmarks/bench_models.py --mmaction`).
The process keeps at most that much freed memory; peak memory is unchanged. ``train``,
``test``/``evaluate`` and ``predict`` call this; it is a no-op where the C library is not
glibc.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's own upper bound for the dynamic threshold
TRIM_THRESHOLD = 1 << 30

_done = False


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process; True if they were set."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):  # musl, or no mallopt: leave the allocator as it is
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _done
