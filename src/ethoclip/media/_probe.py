"""Probe every stream of a media file: exact frame timestamps from packets, no full decode."""

from __future__ import annotations

import os
import re
import stat
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import MediaError
from ._streams import browser_playable, browser_stream, ffmpeg_default_stream, stream_warnings
from ._types import StreamInfo, VideoProbe

# x264 writes its version into an SEI message of the first keyframe: "x264 - core 142 r...".
_X264_SEI = re.compile(rb"x264 - core (\d{1,4})")
# The SEI sits in the first packet; a few more are read in case a muxer put parameter sets first.
_SEI_PACKETS = 3


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
    except UnicodeDecodeError:
        # PyAV decodes the container's tags while opening; damaged ones are not text.
        raise MediaError(
            f"{path}: its metadata is damaged (not text); re-mux the video "
            "(ffmpeg -i IN -map 0 -c copy -map_metadata -1 OUT.mp4)"
        ) from None
    except av.FFmpegError as exc:
        raise MediaError(
            f"{path}: cannot be read as a video ({exc.strerror or exc}); "
            "check that it is a complete video file (a copy that finished)"
        ) from None


def probe_video(path: str | os.PathLike[str]) -> VideoProbe:
    """Probe every stream of ``path``: header facts plus each video stream's real timestamps."""
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
    probe.browser_playable = browser_playable(probe)
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
        if cc is None:  # a damaged header names no codec: no size to read (it cannot decode)
            return info
        info.width, info.height = cc.width, cc.height
        info.avg_fps = _fps(s.average_rate)
        info.base_fps = _fps(s.base_rate)
        info.header_frames = s.frames or None  # PyAV reports 0 when the header has no count
    elif isinstance(s, av.AudioStream) and s.codec_context is not None:
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
    seen: dict[int, int] = {s.index: 0 for s in video}
    x264: dict[int, int] = {}
    try:
        for packet in container.demux(video):
            if packet.size == 0:  # flush packets carry no frame
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                continue
            index = packet.stream.index
            if seen[index] < _SEI_PACKETS:
                seen[index] += 1
                found = _X264_SEI.search(bytes(packet))
                if found and index not in x264:
                    x264[index] = int(found.group(1))
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
            if info.codec == "h264":
                info.x264_build = x264.get(info.index)


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
        info.pix_fmt = frame.format.name
