"""Write synthetic test and demo videos with PyAV: any number of streams, any timestamps."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

from ._framecode import stamp_frame_code

Render = Callable[[int, float, int, int], np.ndarray]  # (index, time_sec, width, height) -> RGB


def gray_render(index: int, time_sec: float, width: int, height: int) -> np.ndarray:
    """A plain frame whose brightness changes with the index (tests read the frame code)."""
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = 40 + (index * 7) % 160
    return frame


@dataclass
class StreamSpec:
    """One video stream to write: size, frame times (seconds) and what to draw."""

    width: int
    height: int
    times_sec: Sequence[float]
    time_base: Fraction = Fraction(1, 90_000)
    render: Render = gray_render
    default: bool = True
    codec: str = "libx264"
    crf: int = 12
    gop: int = 12  # keyframe interval, so seeks have something to do
    pix_fmt: str = "yuv420p"  # yuv444p allows odd sizes
    # The frame index in a top band, for tests that prove which frame they got; off for videos
    # that stand in for camera footage (a band that changes every frame is motion no camera has).
    frame_code: bool = True


@dataclass
class AudioSpec:
    """A silent-ish audio track (a quiet tone) lasting ``duration_sec`` from ``start_sec``."""

    duration_sec: float
    start_sec: float = 0.0
    sample_rate: int = 16_000


@dataclass
class VideoSpec:
    streams: list[StreamSpec]
    audio: AudioSpec | None = None
    audio_first: bool = False  # put the audio stream at index 0
    container_format: str | None = None  # None: from the file extension
    options: dict[str, str] = field(default_factory=dict)


def cfr_times(num_frames: int, fps: float, start_sec: float = 0.0) -> list[float]:
    return [start_sec + i / fps for i in range(num_frames)]


def write_video(path: str | os.PathLike[str], spec: VideoSpec) -> Path:
    """Write ``spec`` to ``path``; every video frame carries its index as a frame code (unless
    its stream's ``frame_code`` is off)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(path), mode="w", format=spec.container_format, options=spec.options)
    audio_stream = None
    if spec.audio is not None and spec.audio_first:
        audio_stream = _add_audio(container, spec.audio)
    video_streams = []
    for s in spec.streams:
        stream = cast(av.VideoStream, container.add_stream(s.codec, rate=_nominal_rate(s)))
        stream.width, stream.height = s.width, s.height
        stream.pix_fmt = s.pix_fmt
        stream.codec_context.time_base = s.time_base
        stream.codec_context.gop_size = s.gop
        stream.options = {"crf": str(s.crf), "preset": "ultrafast", "bf": "2"}
        # Real multi-camera files mark every track enabled; without this the MP4 muxer marks
        # only the first one, which changes what ffmpeg picks.
        stream.disposition = (
            av.stream.Disposition.default if s.default else av.stream.Disposition(0)
        )
        video_streams.append(stream)
    if spec.audio is not None and not spec.audio_first:
        audio_stream = _add_audio(container, spec.audio)

    # Interleave by time so the muxer sees packets in order.
    events = sorted(
        (t, k, i) for k, s in enumerate(spec.streams) for i, t in enumerate(s.times_sec)
    )
    for t, k, i in events:
        s, stream = spec.streams[k], video_streams[k]
        frame = s.render(i, t, s.width, s.height).copy()
        if s.frame_code:
            stamp_frame_code(frame, i)
        vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
        vf.pts = round(t / s.time_base)
        vf.time_base = s.time_base
        container.mux(stream.encode(vf))
    for stream in video_streams:
        container.mux(stream.encode(None))
    if audio_stream is not None and spec.audio is not None:
        _write_audio(container, audio_stream, spec.audio)
    container.close()
    return path


def _nominal_rate(s: StreamSpec) -> Fraction:
    if len(s.times_sec) >= 2:
        span = s.times_sec[-1] - s.times_sec[0]
        if span > 0:
            return Fraction((len(s.times_sec) - 1) / span).limit_denominator(1001)
    return Fraction(25)


def _add_audio(container: av.container.OutputContainer, audio: AudioSpec) -> av.AudioStream:
    stream = cast(av.AudioStream, container.add_stream("aac", rate=audio.sample_rate))
    stream.layout = "mono"
    return stream


def _write_audio(
    container: av.container.OutputContainer, stream: av.AudioStream, audio: AudioSpec
) -> None:
    rate = audio.sample_rate
    chunk = 1024
    total = round(audio.duration_sec * rate)
    start = round(audio.start_sec * rate)
    for offset in range(0, total, chunk):
        n = min(chunk, total - offset)
        t = (np.arange(offset, offset + n) / rate).astype(np.float32)
        samples = (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start + offset
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
