"""The dataset on disk, typed: what ``prepare`` wrote, for ``review``, training and prediction.

``load_dataset(DIR)`` is the one way in: label names (``label_map.txt``) and one frozen
``ClipRecord`` per clip (``manifest.jsonl``), grouped by split. Nothing else reads those files by
hand.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import DatasetError

MANIFEST = "manifest.jsonl"
LABEL_MAP = "label_map.txt"
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class ClipRecord:
    """One clip of a dataset: where it comes from, what it shows, and how it was cut.

    Times are seconds. ``start``/``end`` are on the annotated stream's timeline (the one VIA
    showed); ``source_start``/``source_end`` on the stream the pixels came from. Frame k of the
    clip is source frame ``window_frame_indices(pts, source_start, num_frames, fps_exact)[k]``.
    """

    clip: str  # relative to the dataset folder
    split: str
    labels: tuple[str, ...]
    label_ids: tuple[int, ...]
    session: str
    source_video: str  # relative to the input ROOT
    via_file: str  # relative to the input ROOT
    segment_ids: tuple[str, ...]  # VIA metadata ids
    annotated_stream: int
    source_stream: int
    time_map: str  # identity | linear | index
    start: float
    end: float
    source_start: float
    source_end: float
    first_source_frame: int
    last_source_frame: int
    num_frames: int
    fps: float
    fps_exact: str  # the exact rate as a fraction, e.g. "30000/1001"
    width: int
    height: int
    rotation: int  # counter-clockwise degrees applied to show the picture upright
    recipe: str  # hash of everything the clip's pixels depend on
    # Where each class is on within the clip: (class id, start, end) in seconds from the clip's
    # first frame, clipped to the clip, so a model can be taught per step, not only per clip.
    # None: written by an older ethoclip (unknown: per-step targets are then not used).
    segments: tuple[tuple[int, float, float], ...] | None = None

    @property
    def rate(self) -> Fraction:
        return Fraction(self.fps_exact)

    @property
    def duration_sec(self) -> float:
        return self.num_frames / float(self.rate)

    @property
    def is_background(self) -> bool:
        return not self.label_ids

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> ClipRecord:
        """A record from one manifest object; ``where`` (file:line) goes into any error."""
        missing = [f.name for f in fields(cls) if f.name not in data and f.name not in OPTIONAL]
        if missing:
            raise DatasetError(
                f"{where}: manifest entry lacks {', '.join(missing)}; it was written by another "
                "ethoclip version: run 'ethoclip prepare' again"
            )
        values: dict[str, Any] = {}
        try:
            for f in fields(cls):
                if f.name not in data:
                    continue
                value = data[f.name]
                if f.name == "segments":
                    value = None if value is None else _segments(value)
                elif f.name in ("labels", "segment_ids"):
                    value = tuple(str(v) for v in value)
                elif f.name == "label_ids":
                    value = tuple(int(v) for v in value)
                values[f.name] = value
        except (TypeError, ValueError) as exc:
            raise DatasetError(
                f"{where}: manifest entry has a malformed value ({exc}); run 'ethoclip prepare' "
                "again"
            ) from None
        return cls(**values)


# Fields a manifest from an older ethoclip may lack (their defaults say "unknown").
OPTIONAL = frozenset({"segments"})


def _segments(value: Any) -> tuple[tuple[int, float, float], ...]:
    out = []
    for item in value:
        label, start, end = item  # a malformed entry raises ValueError/TypeError: reported
        start, end = float(start), float(end)
        if not start <= end:
            raise ValueError(f"segment {list(item)} ends before it starts")
        out.append((int(label), start, end))
    return tuple(out)


def manifest_text(records: Iterable[ClipRecord]) -> str:
    return "".join(json.dumps(r.to_json()) + "\n" for r in records)


def dataset_file(path: str | os.PathLike[str], name: str) -> Path:
    """The readers' one convention: ``path`` is a dataset folder (its file ``name`` is read)
    or the file itself; an error says which was looked for."""
    path = Path(path)
    found = path / name if path.is_dir() else path
    if not found.is_file():
        where = (
            f"no {name} in {path}" if path.is_dir() else f"no such file (nor a folder with {name})"
        )
        raise DatasetError(
            f"{path}: {where}; pass a folder made by 'ethoclip prepare', or its {name}"
        )
    return found


def read_manifest(dataset: str | os.PathLike[str]) -> list[ClipRecord]:
    """The clip records of a dataset made by ``prepare``: ``dataset`` is its folder or its
    ``manifest.jsonl``."""
    path = dataset_file(dataset, MANIFEST)
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path}: line {number} is not JSON ({exc.msg}); run 'ethoclip prepare' again"
            ) from None
        if not isinstance(data, dict):
            raise DatasetError(f"{path}: line {number} is not a JSON object; run prepare again")
        records.append(ClipRecord.from_json(data, f"{path}:{number}"))
    return records


def read_label_map(path: str | os.PathLike[str]) -> list[str]:
    """Class names, one per line (line i = class id i), as MMAction2 label maps are: ``path``
    is the label file (any name) or a dataset folder with ``label_map.txt``."""
    path = dataset_file(path, LABEL_MAP) if Path(path).is_dir() else Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{path}: the label map is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the label map ({exc.strerror})") from None
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()
    dupes = sorted(n for n, c in Counter(names).items() if c > 1)
    if "" in names or dupes:
        raise DatasetError(
            f"{path}: label map has empty lines or repeated names ({', '.join(dupes)}); "
            "write one distinct class name per line"
        )
    if not names:
        raise DatasetError(f"{path}: the label map is empty; write one class name per line")
    return names


@dataclass(frozen=True)
class Dataset:
    """A dataset folder: its label names and its clips, by split."""

    root: Path
    labels: tuple[str, ...]
    records: tuple[ClipRecord, ...]

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def multi_label(self) -> bool:
        """True unless every clip has exactly one label (MMAction2's ``multi_class``)."""
        return any(len(r.label_ids) != 1 for r in self.records)

    @property
    def splits(self) -> list[str]:
        return [s for s in SPLITS if any(r.split == s for r in self.records)]

    def split(self, name: str) -> list[ClipRecord]:
        """The records of one split; a clear error for a split the dataset does not have."""
        records = [r for r in self.records if r.split == name]
        if not records:
            have = ", ".join(self.splits) or "none"
            raise DatasetError(
                f"{self.root}: the dataset has no {name!r} clips (splits: {have}); pick one of "
                "those, or prepare again with a val_fraction/test_fraction that makes it"
            )
        return records

    def path(self, record: ClipRecord) -> Path:
        return self.root / record.clip


def load_dataset(dataset_dir: str | os.PathLike[str]) -> Dataset:
    """Read a ``prepare`` output folder; every error names the file and what to do."""
    root = Path(dataset_dir)
    if not root.is_dir():
        raise DatasetError(
            f"{root}: not a folder; pass a dataset folder made by 'ethoclip prepare'"
        )
    if not (root / LABEL_MAP).is_file():
        raise DatasetError(
            f"{root}: no {LABEL_MAP}, so this is not a dataset made by 'ethoclip prepare'; "
            "run 'ethoclip prepare ROOT --out DIR' and pass DIR"
        )
    labels = read_label_map(root / LABEL_MAP)
    records = read_manifest(root)
    for record in records:
        wrong = [i for i in record.label_ids if not 0 <= i < len(labels)]
        named = [labels[i] for i in record.label_ids if 0 <= i < len(labels)]
        if wrong or named != list(record.labels):
            raise DatasetError(
                f"{root / MANIFEST}: clip {record.clip} has label ids {list(record.label_ids)} "
                f"that do not match {LABEL_MAP} ({len(labels)} labels) and its labels "
                f"{list(record.labels)}; run 'ethoclip prepare' again"
            )
    return Dataset(root=root, labels=tuple(labels), records=tuple(records))
