"""What probing finds out about a file: typed records, no FFmpeg calls (those are in ``_probe``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MediaError

# A frame-rate difference smaller than this (relative) is jitter from rounding into the time base.
_VFR_RELATIVE_TOLERANCE = 0.02
# Rates are reported as fractions with a denominator of at most this (30000/1001 is NTSC).
RATE_DENOMINATOR = 1001
# Rates cameras and encoders write: whole numbers and the NTSC family (N·1000/1001).
COMMON_RATES = tuple(
    sorted(
        {Fraction(n) for n in range(1, 241)}
        | {Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120, 240)}
    )
)


@dataclass(eq=False)
class StreamInfo:
    """One stream of a file. Times are seconds; ``pts_ticks`` are in ``time_base`` units."""

    index: int
    type: str
    codec: str | None
    time_base: Fraction | None
    start_time: float | None
    header_duration: float | None
    width: int | None = None
    height: int | None = None
    avg_fps: float | None = None  # the header's average (display only: see ``fps_exact``)
    base_fps: float | None = None
    header_frames: int | None = None
    default: bool = False
    attached_pic: bool = False
    rotation: float = 0.0
    decodable: bool = True
    sample_rate: int | None = None
    pix_fmt: str | None = None
    # The x264 build named in the stream's version SEI (H.264 written by x264), if any. FFmpeg
    # reads it only when it decodes from the first frame, and old builds need workarounds: every
    # seeking decoder is told it (``VideoReader``), so it decodes as a browser from frame 0 does.
    x264_build: int | None = None
    # Video only: presented frames (edit-list pre-roll excluded), sorted by pts.
    pts_ticks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keyframe_ticks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last_frame_ticks: int = 0  # duration of the last frame, to know where the stream ends

    @property
    def is_video(self) -> bool:
        return self.type == "video"

    @property
    def turns(self) -> int:
        """Counter-clockwise quarter turns that show the decoded picture upright."""
        return round(self.rotation / 90) % 4

    @property
    def frames(self) -> int:
        """Exact number of presented frames (0 for non-video streams)."""
        return int(self.pts_ticks.size)

    @property
    def pts(self) -> np.ndarray:
        """Sorted presentation times of the frames, in seconds (float64)."""
        tb = self.time_base or Fraction(1, 1)
        return self.pts_ticks.astype(np.float64) * float(tb)

    @property
    def first_pts(self) -> float | None:
        return float(self.pts[0]) if self.frames else self.start_time

    @property
    def end_time(self) -> float | None:
        """Time just after the last frame ends (seconds) on the stream's own clock."""
        if not self.frames or self.time_base is None:
            if self.start_time is not None and self.header_duration is not None:
                return self.start_time + self.header_duration
            return None
        return float((int(self.pts_ticks[-1]) + self.last_frame_ticks) * self.time_base)

    @property
    def duration(self) -> float | None:
        """Measured duration for video (first frame to end of last), header value otherwise."""
        if self.is_video and self.frames:
            first, end = self.first_pts, self.end_time
            if first is not None and end is not None:
                return end - first
        return self.header_duration

    @property
    def frame_duration(self) -> float:
        """Typical frame duration in seconds (median spacing), for tolerances."""
        if self.frames >= 2:
            return float(np.median(np.diff(self.pts)))
        if self.avg_fps:
            return 1.0 / self.avg_fps
        return 1.0 / 30.0

    @property
    def fps_exact(self) -> Fraction:
        """The frame rate measured from the frames' timestamps.

        Evenly spaced frames give the exact rational rate (1 / spacing). Otherwise it is the mean
        rate over the stream's span, as a fraction with a small denominator, so a 30000/1001 s
        stream stored in a 1/1000 time base (spacings of 33 and 34 ticks) reads 30000/1001. The
        header's average is not used: it can count samples that are never shown (an MP4 whose
        last sample is cut by an edit list reads 2500/83 for a 30 fps stream).
        """
        if self.frames >= 2 and self.time_base is not None:
            steps = np.diff(self.pts_ticks)
            if steps.size and int(steps.min()) == int(steps.max()) and steps[0] > 0:
                return 1 / (int(steps[0]) * self.time_base)
            span = float(int(self.pts_ticks[-1] - self.pts_ticks[0]) * self.time_base)
            if span > 0:
                mean = (self.frames - 1) / span
                # Each timestamp was rounded to some clock (at worst by the spread of the
                # steps), so the span, and the rate, are only known to within that: take the
                # closest common rate inside the margin (30000/1001 stored in milliseconds).
                spread = float((int(steps.max()) - int(steps.min())) * self.time_base)
                margin = mean * max(float(self.time_base), spread) / span
                closest = min(COMMON_RATES, key=lambda rate: abs(float(rate) - mean))
                if abs(float(closest) - mean) <= margin:
                    return closest
                return Fraction(mean).limit_denominator(RATE_DENOMINATOR)
        if self.avg_fps:
            return Fraction(self.avg_fps).limit_denominator(RATE_DENOMINATOR)
        return Fraction(30)

    @property
    def vfr(self) -> bool:
        """True when frame timestamps are not evenly spaced (variable frame rate)."""
        if self.frames < 3 or self.time_base is None:
            return False
        diffs = np.diff(self.pts)
        median = float(np.median(diffs))
        # Rounding into a coarse time base (e.g. 1/1000 for 30000/1001 fps) makes spacings
        # differ by one tick; only a larger spread is a real variable rate.
        tolerance = max(1.5 * float(self.time_base), _VFR_RELATIVE_TOLERANCE * median)
        return bool(float(diffs.max() - diffs.min()) > tolerance)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "type": self.type,
            "codec": self.codec,
            "start_time": _round(self.start_time),
            "duration": _round(self.duration),
            "default": self.default,
        }
        if self.is_video:
            out.update(
                width=self.width,
                height=self.height,
                pix_fmt=self.pix_fmt,
                frames=self.frames,
                header_frames=self.header_frames,
                first_pts=_round(self.first_pts),
                end_time=_round(self.end_time),
                fps=_round(float(self.fps_exact)) if self.frames else None,
                fps_exact=str(self.fps_exact) if self.frames else None,
                avg_fps=_round(self.avg_fps),
                base_fps=_round(self.base_fps),
                vfr=self.vfr,
                attached_pic=self.attached_pic,
                rotation=self.rotation,
                decodable=self.decodable,
                x264_build=self.x264_build,
                time_base=str(self.time_base) if self.time_base else None,
            )
        elif self.type == "audio":
            out["sample_rate"] = self.sample_rate
        return out


