"""Turn frames upright: the display rotation a browser (so the annotator) applied."""

from __future__ import annotations

import av
import numpy as np


def quarter_turns(rotation_deg: float) -> int:
    """Counter-clockwise quarter turns (0–3) that show a frame as the browser did.

    PyAV's ``frame.rotation`` is the display matrix angle: 90 means turn the decoded picture
    90° counter-clockwise (``np.rot90(picture, 1)``), -90 (or 270) clockwise.
    """
    return round(rotation_deg / 90) % 4


def display_size(width: int, height: int, turns: int) -> tuple[int, int]:
    """(width, height) of the picture after ``turns`` quarter turns."""
    return (height, width) if turns % 2 else (width, height)


def rotate_rgb(picture: np.ndarray, turns: int) -> np.ndarray:
    """An (H, W, 3) picture turned ``turns`` quarter turns counter-clockwise (a copy)."""
    return np.ascontiguousarray(np.rot90(picture, turns)) if turns else picture


def rotate_yuv_frame(frame: av.VideoFrame, turns: int) -> av.VideoFrame:
    """A planar YUV frame turned ``turns`` quarter turns counter-clockwise, plane by plane."""
    if not turns:
        return frame
    width, height = display_size(frame.width, frame.height, turns)
    out = av.VideoFrame(width, height, frame.format.name)
    for src, dst in zip(frame.planes, out.planes, strict=True):
        pixels = np.frombuffer(memoryview(src), np.uint8).reshape(-1, src.line_size)
        target = np.frombuffer(memoryview(dst), np.uint8).reshape(-1, dst.line_size)
        target[: dst.height, : dst.width] = np.rot90(pixels[: src.height, : src.width], turns)
    return out
