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
