"""``ethoclip browse``: what the model sees, as an animated GIF and a contact sheet per sample.

MMAction2's ``browse_dataset`` without moviepy or a display: the frames after the pipeline (or
as decoded, before augmentation), the labels written on them, and the source clip and frame
indices in the file name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ._datasets import ClipSamples
from ._decode import VideoDecode

BANNER = 14  # pixels of label text above each frame


@dataclass(frozen=True)
class Browsed:
    gif: Path
    sheet: Path
    labels: list[str]
    frame_inds: list[int]


def _frames(inputs: np.ndarray, layout: str) -> list[np.ndarray]:
    """One sample's uint8 model input as a list of (H, W, 3) frames, view after view."""
    if layout == "NCTHW":  # (V, C, T, H, W)
        return [f for view in inputs for f in np.transpose(view, (1, 2, 3, 0))]
    if layout == "NCHW":  # (M, C, H, W)
        return list(np.transpose(inputs, (0, 2, 3, 1)))
    return list(inputs)  # (M, H, W, C), decoded frames


def _labelled(frame: np.ndarray, text: str) -> Image.Image:
    image = Image.new("RGB", (frame.shape[1], frame.shape[0] + BANNER), (0, 0, 0))
    image.paste(Image.fromarray(np.ascontiguousarray(frame)), (0, BANNER))
    ImageDraw.Draw(image).text((2, 1), text, fill=(255, 255, 0))
    return image


def _name(index: int, clip: str, frame_inds: list[int]) -> str:
    shown = frame_inds if len(frame_inds) <= 24 else [*frame_inds[:12], *frame_inds[-12:]]
    return f"{index:03d}_{Path(clip).stem}_frames_{'-'.join(map(str, shown))}"


def browse(
    dataset: ClipSamples,
    out: str | os.PathLike[str],
    *,
    count: int = 8,
    mode: str = "pipeline",
    fps: float = 4.0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Browsed]:
    """Write a GIF and a contact sheet (PNG) for the first ``count`` samples of ``dataset``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    total = min(count, len(dataset))
    for index in range(total):
        if mode == "original":
            results = _decoded(dataset, index)
            frames, inds = _frames(results["imgs"], "NHWC"), list(results["frame_inds"])
        else:
            sample = dataset[index]
            layout = "NCTHW" if sample["inputs"].dim() == 5 else "NCHW"
            frames, inds = _frames(sample["inputs"].numpy(), layout), sample["meta"]["frame_inds"]
        names = [dataset.class_names[i] for i in dataset.samples[index].label_ids] or [
            "(background)"
        ]
        text = "+".join(names)
        images = [_labelled(f, f"{text}  {k + 1}/{len(frames)}") for k, f in enumerate(frames)]
        stem = _name(index, str(dataset.samples[index].path), [int(i) for i in inds])
        gif, sheet = folder / f"{stem}.gif", folder / f"{stem}.png"
        images[0].save(
            gif, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
        )
        _sheet(images).save(sheet)
        written.append(Browsed(gif, sheet, names, [int(i) for i in inds]))
        if progress:
            progress(index + 1, total)
    return written


def _decoded(dataset: ClipSamples, index: int) -> dict[str, Any]:
    """Sampling and decoding only (no resize, crop or flip): the frames as they are."""
    results: dict[str, Any] = {
        "filename": str(dataset.samples[index].path),
        "label": dataset.target(index),
        "start_index": dataset.start_index,
        "modality": "RGB",
    }
    for transform in dataset.pipeline.transforms:
        if isinstance(transform, VideoDecode):
            fused, transform.resize = transform.resize, None
            try:
                return transform(results)
            finally:
                transform.resize = fused
        results = transform(results)
    raise ValueError("the pipeline decodes no frames (no DecordDecode/PyAVDecode)")


def _sheet(images: list[Image.Image], columns: int = 8) -> Image.Image:
    width, height = images[0].size
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (width * min(columns, len(images)), height * rows), (32, 32, 32))
    for k, image in enumerate(images):
        sheet.paste(image, ((k % columns) * width, (k // columns) * height))
    return sheet
