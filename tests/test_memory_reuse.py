"""``keep_freed_memory``: after it, a forward pass's activation buffers come from the heap and
stay there when freed, so the next pass reuses pages already mapped; in processes of their own
(the setting is process-wide).

Without it, glibc maps a large buffer afresh (deterministic for the first one, shown below);
whether later passes fault again then depends on where small blocks land in the heap: the
same plain probe measured 0 and 145 600 page faults on alternate runs, so the plain side is
checked through the allocator's own counters (``mallinfo2``), not through faults.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = r"""
import ctypes, json, resource, sys, torch
from ethoclip.models._memory import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False

class MallInfo2(ctypes.Structure):  # glibc's struct mallinfo2 (malloc.h), all size_t
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
if not hasattr(libc, "mallinfo2"):
    print(json.dumps({"skip": "glibc before 2.33 has no mallinfo2"}))
    sys.exit()
libc.mallinfo2.restype = MallInfo2
mapped_before = libc.mallinfo2().hblkhd
first = torch.ones(20 << 18)  # 20 MiB, the first buffer of that size in this process
mapped = libc.mallinfo2().hblkhd - mapped_before
del first
free_heap = libc.mallinfo2().fordblks

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
SIZES = (13, 6, 13, 3, 26, 9)  # MiB: a forward pass's activations, alive together, then freed
def forward():
    alive = [torch.ones(size << 18) for size in SIZES]
    return sum(float(a[-1]) for a in alive)
for _ in range(3):  # warm up: glibc's dynamic thresholds have seen the sizes
    forward()
before = faults()
for _ in range(10):
    forward()
print(json.dumps({"kept": kept, "mapped": mapped, "free_heap": free_heap,
                  "faults": faults() - before}))
"""
MIB = 2**20
# 10 passes over 70 MiB touch 10 × 70 MiB / 4 KiB = 179 200 pages
TOUCHED_PAGES = 10 * 70 * MIB // 4096


def _probe(mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_freed_activations_are_reused_not_mapped_again() -> None:
    plain, kept = _probe("plain"), _probe("keep")
    assert kept["kept"] is True and plain["kept"] is False
    # Plain glibc maps the first 20 MiB buffer and unmaps it when freed: nothing kept.
    assert plain["mapped"] >= 20 * MIB and plain["free_heap"] < 20 * MIB, plain
    # Kept: it comes from the heap and stays there, free for the next pass.
    assert kept["mapped"] < MIB and kept["free_heap"] >= 20 * MIB, kept
    # and ten more passes fault on almost none of the pages they touch
    assert kept["faults"] < 0.05 * TOUCHED_PAGES, kept
