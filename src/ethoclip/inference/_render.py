"""``--render``: the video with its current labels and a moving timeline drawn on it (H.264),
written without any display: PIL draws, PyAV encodes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..media import (
    ClipEncoder,
    VideoReader,
    even_size_for_short_side,
    probe_video,
    window_frame_indices,
)
from ._bouts import Bout

STRIP = 6  # pixels per label row of the timeline strip
PALETTE = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


def _strip(
    bouts: Sequence[Bout], classes: Sequence[str], width: int, first: float, end: float
) -> np.ndarray:
    strip = np.full((STRIP * len(classes), width, 3), 24, np.uint8)
    row = {c: i for i, c in enumerate(classes)}
    scale = width / max(end - first, 1e-6)
    for b in bouts:
        x0, x1 = (
            int((b.start - first) * scale),
            max(int((b.end - first) * scale), int((b.start - first) * scale) + 1),
        )
        y = row[b.label] * STRIP
        strip[y : y + STRIP - 1, x0:x1] = PALETTE[row[b.label] % len(PALETTE)]
    return strip


def _draw(
    frame: np.ndarray,
    strip: np.ndarray,
    bouts: Sequence[Bout],
    first: float,
    end: float,
    t: float,
    out_height: int,
) -> np.ndarray:
    height, width = frame.shape[:2]
    canvas = np.zeros((out_height, width, 3), np.uint8)
    canvas[:height] = frame
    canvas[height : height + strip.shape[0]] = strip
    cursor = int((t - first) / max(end - first, 1e-6) * (width - 1))
    canvas[height:, cursor] = 255
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    now = [b.label for b in bouts if b.start <= t < b.end]
    draw.rectangle((0, 0, width, 14), fill=(0, 0, 0))
    draw.text((3, 1), f"{t:7.2f} s  {' + '.join(now) or '-'}", fill=(255, 255, 0))
    return np.asarray(image)


def render(
    video: Path, out: Path, bouts: Sequence[Bout], classes: Sequence[str], *, short_side: int = 360
) -> Path:
    """Write ``out``: every frame (at the video's rate) with the labels on screen and a strip of
    all bouts with a cursor at the current time."""
    probe = probe_video(video)
    with VideoReader(video, probe=probe, upright=True) as reader:
        info = reader.info
        fps = info.fps_exact if not info.vfr else max(1, round(float(info.fps_exact)))
        first, end = float(info.pts[0]), info.end_time or float(info.pts[-1])
        count = max(1, int((end - first) * float(fps)))
        indices = window_frame_indices(info.pts, first, count, fps)
        width, height = even_size_for_short_side(*reader.size, min(short_side, min(reader.size)))
        strip = _strip(bouts, classes, width, first, end)
        out_height = height + strip.shape[0]
        out_height += out_height % 2
        with ClipEncoder(
            out, width=width, height=out_height, fps=fps, crf=23, preset="veryfast"
        ) as encoder:
            k = 0  # output frames, in time order: each decoded frame is drawn, then dropped
            for index, frame in reader.iter_frames(np.unique(indices), size=(width, height)):
                while k < len(indices) and indices[k] == index:
                    encoder.write(
                        _draw(frame, strip, bouts, first, end, first + k / float(fps), out_height)
                    )
                    k += 1
    return out
