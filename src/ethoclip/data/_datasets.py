"""Torch datasets of clips: MMAction2's ``VideoDataset`` over a list file, and ``ClipDataset``
over a ``prepare`` folder by split.

The number of classes and the multi-label mode come from the data (``label_map.txt`` beside the
list, the labels in the lines) unless the config sets them; a disagreement is an error naming
both values. Problems in the lines (an id out of range, a missing clip) name file and line.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..dataset import (
    LABEL_MAP,
    MANIFEST,
    load_dataset,
    read_label_map,
    read_list_file,
    read_manifest,
)
from ..registry import building, config_error, current_key
from ._pipeline import Compose


@dataclass(frozen=True)
class Sample:
    path: Path
    label_ids: tuple[int, ...]
    where: str  # "list.txt:12" or "manifest.jsonl: clip …", for errors
    folder: bool = False  # a folder of frames (RawframeDataset) rather than a video file
    info: tuple[tuple[str, Any], ...] = ()  # more keys for the pipeline (total_frames, …)
    # Per-step truth, from prepare's manifest: (class id, start s, end s) in clip time, and the
    # clip's frame rate. None: not known (a list file without a manifest beside it).
    segments: tuple[tuple[int, float, float], ...] | None = None
    fps: float | None = None


def frame_targets(
    segments: tuple[tuple[int, float, float], ...], fps: float, frame_inds: Any, num_classes: int
) -> torch.Tensor:
    """(M, K) multi-hot: class k is on at sampled frame i when one of its segments holds the
    frame's time ``i / fps`` (the clip's first frame is 0 s; a segment is [start, end))."""
    times = torch.as_tensor(np.asarray(frame_inds, dtype=np.float64) / fps)
    out = torch.zeros(len(times), num_classes)
    for label, start, end in segments:
        on = (times >= start - 1e-6) & (times < end - 1e-6)
        out[on, label] = 1.0
    return out


class ClipSamples(Dataset[dict[str, Any]]):
    """Samples + labels + a pipeline; what both datasets share.

    Random augmentation is seeded per sample from (``seed``, epoch, index), so a sample looks
    the same whichever worker or process loads it, and a resumed run sees exactly the
    batches an uninterrupted one would. ``DefaultSampler`` passes the epoch inside the key
    (``epoch × len + index``); a plain index means epoch 0.
    """

    seed = 0

    def __init__(
        self,
        samples: list[Sample],
        pipeline: Sequence[Mapping[str, Any] | Callable[..., Any]],
        *,
        source: str,
        class_names: list[str] | None,
        num_classes: int | None,
        multi_class: bool | None,
        start_index: int,
        test_mode: bool,
    ) -> None:
        if not samples:
            raise config_error(
                None,
                f"{source} holds no clips (an empty split); prepare a dataset with clips in it",
            )
        self.source = source
        self.samples = samples
        self.test_mode = test_mode
        self.start_index = start_index
        several = next((s for s in samples if len(s.label_ids) != 1), None)
        if multi_class is False and several is not None:
            raise config_error(
                "multi_class",
                f"is False, but {several.where} has {len(several.label_ids)} labels (multi-label "
                "data); set multi_class=True or leave it to the data",
            )
        data_multi = several is not None
        self.multi_label = bool(multi_class) if multi_class is not None else data_multi
        found = len(class_names) if class_names is not None else None
        if num_classes is not None and found is not None and num_classes != found:
            raise config_error(
                "num_classes",
                f"is {num_classes} in the config but {found} in {LABEL_MAP} of {source}; "
                "make them agree (or leave num_classes out to take it from the data)",
            )
        if num_classes is None:
            num_classes = found
        if num_classes is None:
            if self.multi_label:
                raise config_error(
                    "num_classes",
                    f"is needed for multi-label data ({source} has no {LABEL_MAP} beside it)",
                )
            num_classes = max(max(s.label_ids) for s in samples if s.label_ids) + 1
        bad = [s for s in samples if any(i >= num_classes for i in s.label_ids)]
        if bad:
            more = f"; {len(bad) - 1} more line(s) like it" if len(bad) > 1 else ""
            raise config_error(
                None,
                f"{bad[0].where}: label id {max(bad[0].label_ids)} is not below the number of "
                f"classes ({num_classes}){more}",
            )
        missing = [s for s in samples if not (s.path.is_dir() if s.folder else s.path.is_file())]
        if missing:
            kind = "frame folder" if missing[0].folder else "clip"
            raise config_error(
                None,
                f"{missing[0].where}: {kind} {missing[0].path} not found"
                f"{f' ({len(missing) - 1} more missing)' if len(missing) > 1 else ''}; check "
                "data_prefix / the dataset folder",
            )
        self.num_classes = num_classes
        self.class_names = class_names or [str(i) for i in range(num_classes)]
        with building(current_key("pipeline")):  # errors name dataset.pipeline.N
            self.pipeline = Compose(pipeline)

    def __len__(self) -> int:
        return len(self.samples)

    def target(self, index: int) -> torch.Tensor | int:
        """Multi-hot float vector (multi-label; none = background) or a class id."""
        ids = self.samples[index].label_ids
        if self.multi_label:
            onehot = torch.zeros(self.num_classes)
            onehot[list(ids)] = 1.0
            return onehot
        return ids[0] if ids else -1

    def label_matrix(self) -> torch.Tensor:
        """(N, K) multi-hot targets of every sample, in order."""
        matrix = torch.zeros(len(self), self.num_classes)
        for row, sample in enumerate(self.samples):
            matrix[row, list(sample.label_ids)] = 1.0
        return matrix

    def __getitem__(self, key: int) -> dict[str, Any]:
        epoch, index = divmod(int(key), len(self.samples))
        return self.load(index, (self.seed * 1_000_003 + epoch * 10_007 + index) % 2**32)

    def load(self, index: int, seed: int) -> dict[str, Any]:
        """Sample ``index`` through the pipeline, its random draws seeded with ``seed``."""
        random.seed(seed)
        np.random.seed(seed)
        sample = self.samples[index]
        results = {
            "filename": str(sample.path),
            "label": self.target(index),
            "start_index": self.start_index,
            "modality": "RGB",
            "sample_idx": index,
        }
        if sample.folder:
            results["frame_dir"] = str(sample.path)
        results.update(sample.info)
        packed = self.pipeline(results)
        if not isinstance(packed, dict) or "inputs" not in packed:
            raise config_error(None, "the pipeline must end with PackActionInputs")
        packed["index"] = index
        if self.multi_label and sample.segments is not None and sample.fps:
            inds = packed["meta"].get("frame_inds")
            if inds is not None and len(inds):
                packed["frame_label"] = frame_targets(
                    sample.segments, sample.fps, inds, self.num_classes
                )
        return packed


def _join(root: str | None, path: str) -> Path:
    return Path(path) if root is None or os.path.isabs(path) else Path(root) / path


class VideoDataset(ClipSamples):
    """MMAction2's ``VideoDataset``: a list file of ``path label …`` lines."""

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Mapping[str, Any] | Callable[..., Any]],
        data_prefix: Mapping[str, str] | None = None,
        data_root: str | None = None,
        multi_class: bool | None = None,
        num_classes: int | None = None,
        start_index: int = 0,
        modality: str = "RGB",
        test_mode: bool = False,
        delimiter: str = " ",
    ) -> None:
        if modality != "RGB":
            raise config_error("modality", f"only 'RGB' is supported, not {modality!r}")
        prefix = dict(data_prefix or {}).get("video", "") or ""
        list_path = _join(data_root, ann_file)
        entries = read_list_file(list_path, delimiter=delimiter)
        folder = _join(data_root, prefix) if prefix else (Path(data_root) if data_root else None)
        samples = [
            Sample(
                folder / e.path if folder is not None else Path(e.path),
                e.label_ids,
                f"{list_path}:{e.line}",
            )
            for e in entries
        ]
        samples = _with_segments(samples, list_path.parent)
        label_map = list_path.parent / LABEL_MAP
        names = read_label_map(label_map) if label_map.is_file() else None
        super().__init__(
            samples,
            pipeline,
            source=str(list_path),
            class_names=names,
            num_classes=num_classes,
            multi_class=multi_class,
            start_index=start_index,
            test_mode=test_mode,
        )


