"""Videos stored as folders of frame images: MMAction2's ``RawframeDataset`` and
``RawFrameDecode``, RGB frames or optical flow.

A list line is ``folder total_frames label …`` or, ``with_offset``, ``folder offset
total_frames label …``; frame ``i`` (``start_index`` counts from 1 by default, as frames are
numbered) is ``folder/filename_tmpl.format(i + offset)``. With ``modality='Flow'`` a frame is
two greyscale images, ``filename_tmpl.format('x', i + offset)`` and ``…format('y', …)`` (the
flow's horizontal and vertical components, as MMAction2's denseflow extraction writes them),
decoded into one (H, W, 2) frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..dataset import LABEL_MAP, read_label_map, read_list_file
from ..registry import config_error
from ._datasets import ClipSamples, Sample, _join
from ._decode import local_io
from ._transforms import Results


class RawframeDataset(ClipSamples):
    """MMAction2's ``RawframeDataset``: a list file of frame folders."""

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Mapping[str, Any] | Callable[..., Any]],
        data_prefix: Mapping[str, str] | None = None,
        data_root: str | None = None,
        filename_tmpl: str = "img_{:05}.jpg",
        with_offset: bool = False,
        multi_class: bool | None = None,
        num_classes: int | None = None,
        start_index: int = 1,
        modality: str = "RGB",
        test_mode: bool = False,
    ) -> None:
        if modality not in MODALITIES:
            raise config_error("modality", f"must be 'RGB' or 'Flow', not {modality!r}")
        try:
            names = {frame_name(filename_tmpl, modality, d, n) for d in ("x", "y") for n in (1, 2)}
            if len(names) != (2 if modality == "RGB" else 4):  # every frame its own file
                raise ValueError("two frames would share a file name")
        except (IndexError, KeyError, ValueError) as exc:
            takes, example = (
                ("one frame number", "'img_{:05}.jpg'")
                if modality == "RGB"
                else ("a direction ('x' or 'y') and a frame number", "'{}_{:05d}.jpg'")
            )
            raise config_error(
                "filename_tmpl",
                f"{filename_tmpl!r} does not take {takes} ({exc}); e.g. {example}",
            ) from None
        prefix = dict(data_prefix or {}).get("img", "") or ""
        list_path = _join(data_root, ann_file)
        folder = _join(data_root, prefix) if prefix else (Path(data_root) if data_root else None)
        numbers = 2 if with_offset else 1
        samples = []
        for entry in read_list_file(list_path):
            where = f"{list_path}:{entry.line}"
            if len(entry.label_ids) < numbers:
                wanted = (
                    "folder offset total_frames label"
                    if with_offset
                    else "folder total_frames label"
                )
                raise config_error(
                    None, f"{where}: expected '{wanted} …' (with_offset={with_offset})"
                )
            offset = entry.label_ids[0] if with_offset else 0
            total = entry.label_ids[numbers - 1]
            if total < 1:
                raise config_error(None, f"{where}: total_frames must be ≥ 1 (got {total})")
            samples.append(
                Sample(
                    folder / entry.path if folder is not None else Path(entry.path),
                    entry.label_ids[numbers:],
                    where,
                    folder=True,
                    info=(
                        ("total_frames", total),
                        ("offset", offset),
                        ("filename_tmpl", filename_tmpl),
                        ("modality", modality),
                    ),
                )
            )
        label_map = list_path.parent / LABEL_MAP
        super().__init__(
            samples,
            pipeline,
            source=str(list_path),
            class_names=read_label_map(label_map) if label_map.is_file() else None,
            num_classes=num_classes,
            multi_class=multi_class,
            start_index=start_index,
            test_mode=test_mode,
        )


MODALITIES = ("RGB", "Flow")


def frame_name(template: str, modality: str, direction: str, number: int) -> str:
    """The file name of frame ``number``: of its ``direction`` ('x'/'y') component for flow."""
    if modality == "Flow":
        return template.format(direction, number)
    return template.format(number)


class RawFrameDecode:
    """Read the frames ``frame_inds`` of a frame folder into ``imgs``: (M, H, W, 3) uint8 RGB,
    or for flow (M, H, W, 2), x then y; a frame asked for twice is read once."""

    def __init__(
        self, io_backend: str = "disk", decoding_backend: str = "cv2", **file_client: Any
    ) -> None:
        local_io(io_backend, file_client)
        if decoding_backend not in ("cv2", "pillow", "turbojpeg"):
            raise config_error(
                "decoding_backend",
                f"must be 'cv2', 'pillow' or 'turbojpeg' (all read with Pillow here), not "
                f"{decoding_backend!r}",
            )

    def __call__(self, results: Results) -> Results:
        folder = Path(results["frame_dir"])
        template = results["filename_tmpl"]
        offset = int(results.get("offset", 0))
        modality = results.get("modality", "RGB")
        if modality not in MODALITIES:
            raise config_error("modality", f"must be 'RGB' or 'Flow', not {modality!r}")
        wanted = np.asarray(results["frame_inds"]).reshape(-1)
        cache: dict[int, np.ndarray] = {}
        imgs = []
        for index in wanted.tolist():
            if index not in cache:
                number = index + offset
                if modality == "RGB":
                    cache[index] = _read(folder, template.format(number), number, "RGB")
                else:  # the two flow components, each a greyscale image
                    cache[index] = np.stack(
                        [
                            _read(folder, frame_name(template, modality, d, number), number, "L")
                            for d in ("x", "y")
                        ],
                        axis=-1,
                    )
            imgs.append(cache[index])
        shapes = {img.shape for img in imgs}
        if len(shapes) > 1:
            raise ValueError(f"{folder}: frames of different sizes {sorted(shapes)}")
        results["imgs"] = np.stack(imgs)
        results["original_shape"] = imgs[0].shape[:2]
        results["img_shape"] = imgs[0].shape[:2]
        return results


def _read(folder: Path, name: str, number: int, mode: str) -> np.ndarray:
    path = folder / name
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: frame {number} of {folder} not found (total_frames in the list larger "
            "than the frames there, or start_index/filename_tmpl wrong?)"
        ) from None
