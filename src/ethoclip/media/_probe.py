"""Probe every stream of a media file: exact frame timestamps from packets, no full decode."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..errors import MediaError

# A frame-rate difference smaller than this (relative) is jitter from rounding into the time base.
_VFR_RELATIVE_TOLERANCE = 0.02


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
    avg_fps: float | None = None
    base_fps: float | None = None
    header_frames: int | None = None
    default: bool = False
    attached_pic: bool = False
    rotation: float = 0.0
    decodable: bool = True
    sample_rate: int | None = None
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
            assert first is not None and end is not None  # frames > 0 guarantees both
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
                frames=self.frames,
                header_frames=self.header_frames,
                first_pts=_round(self.first_pts),
                end_time=_round(self.end_time),
                avg_fps=_round(self.avg_fps),
                base_fps=_round(self.base_fps),
                vfr=self.vfr,
                attached_pic=self.attached_pic,
                rotation=self.rotation,
                decodable=self.decodable,
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
            "warnings": list(self.warnings),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _fps(rate: Fraction | None) -> float | None:
    if rate is None or rate.denominator == 0 or rate == 0:
        return None
    return float(rate)


def check_readable_file(path: Path) -> None:
    """Raise MediaError unless ``path`` is a non-empty regular file (FIFOs would hang a probe)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MediaError(f"{path}: file not found; check the path") from None
    except OSError as exc:
        raise MediaError(
            f"{path}: cannot read the file ({exc.strerror}); check permissions"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"{path}: not a regular file; pass a video file")
    if st.st_size == 0:
        raise MediaError(f"{path}: the file is empty (0 bytes); copy the video again")
    if not os.access(path, os.R_OK):
        raise MediaError(f"{path}: no permission to read the file; fix its permissions")


def open_container(path: Path) -> av.container.InputContainer:
    """Open ``path`` for reading, turning FFmpeg's errors into a MediaError naming the file."""
    check_readable_file(path)
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as exc:
        raise MediaError(
            f"{path}: cannot be read as a video ({exc.strerror or exc}); "
            "check that it is a complete video file (a copy that finished)"
        ) from None


def probe_video(path: str | os.PathLike[str]) -> VideoProbe:
    """Probe every stream of ``path``: header facts plus each video stream's real timestamps."""
    from ._streams import browser_stream, ffmpeg_default_stream, stream_warnings

    path = Path(path)
    with open_container(path) as container:
        streams = [_header_info(s) for s in container.streams]
        video = [s for s in container.streams if s.type == "video"]
        if not video:
            kinds = ", ".join(sorted({s.type for s in streams})) or "no streams"
            raise MediaError(f"{path}: has no video stream (found: {kinds}); pass a video file")
        _read_packet_timestamps(path, container, video, streams)
        probe = VideoProbe(
            path=path,
            format_name=container.format.name,
            start_time=_seconds(container.start_time, Fraction(1, av.time_base)),
            duration=_seconds(container.duration, Fraction(1, av.time_base)),
            streams=streams,
        )
    _read_first_frames(probe)
    if not any(s.frames for s in probe.video_streams):
        raise MediaError(
            f"{path}: the video stream holds no frames; the file is truncated or empty"
        )
    probe.annotated_stream = browser_stream(probe)
    probe.export_stream = ffmpeg_default_stream(probe)
    probe.warnings = stream_warnings(probe)
    return probe


def _header_info(s: av.stream.Stream) -> StreamInfo:
    tb = s.time_base
    disposition = getattr(s, "disposition", 0)
    flags = av.stream.Disposition
    info = StreamInfo(
        index=s.index,
        type=s.type,
        codec=s.codec_context.name if s.codec_context is not None else None,
        time_base=tb,
        start_time=_seconds(s.start_time, tb),
        header_duration=_seconds(s.duration, tb),
        default=bool(disposition & flags.default),
        attached_pic=bool(disposition & flags.attached_pic),
    )
    if isinstance(s, av.VideoStream):
        cc = s.codec_context
        info.width, info.height = cc.width, cc.height
        info.avg_fps = _fps(s.average_rate)
        info.base_fps = _fps(s.base_rate)
        info.header_frames = s.frames or None  # PyAV reports 0 when the header has no count
    elif isinstance(s, av.AudioStream):
        info.sample_rate = s.codec_context.sample_rate
    return info


def _read_packet_timestamps(
    path: Path,
    container: av.container.InputContainer,
    video: list[av.stream.Stream],
    infos: list[StreamInfo],
) -> None:
    """Demux (not decode) the video streams once and record each presented frame's pts."""
    ticks: dict[int, list[int]] = {s.index: [] for s in video}
    keys: dict[int, list[int]] = {s.index: [] for s in video}
    last_duration: dict[int, int] = {s.index: 0 for s in video}
    try:
        for packet in container.demux(video):
            if packet.size == 0:  # flush packets carry no frame
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                continue
            index = packet.stream.index
            if packet.is_keyframe:
                keys[index].append(ts)
            # Edit lists (stream-copied cuts) keep pre-roll packets flagged "discard": they are
            # decoded as references but never shown, so they are not frames of the video.
            if packet.is_discard:
                continue
            ticks[index].append(ts)
            if packet.duration:
                last_duration[index] = packet.duration
    except av.FFmpegError as exc:
        raise MediaError(
            f"{path}: damaged after {sum(map(len, ticks.values()))} frames "
            f"({exc.strerror or exc}); "
            "the file is truncated or corrupt: copy it again or re-mux it"
        ) from None
    for info in infos:
        if info.index in ticks:
            info.pts_ticks = np.sort(np.asarray(ticks[info.index], dtype=np.int64))
            info.keyframe_ticks = np.sort(np.asarray(keys[info.index], dtype=np.int64))
            info.last_frame_ticks = last_duration[info.index] or _spacing_ticks(info.pts_ticks)


def _spacing_ticks(pts_ticks: np.ndarray) -> int:
    return int(np.median(np.diff(pts_ticks))) if pts_ticks.size >= 2 else 0


def _read_first_frames(probe: VideoProbe) -> None:
    """Decode the first frame of each video stream: proves it decodes and gives its rotation."""
    for info in probe.video_streams:
        if not info.frames:
            continue
        try:
            with av.open(str(probe.path)) as container:
                stream = container.streams[info.index]
                stream.thread_type = "AUTO"
                frame = next(iter(container.decode(stream)), None)
        except (av.FFmpegError, StopIteration):
            frame = None
        if frame is None:
            info.decodable = False
            continue
        info.rotation = float(getattr(frame, "rotation", 0) or 0)
