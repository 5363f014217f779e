"""Class names and per-video label intervals built from parsed VIA segments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ._via import Segment

# VIA nudges edges in 1/50 s steps, so touching segments usually keep a ~0.02 s gap. Gaps up to
# this long between segments of one label are treated as one continuous bout.
MERGE_GAP_SEC = 0.05


def class_names(segments: Iterable[Segment]) -> dict[tuple[str, str], str]:
    """Map each (attribute, label) pair to its class name.

    The name is the label itself, or ``attribute=label`` where one label occurs under several
    temporal attributes (so the name stays unambiguous).
    """
    pairs = sorted({pair for s in segments for pair in s.labels})
    attributes_of: dict[str, set[str]] = {}
    for attribute, label in pairs:
        attributes_of.setdefault(label, set()).add(attribute)
    return {
        (attribute, label): label if len(attributes_of[label]) == 1 else f"{attribute}={label}"
        for attribute, label in pairs
    }


@dataclass(frozen=True)
class LabelInterval:
    """A continuous bout of one class on one video: [start, end) seconds, annotated timeline."""

    label: str
    start: float
    end: float
    segment_ids: tuple[str, ...]


def label_intervals(
    segments: Sequence[Segment],
    names: dict[tuple[str, str], str],
    *,
    merge_gap_sec: float = MERGE_GAP_SEC,
) -> list[LabelInterval]:
    """Per-class intervals of one video's segments, merging overlaps and VIA's tiny gaps."""
    by_label: dict[str, list[tuple[float, float, str]]] = {}
    for s in segments:
        for pair in s.labels:
            by_label.setdefault(names[pair], []).append((s.start, s.end, s.mid))
    out: list[LabelInterval] = []
    for label, items in sorted(by_label.items()):
        items.sort()
        start, end, mids = items[0][0], items[0][1], [items[0][2]]
        for s_start, s_end, mid in items[1:]:
            if s_start <= end + merge_gap_sec:
                end = max(end, s_end)
                mids.append(mid)
            else:
                out.append(LabelInterval(label, start, end, tuple(mids)))
                start, end, mids = s_start, s_end, [mid]
        out.append(LabelInterval(label, start, end, tuple(mids)))
    return sorted(out, key=lambda i: (i.start, i.label))
