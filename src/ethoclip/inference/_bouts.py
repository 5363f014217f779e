"""From window scores to behaviour bouts: smoothing, hysteresis, a minimum length.

A label switches on where its (smoothed) score reaches its threshold and off only when it
falls ``hysteresis`` below it; bouts shorter than ``min_bout_sec`` are dropped. Single-label
models: a label is on where it is the top score and reaches the threshold.

Bout edges are placed between window centres, sharper than the stride: a training window is
labelled when the behaviour covers at least ``min_overlap`` (½) of it, so a model's score
passes ½ when the behaviour's edge passes the window's centre. The edge is where the score
line between the last window off and the first window on crosses ½ (or, when both scores lie
on one side of ½, the threshold that switched the label). Before the first centre and after
the last, the first and last windows speak for the video's start and end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..dataset import PlanOptions


@dataclass(frozen=True)
class Bout:
    label: str
    start: float
    end: float
    mean_score: float
    max_score: float
    learned: bool | None = None  # what validation said of the class; None: not known

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


# The score at which a training window's label switched: prepare's default min_overlap.
EDGE_LEVEL = PlanOptions().min_overlap


def _crossing(c0: float, v0: float, c1: float, v1: float, threshold: float) -> float:
    """Where the line from (c0, v0) to (c1, v1) reaches ½ (else ``threshold``), in [c0, c1]."""
    if v1 == v0:
        return (c0 + c1) / 2
    lo, hi = min(v0, v1), max(v0, v1)
    level = EDGE_LEVEL if lo <= EDGE_LEVEL <= hi else threshold
    return float(min(max(c0 + (level - v0) / (v1 - v0) * (c1 - c0), c0), c1))


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
    learned: Sequence[bool | None] | None = None,
) -> list[Bout]:
    raw = scores.numpy().astype(np.float64)
    if len(raw) == 0:
        return []
    values = smooth(raw, options.smooth)
    centres = starts + length / 2
    last = len(values) - 1
    top = values.argmax(axis=1)
    bouts = []
    for k, name in enumerate(classes):
        on_at, off_at = thresholds[k], thresholds[k] - options.hysteresis
        state = False
        active = []
        for i, value in enumerate(values[:, k]):
            allowed = multi_label or top[i] == k
            state = bool(allowed and (value >= on_at or (state and value >= off_at)))
            active.append(state)
        column = values[:, k]
        i = 0
        while i < len(active):
            if not active[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(active) and active[j + 1]:
                j += 1
            start = (
                first
                if i == 0
                else _crossing(centres[i - 1], column[i - 1], centres[i], column[i], on_at)
            )
            stop = (
                end
                if j == last
                else _crossing(centres[j], column[j], centres[j + 1], column[j + 1], on_at)
            )
            if stop - start >= options.min_bout_sec:
                bouts.append(
                    Bout(
                        name,
                        round(start, 5),
                        round(stop, 5),
                        float(raw[i : j + 1, k].mean()),
                        float(raw[i : j + 1, k].max()),
                        learned[k] if learned is not None else None,
                    )
                )
            i = j + 1
    return sorted(bouts, key=lambda b: (b.start, b.label))


def guarded_thresholds(
    scores: np.ndarray, thresholds: Sequence[float], learned: Sequence[bool | None]
) -> list[float]:
    """Thresholds for one video: a class validation did not show to be learned may not be on
    for more than half the video (its threshold is raised to the median of its scores there)."""
    out = []
    for k, threshold in enumerate(thresholds):
        if learned[k] is False and len(scores):
            threshold = max(threshold, float(np.nextafter(np.median(scores[:, k]), np.inf)))
        out.append(float(threshold))
    return out


@dataclass(frozen=True)
class BoutMatch:
    """A true bout and the predicted bout of the same label that overlaps it most."""

    truth: Bout
    predicted: Bout | None
    iou: float

    @property
    def start_error_sec(self) -> float | None:
        return None if self.predicted is None else abs(self.predicted.start - self.truth.start)

    @property
    def end_error_sec(self) -> float | None:
        return None if self.predicted is None else abs(self.predicted.end - self.truth.end)


def match_bouts(truth: Sequence[Bout], predicted: Sequence[Bout]) -> list[BoutMatch]:
    """Each true bout with its best-overlapping predicted bout (temporal IoU), per label."""
    out = []
    for t in truth:
        best, best_iou = None, 0.0
        for p in predicted:
            if p.label != t.label:
                continue
            inter = min(t.end, p.end) - max(t.start, p.start)
            if inter <= 0:
                continue
            iou = inter / (max(t.end, p.end) - min(t.start, p.start))
            if iou > best_iou:
                best, best_iou = p, iou
        out.append(BoutMatch(t, best, best_iou))
    return out