@dataclass(eq=False)
class VideoProbe:
    """Everything known about one file's streams, plus the stream choices and warnings."""

    path: Path
    format_name: str
    start_time: float | None
    duration: float | None
    streams: list[StreamInfo]
    annotated_stream: int | None = None
    export_stream: int | None = None
    # False when Chrome cannot play the file as it is (container or codec): VIA then showed a
    # converted copy, whose timeline may differ.
    browser_playable: bool = True
    warnings: list[str] = field(default_factory=list)

    @property
    def video_streams(self) -> list[StreamInfo]:
        """Real video streams: cover art / thumbnails (attached pictures) excluded."""
        return [s for s in self.streams if s.is_video and not s.attached_pic]

    @property
    def is_mov(self) -> bool:
        return any(name in self.format_name.split(",") for name in ("mov", "mp4"))

    def stream(self, index: int) -> StreamInfo:
        """The video stream with absolute index ``index``; a clear error otherwise."""
        for s in self.video_streams:
            if s.index == index:
                return s
        choices = ", ".join(str(s.index) for s in self.video_streams) or "none"
        raise MediaError(
            f"{self.path}: stream {index} is not a video stream of this file "
            f"(video streams: {choices}); pass one of those indices"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format_name,
            "start_time": _round(self.start_time),
            "duration": _round(self.duration),
            "streams": [s.to_json() for s in self.streams],
            "annotated_stream": self.annotated_stream,
            "export_stream": self.export_stream,
            "browser_playable": self.browser_playable,
            "warnings": list(self.warnings),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)