class ClipDataset(ClipSamples):
    """One split of a ``prepare`` folder, read through its manifest."""

    def __init__(
        self,
        data_root: str,
        pipeline: Sequence[Mapping[str, Any] | Callable[..., Any]],
        split: str = "train",
        multi_class: bool | None = None,
        num_classes: int | None = None,
        test_mode: bool = False,
    ) -> None:
        dataset = load_dataset(data_root)
        records = dataset.split(split)
        samples = [
            Sample(
                dataset.path(r),
                r.label_ids,
                f"{dataset.root / MANIFEST}: clip {r.clip}",
                segments=r.segments,
                fps=float(r.rate),
            )
            for r in records
        ]
        self.records = records
        super().__init__(
            samples,
            pipeline,
            source=f"{dataset.root} ({split})",
            class_names=list(dataset.labels),
            num_classes=num_classes,
            multi_class=multi_class if multi_class is not None else dataset.multi_label,
            start_index=0,
            test_mode=test_mode,
        )


def _with_segments(samples: list[Sample], folder: Path) -> list[Sample]:
    """The list's samples with their per-step truth from ``prepare``'s manifest in ``folder``,
    where there is one. A clip the manifest does not know, or labels differently from the list
    (the list was edited), gets none: its targets come from the list alone."""
    if not (folder / MANIFEST).is_file():
        return samples
    records = {(folder / r.clip).resolve(): r for r in read_manifest(folder)}
    out = []
    for sample in samples:
        record = records.get(sample.path.resolve())
        if record is not None and sorted(record.label_ids) == sorted(sample.label_ids):
            sample = replace(sample, segments=record.segments, fps=float(record.rate))
        out.append(sample)
    return out


def collate(samples: list[dict[str, Any]] | list[Any]) -> dict[str, Any]:
    """A batch: inputs stacked to (N, views, …) uint8, targets stacked, metadata listed.

    An item that is a list of clips (RepeatAugDataset) adds each of them, as MMAction2's
    ``repeat_pseudo_collate`` does."""
    samples = [s for item in samples for s in (item if isinstance(item, list) else [item])]
    shapes = {tuple(s["inputs"].shape) for s in samples}
    if len(shapes) > 1:
        raise ValueError(
            f"samples of one batch have different shapes {sorted(shapes)}: end the pipeline with "
            "a fixed-size crop or Resize(keep_ratio=False)"
        )
    batch = {
        "inputs": torch.stack([s["inputs"] for s in samples]),
        "label": torch.stack([s["label"] for s in samples]),
        "index": torch.tensor([s["index"] for s in samples]),
        "meta": [s["meta"] for s in samples],
    }
    # Per-step targets where any sample has them; ``frame_known`` says whose are real (the
    # others are zeros and are left out of the per-step loss).
    known = [s.get("frame_label") for s in samples]
    shape = next((f.shape for f in known if f is not None), None)
    if shape is not None and all(f is None or f.shape == shape for f in known):
        batch["frame_label"] = torch.stack(
            [f if f is not None else torch.zeros(shape) for f in known]
        )
        batch["frame_known"] = torch.tensor([f is not None for f in known])
    return batch
