"""Plan fixed-length windows over a video's annotated timeline and label them (multi-hot)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..annotations import LabelInterval
from ._options import WindowMode

# Window starts closer than this are the same window (float noise from stride arithmetic).
_SAME_START_SEC = 1e-6


@dataclass(frozen=True)
class Window:
    """[start, end) seconds on the annotated stream's timeline, with the classes it shows."""

    start: float
    end: float
    labels: tuple[str, ...]
    segment_ids: tuple[str, ...]

    @property
    def is_background(self) -> bool:
        return not self.labels


def label_window(
    start: float, end: float, intervals: Sequence[LabelInterval], *, min_overlap: float
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Classes (and VIA segment ids) that apply to [start, end).

    A class applies when its intervals cover at least ``min_overlap`` of the window, or cover
    the whole of an interval shorter than that (a brief behaviour fully inside the window).
    """
    covered: dict[str, float] = {}
    whole_short: set[str] = set()
    ids: dict[str, list[str]] = {}
    need = min_overlap * (end - start)
    for interval in intervals:
        overlap = min(end, interval.end) - max(start, interval.start)
        if overlap <= 0:
            continue
        covered[interval.label] = covered.get(interval.label, 0.0) + overlap
        ids.setdefault(interval.label, []).extend(interval.segment_ids)
        length = interval.end - interval.start
        if length < need and overlap >= length - 1e-6:
            whole_short.add(interval.label)
    labels = sorted(k for k, v in covered.items() if v >= need - 1e-9 or k in whole_short)
    segment_ids = tuple(dict.fromkeys(i for label in labels for i in ids[label]))
    return tuple(labels), segment_ids


def _spans(intervals: Sequence[LabelInterval], gap_sec: float) -> list[tuple[float, float]]:
    """Union of all labelled time (any class), merging gaps up to ``gap_sec``."""
    spans: list[list[float]] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if spans and interval.start <= spans[-1][1] + gap_sec:
            spans[-1][1] = max(spans[-1][1], interval.end)
        else:
            spans.append([interval.start, interval.end])
    return [(a, b) for a, b in spans]


def window_starts(
    intervals: Sequence[LabelInterval],
    *,
    video_start: float,
    video_end: float,
    clip_sec: float,
    stride_sec: float,
    mode: WindowMode,
    merge_gap_sec: float = 0.05,
) -> tuple[list[float], int]:
    """Start times of the windows to cut, and how many would run past the video's end.

    ``video``: tile the whole stream from its first frame. ``segments``: tile each labelled
    span from its start; a span's remainder longer than half a clip gets one more window ending
    at the span's end; a span shorter than a clip gets one window centred on it (shifted to fit
    inside the video).
    """
    past_end = 0
    starts: list[float] = []

    def add(start: float) -> None:
        nonlocal past_end
        if start + clip_sec > video_end + 1e-9:
            past_end += 1
            return
        starts.append(max(start, video_start))

    if mode == "video":
        k = 0
        while video_start + k * stride_sec + clip_sec <= video_end + 1e-9:
            starts.append(video_start + k * stride_sec)
            k += 1
        if video_start + k * stride_sec < video_end - 1e-9:
            past_end += 1  # the tail shorter than a clip
    else:
        for span_start, span_end in _spans(intervals, merge_gap_sec):
            span_start = max(span_start, video_start)
            span_end = min(span_end, video_end)
            if span_end <= span_start:
                continue
            length = span_end - span_start
            if length < clip_sec:
                # Centre the window on the short span, shifted (not padded) to fit the video.
                centred = span_start + length / 2 - clip_sec / 2
                add(max(video_start, min(centred, video_end - clip_sec)))
                continue
            k = 0
            while span_start + k * stride_sec + clip_sec <= span_end + 1e-9:
                add(span_start + k * stride_sec)
                k += 1
            last_end = span_start + (k - 1) * stride_sec + clip_sec
            if span_end - last_end > clip_sec / 2:
                add(span_end - clip_sec)
    unique: list[float] = []
    for start in sorted(starts):
        if not unique or start - unique[-1] > _SAME_START_SEC:
            unique.append(start)
    return unique, past_end


def plan_windows(
    intervals: Sequence[LabelInterval],
    *,
    video_start: float,
    video_end: float,
    clip_sec: float,
    stride_sec: float | None = None,
    mode: WindowMode = "segments",
    min_overlap: float = 0.5,
) -> tuple[list[Window], int]:
    """Labelled windows over one video (background windows included) and the past-end count."""
    starts, past_end = window_starts(
        intervals,
        video_start=video_start,
        video_end=video_end,
        clip_sec=clip_sec,
        stride_sec=stride_sec or clip_sec,
        mode=mode,
    )
    windows = []
    for start in starts:
        end = start + clip_sec
        labels, ids = label_window(start, end, intervals, min_overlap=min_overlap)
        windows.append(Window(round(start, 6), round(end, 6), labels, ids))
    return windows, past_end
