"""Opening and decoding videos in a pipeline: MMAction2's ``DecordInit/Decode``,
``PyAVInit/Decode`` and ``OpenCVInit/Decode`` all mean ethoclip's frame-exact PyAV reader.

Frames are matched by timestamp (never "the n-th frame after a seek"), turned upright as a
browser shows them, and decoded straight to the size of a ``Resize`` that follows (one scaling
in C instead of a full-size RGB copy and a second resize).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..media import VideoProbe, VideoReader, probe_video
from ..registry import config_error
from ._transforms import Resize, Results


@functools.lru_cache(maxsize=4096)
def _probe(path: str, size: int, mtime_ns: int) -> VideoProbe:
    # Keyed by size and mtime too: a clip rewritten by a later prepare is probed again.
    return probe_video(path)


def cached_probe(path: str | os.PathLike[str]) -> VideoProbe:
    """The probe of a file, once per worker process (probing reads every packet header)."""
    st = Path(path).stat()
    return _probe(str(path), st.st_size, st.st_mtime_ns)


_LOCAL = ("disk", "local")


def local_io(io_backend: str, extra: Mapping[str, Any]) -> None:
    """Storage arguments of MMAction2's readers: local files are accepted (that is what
    ethoclip reads), remote backends and anything else refused by name.

    ``extra`` holds the rest of the reader's arguments: MMAction2 hands them to its
    ``FileClient``; ``file_client_args``/``backend_args`` dicts naming a local backend are
    accepted as MMEngine's later spelling.
    """
    if io_backend not in _LOCAL:
        raise config_error(
            "io_backend",
            f"{io_backend!r} (remote storage through MMAction2's FileClient) is not supported: "
            "ethoclip reads local files; use 'disk' and copy the data to a local folder",
        )
    for name, value in extra.items():
        if name not in ("file_client_args", "backend_args"):
            raise config_error(
                name, "is not an argument of the reader (a FileClient option for remote storage)"
            )
        settings = dict(value or {})
        backend = settings.pop("backend", settings.pop("io_backend", "local"))
        if backend not in _LOCAL or settings:
            raise config_error(
                name,
                f"{value!r} is not local storage; ethoclip reads local files only "
                "(dict(backend='local') or leave it out)",
            )


class VideoInit:
    """Probe the video: ``total_frames`` and ``avg_fps`` (its exact rate) for the sampler."""

    def __init__(self, io_backend: str = "disk", num_threads: int = 1, **extra: Any) -> None:
        local_io(io_backend, extra)
        if not isinstance(num_threads, int) or num_threads < 0:
            raise config_error("num_threads", f"must be a whole number ≥ 0 (got {num_threads!r})")
        self.num_threads = num_threads  # decoder threads, as decord's (0: FFmpeg chooses)

    def __call__(self, results: Results) -> Results:
        probe = cached_probe(results["filename"])
        stream = probe.stream(
            probe.annotated_stream
            if probe.annotated_stream is not None
            else probe.video_streams[0].index
        )
        results["video_probe"] = probe
        results["decode_threads"] = self.num_threads
        results["total_frames"] = stream.frames
        results["avg_fps"] = float(stream.fps_exact)
        return results


class VideoDecode:
    """Decode ``frame_inds`` (any order, repeats allowed) into ``imgs`` (M, H, W, 3) uint8."""

    def __init__(
        self,
        mode: str = "accurate",
        multi_thread: bool = False,
        io_backend: str = "disk",
        **extra: Any,
    ) -> None:
        # io_backend is not MMAction2's DecordDecode argument (MMAction2 fails on the one config
        # that passes it, tsm 1x1x16), but it means what it says: accepted for local files.
        local_io(io_backend, extra)
        if mode not in ("accurate", "efficient"):
            raise config_error("mode", f"must be 'accurate' or 'efficient', not {mode!r}")
        # Both modes decode exactly the frames asked for: ethoclip's reader matches frames by
        # timestamp, so 'efficient' (seek once, read on) has nothing to trade away.
        self.multi_thread = bool(multi_thread)  # PyAVDecode's: let FFmpeg pick the threads
        self.resize: Resize | None = None  # set by the pipeline when a Resize follows

    def __call__(self, results: Results) -> Results:
        probe: VideoProbe = results.pop("video_probe", None) or cached_probe(results["filename"])
        wanted = np.asarray(results["frame_inds"], dtype=np.int64)
        threads = 0 if self.multi_thread else int(results.pop("decode_threads", 1))
        results.pop("decode_threads", None)
        with VideoReader(probe.path, probe=probe, threads=threads, upright=True) as reader:
            width, height = reader.size
            size = self.resize.output_size(width, height) if self.resize is not None else None
            imgs = reader.read_indices(wanted, size=size)
        results["imgs"] = imgs
        results["original_shape"] = (height, width)
        results["img_shape"] = imgs.shape[1:3]
        if size is not None:
            results["scale_factor"] = np.array([size[0] / width, size[1] / height], np.float32)
        return results
