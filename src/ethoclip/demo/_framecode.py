"""A frame counter burnt into synthetic video: 16 black/white blocks across the top band.

Blocks are large and binary, so the code survives H.264, chroma subsampling and resizing; tests
read it back to prove which source frame a decoded or re-encoded frame is.
"""

from __future__ import annotations

import numpy as np

CODE_BITS = 16
BAND_FRACTION = 1 / 8  # the band's height as a share of the frame height


def band_height(height: int) -> int:
    return max(4, round(height * BAND_FRACTION))


def stamp_frame_code(frame: np.ndarray, value: int) -> None:
    """Write ``value`` (0 ≤ value < 2**16) into the top band of ``frame`` (H, W, 3), in place."""
    if not 0 <= value < 2**CODE_BITS:
        raise ValueError(f"frame code {value} does not fit in {CODE_BITS} bits")
    height, width = frame.shape[:2]
    band = band_height(height)
    edges = np.linspace(0, width, CODE_BITS + 1).round().astype(int)
    for bit in range(CODE_BITS):
        on = (value >> (CODE_BITS - 1 - bit)) & 1
        frame[:band, edges[bit] : edges[bit + 1]] = 235 if on else 16


def read_frame_code(frame: np.ndarray) -> int:
    """Read the value back from an RGB frame of any size (the band scales with the frame)."""
    height, width = frame.shape[:2]
    band = band_height(height)
    gray = frame[: max(1, band - band // 4), :, :].astype(np.float32).mean(axis=2)
    edges = np.linspace(0, width, CODE_BITS + 1)
    value = 0
    for bit in range(CODE_BITS):
        lo, hi = edges[bit], edges[bit + 1]
        margin = (hi - lo) / 4  # read the middle half of a block, away from blurred edges
        block = gray[:, int(lo + margin) : max(int(lo + margin) + 1, int(hi - margin))]
        value = (value << 1) | int(block.mean() > 127.5)
    return value
