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

from ..media import VideoProbe, VideoReader, display_size, probe_video
from ..registry import config_error
from ._cache import DEFAULT_MAX_GIB, FrameCache, default_cache_dir
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
    """Decode ``frame_inds`` (any order, repeats allowed) into ``imgs`` (M, H, W, 3) uint8.

    ``cache`` (ethoclip's, not MMAction2's): True (the default folder, see
    ``default_cache_dir``) or a folder: decode every frame of a clip once, at the size of the
    ``Resize`` that follows, and read later epochs from there; ``cache_gib`` bounds it.
    """

    def __init__(
        self,
        mode: str = "accurate",
        multi_thread: bool = False,
        io_backend: str = "disk",
        cache: bool | str | None = None,
        cache_gib: float = DEFAULT_MAX_GIB,
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
        if not isinstance(cache, (bool, str, type(None))):
            raise config_error("cache", f"must be True, False or a folder (got {cache!r})")
        if (
            isinstance(cache_gib, bool)
            or not isinstance(cache_gib, (int, float))
            or not (cache_gib > 0)
        ):
            raise config_error("cache_gib", f"must be a positive number (got {cache_gib!r})")
        self.resize: Resize | None = None  # set by the pipeline when a Resize follows
        self.cache: FrameCache | None = None
        if cache:
            folder = default_cache_dir() if cache is True else Path(str(cache)).expanduser()
            self.cache = FrameCache(folder, int(cache_gib * 2**30))

    def _read(
        self, probe: VideoProbe, wanted: np.ndarray, threads: int
    ) -> tuple[np.ndarray, int, int]:
        cache = self.cache
        if cache is None:
            return self._decode(probe, wanted, threads)
        # The key from the probe alone: a cache hit never opens the container.
        index = probe.annotated_stream
        info = probe.stream(index if index is not None else probe.video_streams[0].index)
        width, height = display_size(info.width or 0, info.height or 0, info.turns)
        size = self.resize.output_size(width, height) if self.resize is not None else None
        key = cache.key(probe.path, info.index, size)
        frames = cache.get(key)
        if frames is None:
            w, h = size or (width, height)
            if not cache.fits(info.frames * w * h * 3):  # a long video: no caching
                return self._decode(probe, wanted, threads)
            # Every frame once: a sequential decode costs about what the sampled ones do
            # (H.264 decodes the frames between them anyway), and no epoch decodes again.
            frames, _, _ = self._decode(probe, np.arange(info.frames), threads)
            cache.put(key, frames)
        return np.ascontiguousarray(frames[wanted]), width, height

    def _decode(
        self, probe: VideoProbe, wanted: np.ndarray, threads: int
    ) -> tuple[np.ndarray, int, int]:
        with VideoReader(probe.path, probe=probe, threads=threads, upright=True) as reader:
            width, height = reader.size
            size = self.resize.output_size(width, height) if self.resize is not None else None
            return reader.read_indices(wanted, size=size), width, height

    def __call__(self, results: Results) -> Results:
        probe: VideoProbe = results.pop("video_probe", None) or cached_probe(results["filename"])
        wanted = np.asarray(results["frame_inds"], dtype=np.int64)
        threads = 0 if self.multi_thread else int(results.pop("decode_threads", 1))
        results.pop("decode_threads", None)
        imgs, width, height = self._read(probe, wanted, threads)
        size = (imgs.shape[2], imgs.shape[1]) if self.resize is not None else None
        results["imgs"] = imgs
        results["original_shape"] = (height, width)
        results["img_shape"] = imgs.shape[1:3]
        if size is not None:
            results["scale_factor"] = np.array([size[0] / width, size[1] / height], np.float32)
        return results
