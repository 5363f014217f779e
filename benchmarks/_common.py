"""Helpers for the benchmark scripts: real videos, timing, printing ratios."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.realdata (the registry-package fetcher)

from tests.realdata import Unavailable, fetch, fetch_package, ffmpeg_binary  # noqa: E402

__all__ = [
    "Timing",
    "Unavailable",
    "best_of",
    "fetch",
    "fetch_package",
    "ffmpeg_binary",
    "long_video",
    "synthetic_video",
    "timed",
]


def long_video(path: str | None) -> Path:
    """The 10-minute 720p video: ``--video PATH`` or Big Buck Bunny from the moviepy sdist."""
    if path:
        return Path(path)
    try:
        return fetch("bbb_long")
    except Unavailable as exc:
        sys.exit(f"error: {exc}; pass --video PATH to a long 720p video instead")


def synthetic_video(path: Path, seconds: float, fps: int = 24) -> Path:
    """A 1280×720 H.264 video of a textured scene panning, for machines without the real one
    (every frame differs, so it costs the decoder about what camera footage does)."""
    import av
    import numpy as np

    rng = np.random.default_rng(0)
    # Smooth blobs plus fine grain: compressible like footage, not like noise or flat colour.
    coarse = rng.integers(0, 256, (48, 80, 3), dtype=np.uint8).repeat(32, 0).repeat(32, 1)
    scene = (coarse // 2 + rng.integers(0, 64, coarse.shape, dtype=np.uint8)).astype(np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": str(fps * 10)}
        stream.thread_type = "AUTO"
        for i in range(round(seconds * fps)):
            x, y = (3 * i) % (scene.shape[1] - 1280), (i // 2) % (scene.shape[0] - 720)
            frame = av.VideoFrame.from_ndarray(scene[y : y + 720, x : x + 1280], format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Fastest of ``repeat`` runs in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _cpu_seconds() -> float:
    """CPU time of this process and of every child it has waited for (pools, ffmpeg runs)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float

    @property
    def cores(self) -> float:
        """How many cores the run kept busy on average."""
        return self.cpu / self.wall if self.wall else 0.0

    def __str__(self) -> str:
        return f"{self.wall:.1f} s ({self.cpu:.1f} CPU s, {self.cores:.2f} cores)"


def timed(fn: Callable[[], object]) -> Timing:
    """Wall and CPU seconds of one call (children included once they have ended)."""
    cpu, wall = _cpu_seconds(), time.perf_counter()
    fn()
    return Timing(time.perf_counter() - wall, _cpu_seconds() - cpu)
