"""Map times between two video streams of one file (formats.md §3.4).

The annotated stream A is the one VIA showed; B is the stream whose pixels are exported. Times on
A's timeline are what the VIA project holds. A map turns them into B's timeline and says which
part of A's timeline B actually covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from ..errors import MediaError
from ._types import StreamInfo

TimeMapMethod = Literal["identity", "linear", "index"]
TIME_MAP_METHODS: tuple[str, ...] = ("auto", "identity", "linear", "index")

# VIA stores times rounded to 3 decimals; a frame whose pts is within half of that step of a
# time counts as shown at that time (so 12.033 selects the frame at 12.03333…).
TIME_TOLERANCE_SEC = 5e-4


def frame_index_at(pts_sec: np.ndarray, time_sec: float | np.ndarray) -> np.ndarray:
    """Index of the frame on screen at ``time_sec``: the last frame with pts ≤ time (±tolerance).

    Times before the first frame give -1.
    """
    return np.searchsorted(pts_sec, np.asarray(time_sec) + TIME_TOLERANCE_SEC, side="right") - 1


def window_frame_indices(
    pts_sec: np.ndarray, start_sec: float, num_frames: int, fps: float | Fraction
) -> np.ndarray:
    """Source frame indices of a window sampled at a constant ``fps``: THE rule clips are cut by.

    Output frame k is the frame on screen at ``start_sec + k / fps``, on the window's own clock
    (not the first frame's timestamp: on VFR sources, or when resampling, the two differ). The
    dataset writer, the training loader and the predictor all call this, so a model sees the
    same frames for a window at training and at inference. -1 marks times before the first frame.
    """
    times = start_sec + np.arange(num_frames, dtype=np.float64) / float(fps)
    return frame_index_at(pts_sec, times).astype(np.int64)


@dataclass(frozen=True)
class TimeMap:
    """A map from annotated-stream time (A) to source-stream time (B), both in seconds."""

    method: TimeMapMethod
    annotated: StreamInfo
    source: StreamInfo

    def to_source(self, time_sec: float) -> float:
        """B's time for A's time ``time_sec``."""
        a, b = self.annotated, self.source
        if self.method == "identity":
            # One muxer, one clock: pts are absolute, so no per-stream start subtraction.
            return float(time_sec)
        if self.method == "linear":
            # Independent clocks that recorded the same span: map by fraction of progress.
            u = (time_sec - _first(a)) / _span(a)
            return _first(b) + u * _span(b)
        # "index": frames were dropped uniformly; map frame i of A to frame j of B.
        i = int(np.clip(frame_index_at(a.pts, time_sec), 0, a.frames - 1))
        j = round(i * (b.frames - 1) / max(a.frames - 1, 1))
        return float(b.pts[j])

    def covered(self) -> tuple[float, float]:
        """The part of A's timeline for which B has pixels: [start, end) in A's seconds."""
        a, b = self.annotated, self.source
        a_start, a_end = _first(a), _end(a)
        if self.method == "identity":
            return max(a_start, _first(b)), min(a_end, _end(b))
        return a_start, a_end

    def disagreement_frames(self) -> float:
        """How far identity and linear mapping disagree at A's end, in B frames (a check)."""
        a, b = self.annotated, self.source
        if a.index == b.index:
            return 0.0
        end = _end(a) - a.frame_duration
        linear = TimeMap("linear", a, b).to_source(end)
        return abs(linear - end) / b.frame_duration

    def to_json(self) -> dict[str, object]:
        start, end = self.covered()
        return {
            "method": self.method,
            "annotated_stream": self.annotated.index,
            "source_stream": self.source.index,
            "annotated_start": round(_first(self.annotated), 6),
            "annotated_end": round(_end(self.annotated), 6),
            "source_start": round(_first(self.source), 6),
            "source_end": round(_end(self.source), 6),
            "covered": [round(start, 6), round(end, 6)],
        }


def _first(s: StreamInfo) -> float:
    return float(s.first_pts or 0.0)


def _end(s: StreamInfo) -> float:
    return float(s.end_time or 0.0)


def _span(s: StreamInfo) -> float:
    span = _end(s) - _first(s)
    if span <= 0:
        raise MediaError(f"stream {s.index} has no duration; it cannot be time-mapped")
    return span


def choose_time_map(
    annotated: StreamInfo, source: StreamInfo, method: str = "auto"
) -> tuple[TimeMap, list[str]]:
    """Pick the map from A to B, with notes for the summary.

    ``auto`` is the identity (one muxer wrote both tracks on one clock), except when both
    streams hold the same number of frames but their durations differ by more than a frame:
    the same frames stamped on two clocks, which only frame-index mapping aligns. When identity
    and linear mapping disagree by more than one frame at the end, a note says so: if the
    cameras recorded the same span, ``--time-map linear`` is right instead.
    """
    if method not in TIME_MAP_METHODS:
        raise MediaError(
            f"time map {method!r} is unknown; use one of {', '.join(TIME_MAP_METHODS)}"
        )
    notes: list[str] = []
    if annotated.index == source.index:
        return TimeMap("identity", annotated, source), notes
    if method == "auto":
        frame = max(annotated.frame_duration, source.frame_duration)
        same_frames = annotated.frames == source.frames
        durations_differ = abs((annotated.duration or 0) - (source.duration or 0)) > frame
        chosen: TimeMapMethod = "index" if same_frames and durations_differ else "identity"
        if chosen == "index":
            notes.append(
                f"streams {annotated.index} and {source.index} hold the same {source.frames} "
                "frames on different clocks: mapped by frame index"
            )
    else:
        chosen = method  # type: ignore[assignment]
    time_map = TimeMap(chosen, annotated, source)
    if chosen == "identity":
        gap = time_map.disagreement_frames()
        if gap > 1:
            notes.append(
                f"streams {annotated.index} and {source.index}: shared-clock (identity) and "
                f"progress (linear) mapping disagree by {gap:.1f} frames at the end; identity is "
                "used: if both cameras recorded the same span, use the linear time map"
            )
    return time_map, notes
