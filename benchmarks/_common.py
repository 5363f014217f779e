"""Helpers for the benchmark scripts: real videos, timing, printing ratios."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.realdata (the registry-package fetcher)

from tests.realdata import Unavailable, fetch, ffmpeg_binary  # noqa: E402

__all__ = ["Unavailable", "best_of", "fetch", "ffmpeg_binary", "long_video"]


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
