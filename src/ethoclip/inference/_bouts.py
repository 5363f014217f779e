"""From window scores to behaviour bouts: smoothing, hysteresis, a minimum length.

Each window speaks for the stretch of time around its centre (between the midpoints to its
neighbours), so the timeline is tiled from the video's start to its end. A label switches on
where its (smoothed) score reaches its threshold and off only when it falls ``hysteresis``
below it; bouts shorter than ``min_bout_sec`` are dropped. Single-label models: a label is on
where it is the top score and reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Bout:
    label: str
    start: float
    end: float
    mean_score: float
    max_score: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class BoutOptions:
    smooth: int = 3  # windows in the moving average (1: none)
    hysteresis: float = 0.05  # off below threshold − hysteresis
    min_bout_sec: float = 1.0

    def __post_init__(self) -> None:
        from ..errors import ConfigError

        if self.smooth < 1:
            raise ConfigError(f"--smooth must be at least 1 window (got {self.smooth})")
        if not 0 <= self.hysteresis < 1:
            raise ConfigError(f"--hysteresis must be in [0, 1) (got {self.hysteresis})")
        if self.min_bout_sec < 0:
            raise ConfigError(f"--min-bout must not be negative (got {self.min_bout_sec})")


def cells(
    starts: np.ndarray, length: float, first: float, end: float
) -> tuple[np.ndarray, np.ndarray]:
    """The stretch of time each window speaks for: [left, right), tiling first … end."""
    centres = starts + length / 2
    bounds = (centres[1:] + centres[:-1]) / 2
    left = np.concatenate([[first], bounds])
    right = np.concatenate([bounds, [end]])
    return left, right


def smooth(scores: np.ndarray, windows: int) -> np.ndarray:
    if windows <= 1 or len(scores) < 2:
        return scores
    pad = windows // 2
    padded = np.pad(scores, ((pad, pad), (0, 0)), mode="edge")
    kernel = np.ones(windows) / windows
    return np.stack(
        [
            np.convolve(padded[:, k], kernel, mode="valid")[: len(scores)]
            for k in range(scores.shape[1])
        ],
        axis=1,
    )


def find_bouts(
    scores: torch.Tensor,
    starts: np.ndarray,
    length: float,
    *,
    first: float,
    end: float,
    classes: Sequence[str],
    thresholds: Sequence[float],
    multi_label: bool,
    options: BoutOptions,
) -> list[Bout]:
    raw = scores.numpy().astype(np.float64)
    if len(raw) == 0:
        return []
    values = smooth(raw, options.smooth)
    left, right = cells(starts, length, first, end)
    top = values.argmax(axis=1)
    bouts = []
    for k, name in enumerate(classes):
        on_at, off_at = thresholds[k], thresholds[k] - options.hysteresis
        state, run = False, []
        active = []
        for i, value in enumerate(values[:, k]):
            allowed = multi_label or top[i] == k
            state = allowed and (value >= on_at or (state and value >= off_at))
            active.append(state)
        i = 0
        while i < len(active):
            if not active[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(active) and active[j + 1]:
                j += 1
            run = list(range(i, j + 1))
            start, stop = float(left[i]), float(right[j])
            if stop - start >= options.min_bout_sec:
                bouts.append(
                    Bout(
                        name,
                        round(start, 5),
                        round(stop, 5),
                        float(raw[run, k].mean()),
                        float(raw[run, k].max()),
                    )
                )
            i = j + 1
    return sorted(bouts, key=lambda b: (b.start, b.label))
