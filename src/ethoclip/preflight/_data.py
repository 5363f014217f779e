"""The data a config names, checked without opening a video: lists and folders exist, the
class count agrees with the model, the splits share their classes, and the clip sampling
covers the same span in seconds at every frame rate present."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..dataset import LABEL_MAP, MANIFEST, read_label_map, read_list_file, read_manifest
from ..dataset._records import ClipRecord
from ..errors import DatasetError


@dataclass
class DataFacts:
    """What one dataloader's data holds, as far as the files say without decoding."""

    key: str
    classes: list[str] | None = None
    source: str = ""
    records: list[ClipRecord] = field(default_factory=list)


def _join(root: Any, path: str) -> Path:
    return Path(path) if not root or os.path.isabs(path) else Path(str(root)) / path


def read_data(dataset: Mapping[str, Any], key: str) -> tuple[DataFacts, list[str]]:
    """The facts of one ``*_dataloader.dataset`` and the problems with its paths."""
    facts = DataFacts(key)
    problems: list[str] = []
    kind = dataset.get("type")
    try:
        if kind == "VideoDataset":
            ann_file = dataset.get("ann_file")
            if not isinstance(ann_file, str):
                return facts, [f"{key}.ann_file: missing; name the list file (train.txt …)"]
            list_path = _join(dataset.get("data_root"), ann_file)
            facts.source = str(list_path)
            if not list_path.is_file():
                return facts, [
                    f"{key}.ann_file: {list_path} does not exist; check the path (a 'prepare' "
                    "folder has train.txt, val.txt and test.txt)"
                ]
            prefix = (dataset.get("data_prefix") or {}).get("video")
            if prefix:
                folder = _join(dataset.get("data_root"), str(prefix))
                if not folder.is_dir():
                    problems.append(
                        f"{key}.data_prefix.video: {folder} is not a folder; the list's clip "
                        "paths are relative to it"
                    )
            if (list_path.parent / LABEL_MAP).is_file():
                facts.classes = read_label_map(list_path.parent / LABEL_MAP)
            if (list_path.parent / MANIFEST).is_file():
                names = {e.path for e in read_list_file(list_path)}
                facts.records = [r for r in read_manifest(list_path.parent) if r.clip in names]
        elif kind == "ClipDataset":
            root = dataset.get("data_root")
            facts.source = str(root)
            if not isinstance(root, str) or not (Path(root) / LABEL_MAP).is_file():
                return facts, [
                    f"{key}.data_root: {root!r} is not a folder made by 'ethoclip prepare' (no "
                    f"{LABEL_MAP})"
                ]
            facts.classes = read_label_map(Path(root) / LABEL_MAP)
            split = dataset.get("split", "train")
            facts.records = [r for r in read_manifest(root) if r.split == split]
            if not facts.records:
                problems.append(f"{key}.split: {root} has no {split!r} clips")
    except DatasetError as exc:
        problems.append(f"{key}: {exc}")
    return facts, problems


def _sampler(pipeline: Any) -> Mapping[str, Any] | None:
    if not isinstance(pipeline, list | tuple):
        return None
    for step in pipeline:
        if isinstance(step, Mapping) and step.get("type") == "SampleFrames":
            return step
    return None


def _int(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def spans_by_rate(
    sampler: Mapping[str, Any], records: list[ClipRecord], *, training: bool
) -> dict[Fraction, tuple[int, float, float]]:
    """Per frame rate present: (clips, seconds the sampling covers, seconds a clip lasts)."""
    by_rate: dict[Fraction, list[ClipRecord]] = defaultdict(list)
    for record in records:
        by_rate[record.rate].append(record)
    clip_len = _int(sampler.get("clip_len"), 1)
    interval = _int(sampler.get("frame_interval"), 1)
    num_clips = _int(sampler.get("num_clips"), 1)
    target = sampler.get("target_fps")
    spans = {}
    for rate, group in sorted(by_rate.items()):
        clip_sec = min(r.duration_sec for r in group)
        if clip_len == 1 and num_clips > 1:
            seconds = clip_sec  # TSN segments spread over the whole clip at any rate
        elif isinstance(target, int | float) and target > 0:
            seconds = clip_len * interval / float(target)
        else:
            frames = clip_len * interval if training else (clip_len - 1) * interval + 1
            seconds = frames / float(rate)
        spans[rate] = (len(group), seconds, clip_sec)
    return spans


def sampling_report(
    dataset: Mapping[str, Any], facts: DataFacts, *, training: bool
) -> tuple[list[str], list[str]]:
    """(notes, warnings): the span per frame rate, and a warning when spans differ by more
    than one frame."""
    sampler = _sampler(dataset.get("pipeline"))
    if sampler is None or not facts.records:
        return [], []
    spans = spans_by_rate(sampler, facts.records, training=training)
    parts = [
        f"{float(rate):g} fps ({count} clips): {seconds:.2f} s of {clip:.2f} s"
        for rate, (count, seconds, clip) in spans.items()
    ]
    notes = [f"{facts.key}: sampling covers {'; '.join(parts)}"]
    if len(spans) < 2:
        return notes, []
    seconds = [s for _, s, _ in spans.values()]
    frame = 1.0 / float(min(spans))  # one frame at the slowest rate
    if max(seconds) - min(seconds) <= frame + 1e-9:
        return notes, []
    return notes, [
        f"{facts.key}: clips of {len(spans)} frame rates are sampled over different spans "
        f"({'; '.join(parts)}), so the model sees {max(seconds) / min(seconds):.2f}x more time "
        "in some clips than in others; sample by time: give SampleFrames a target_fps (e.g. "
        f"target_fps={float(min(spans)):g}), as 'ethoclip config new' writes"
    ]
