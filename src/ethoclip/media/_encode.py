"""Write clips: H.264 in MP4, one video stream, no audio, constant frame rate, atomic."""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

from ..errors import MediaError

ENCODER = "libx264"
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
CRF_RANGE = (0, 51)  # x264's constant-quality scale for 8-bit video; lower is better


class ClipWriteError(MediaError):
    """Writing a clip failed; ``errno`` says why when the system said (ENOSPC, EACCES …)."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


def _errno(exc: BaseException) -> int | None:
    return getattr(exc, "errno", None)


def check_encoder_settings(*, crf: int, preset: str) -> None:
    """Open the clip encoder once, on one tiny frame, with these settings.

    Everything x264 would reject fails here, before a dataset is touched, instead of once per
    video half-way through a run.
    """
    if ENCODER not in av.codecs_available:
        raise MediaError("this PyAV build has no libx264 encoder; reinstall PyAV from PyPI")
    context = cast(av.VideoCodecContext, av.CodecContext.create(ENCODER, "w"))
    context.width = context.height = 16
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, 25)
    context.options = {"crf": str(crf), "preset": preset, "threads": "1"}
    frame = av.VideoFrame(16, 16, "yuv420p")
    frame.pts = 0
    try:
        context.encode(frame)
        context.encode(None)
    except (av.FFmpegError, OverflowError) as exc:
        raise MediaError(
            f"the H.264 encoder (libx264) rejects crf={crf}, preset={preset!r} ({exc}); "
            f"use crf {CRF_RANGE[0]}–{CRF_RANGE[1]} and a preset from {', '.join(X264_PRESETS)}"
        ) from None


def even_size_for_short_side(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """(width, height) scaled so the short side is ``short_side``; both even (yuv420p needs it)."""
    if not short_side:
        return width - width % 2, height - height % 2
    scale = short_side / min(width, height)
    new_w, new_h = round(width * scale / 2) * 2, round(height * scale / 2) * 2
    return max(new_w, 2), max(new_h, 2)


class ClipEncoder:
    """Encode RGB frames to ``path`` at a constant ``fps``; the file appears only when complete.

    Frames go to ``<path>.part`` first and are renamed on ``close()``, so a killed run never
    leaves a clip that looks finished.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        fps: Fraction | float,
        crf: int = 20,
        preset: str = "veryfast",
        threads: int = 1,
    ) -> None:
        self.path = Path(path)
        self.width, self.height = width, height
        self.fps = Fraction(fps).limit_denominator(100_000)
        # Checked before anything is created, so a failure leaves no .part file.
        if ENCODER not in av.codecs_available:
            raise MediaError("this PyAV build has no libx264 encoder; reinstall PyAV from PyPI")
        self._tmp = self.path.with_name(self.path.name + ".part")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container: av.container.OutputContainer | None
        try:
            self._container = av.open(str(self._tmp), mode="w", format="mp4")
        except (av.FFmpegError, OSError) as exc:
            raise ClipWriteError(
                f"{self.path}: cannot create the clip ({exc}); check the folder is writable "
                "and the disk is not full",
                _errno(exc),
            ) from None
        stream = cast(
            av.VideoStream,
            self._container.add_stream(
                ENCODER, rate=self.fps, options={"crf": str(crf), "preset": preset}
            ),
        )
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = 1 / self.fps
        stream.codec_context.thread_count = threads
        self._stream = stream
        self._count = 0

    def __enter__(self) -> ClipEncoder:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def num_frames(self) -> int:
        return self._count

    def write(self, frame: np.ndarray | av.VideoFrame) -> None:
        """Append one frame (RGB uint8 array or a PyAV frame); resized to the clip size."""
        if isinstance(frame, np.ndarray):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        else:
            video_frame = frame
        if (video_frame.width, video_frame.height) != (self.width, self.height) or (
            video_frame.format.name != "yuv420p"
        ):
            video_frame = video_frame.reformat(
                width=self.width, height=self.height, format="yuv420p"
            )
        # This file has its own constant clock, and the source's picture types (a decoded B
        # frame) must not force x264's frame types.
        video_frame.pict_type = av.video.frame.PictureType.NONE
        video_frame.pts = self._count
        video_frame.time_base = self._stream.codec_context.time_base
        self._count += 1
        self._mux(self._stream.encode(video_frame))

    def _mux(self, packets: list[av.Packet]) -> None:
        assert self._container is not None, "the clip is already closed"
        try:
            self._container.mux(packets)
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise ClipWriteError(
                f"{self.path}: writing failed ({exc}); check free disk space and permissions",
                _errno(exc),
            ) from None

    def close(self) -> None:
        """Flush, close and move the finished file into place."""
        if self._container is None:
            return
        if self._count == 0:
            self.abort()
            raise MediaError(f"{self.path}: no frames were written; nothing to save")
        self._mux(self._stream.encode(None))
        try:
            self._container.close()
            os.replace(self._tmp, self.path)
        except (av.FFmpegError, OSError) as exc:
            self._container = None
            self._tmp.unlink(missing_ok=True)
            raise ClipWriteError(
                f"{self.path}: finishing the clip failed ({exc}); check free disk space",
                _errno(exc),
            ) from None
        self._container = None

    def abort(self) -> None:
        """Stop and remove the partial file."""
        if self._container is not None:
            with contextlib.suppress(av.FFmpegError, OSError):
                self._container.close()
            self._container = None
        self._tmp.unlink(missing_ok=True)
