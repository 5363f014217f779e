"""Opening and decoding videos in a pipeline: MMAction2's ``DecordInit/Decode``,
``PyAVInit/Decode`` and ``OpenCVInit/Decode`` all mean ethoclip's frame-exact PyAV reader.

Frames are matched by timestamp (never "the n-th frame after a seek"), turned upright as a
browser shows them, and decoded straight to the size of a ``Resize`` that follows (one scaling
in C instead of a full-size RGB copy and a second resize).
"""

from __future__ import annotations

import functools
import os
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


class VideoInit:
    """Probe the video: ``total_frames`` and ``avg_fps`` (its exact rate) for the sampler."""

    def __init__(self, io_backend: str = "disk", num_threads: int = 1, **unused: Any) -> None:
        if io_backend != "disk":
            raise config_error("io_backend", f"only 'disk' is supported, not {io_backend!r}")
        if unused:
            names = ", ".join(sorted(unused))
            raise config_error(
                names.split(", ")[0], f"not an argument of the video reader ({names})"
            )
        self.num_threads = num_threads

    def __call__(self, results: Results) -> Results:
        probe = cached_probe(results["filename"])
        stream = probe.stream(
            probe.annotated_stream
            if probe.annotated_stream is not None
            else probe.video_streams[0].index
        )
        results["video_probe"] = probe
        results["total_frames"] = stream.frames
        results["avg_fps"] = float(stream.fps_exact)
        return results


class VideoDecode:
    """Decode ``frame_inds`` (any order, repeats allowed) into ``imgs`` (M, H, W, 3) uint8."""

    def __init__(self, mode: str = "accurate", multi_thread: bool = False) -> None:
        if mode not in ("accurate", "efficient"):
            raise config_error("mode", f"must be 'accurate' or 'efficient', not {mode!r}")
        self.resize: Resize | None = None  # set by the pipeline when a Resize follows

    def __call__(self, results: Results) -> Results:
        probe: VideoProbe = results.pop("video_probe", None) or cached_probe(results["filename"])
        wanted = np.asarray(results["frame_inds"], dtype=np.int64)
        with VideoReader(probe.path, probe=probe, threads=1, upright=True) as reader:
            width, height = reader.size
            size = self.resize.output_size(width, height) if self.resize is not None else None
            imgs = reader.read_indices(wanted, size=size)
        results["imgs"] = imgs
        results["original_shape"] = (height, width)
        results["img_shape"] = imgs.shape[1:3]
        if size is not None:
            results["scale_factor"] = np.array([size[0] / width, size[1] / height], np.float32)
        return results
