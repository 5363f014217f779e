"""From window scores to behaviour bouts: smoothing, thresholds, edges, a minimum length.

A label is *detected* where its (smoothed) score reaches the class's threshold (chosen on
validation), and stays on until it falls ``hysteresis`` below it. Its *extent* is where the
score is at least ½, the level at which training labelled a window: ``prepare`` gives a window
a class when the behaviour covers at least ``min_overlap`` (½) of it, so a model that learned
the behaviour scores ½ where the behaviour's edge passes the window's centre. A detected bout
therefore runs from the ½ crossing before it to the ½ crossing after it (reaching out past a
threshold above ½, pulling in from one below ½); a detection whose scores never reach ½ keeps
its threshold crossings. Edges are interpolated between the two window centres the level
falls between, so they are finer than the stride. Before the first centre and after the last,
the first and last windows speak for the video's start and end. A class validation did not
show to be learned is held to its (guarded) threshold for its extent too, so it never fires on
most of a video. Single-label models: a label is on only where it is the top score.

What the clip labels allow: a behaviour of length L ≥ ½ window labels exactly the windows
whose centres lie in it, so its edges can be found to the stride's interpolation; a shorter one
labels the windows that hold all of it, centres in [end − ½ window, start + ½ window] (length
window − L), so even a perfect clip classifier reports it that wide. Finer edges for short
behaviours need per-step supervision, not a finer stride: a per-step model (``StepHead``)
gives a score per sampled frame, and ``predict`` runs this same rule on those scores stitched
over the windows (each step a "window" of length 0 centred on its frame), with the per-step
thresholds validation chose; its edges are then the frames'.
"""

from __future__ import annotations

import math
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
    smooth_sec: float = 0.0  # moving average over window centres this close (0: none)
    hysteresis: float = 0.05  # off below threshold − hysteresis
    min_bout_sec: float = 1.0

    def __post_init__(self) -> None:
        from ..errors import ConfigError

        if not (self.smooth_sec >= 0 and math.isfinite(self.smooth_sec)):
            raise ConfigError(
                f"--smooth must be a number of seconds, 0 or more (got {self.smooth_sec}); "
                "0 turns smoothing off"
            )
        if not 0 <= self.hysteresis < 1:
            raise ConfigError(f"--hysteresis must be in [0, 1) (got {self.hysteresis})")
        if not (self.min_bout_sec >= 0 and math.isfinite(self.min_bout_sec)):
            raise ConfigError(f"--min-bout must not be negative (got {self.min_bout_sec})")


def smooth(scores: np.ndarray, windows: int) -> np.ndarray:
    """Centred moving average over ``windows`` rows (edges repeat the first and last row)."""
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


def smoothing_windows(smooth_sec: float, starts: np.ndarray) -> int:
    """How many windows a ``smooth_sec`` moving average spans at these window starts: the
    window itself and those whose centres lie within ``smooth_sec / 2`` of it on each side
    (an odd number, so the average stays centred). 6 s at a 2 s stride: 3 windows."""
    if smooth_sec <= 0 or len(starts) < 2:
        return 1
    stride = float(np.median(np.diff(starts)))
    return 2 * math.floor(smooth_sec / 2 / stride + 1e-9) + 1


def smoothed(scores: np.ndarray, starts: np.ndarray, smooth_sec: float) -> np.ndarray:
    return smooth(scores, smoothing_windows(smooth_sec, starts))


# The score at which a training window's label switched: prepare's default min_overlap.
EDGE_LEVEL = PlanOptions().min_overlap


def _crossing(c0: float, v0: float, c1: float, v1: float, level: float) -> float:
    """Where the line from (c0, v0) to (c1, v1) reaches ``level``, clamped to [c0, c1]."""
    if v1 == v0:
        return (c0 + c1) / 2
    return float(min(max(c0 + (level - v0) / (v1 - v0) * (c1 - c0), c0), c1))


def _runs(mask: Sequence[bool]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    out = []
    i = 0
    while i < len(mask):
        if mask[i]:
            j = i
            while j + 1 < len(mask) and mask[j + 1]:
                j += 1
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


def _on(column: np.ndarray, on_at: float, off_at: float, allowed: np.ndarray) -> list[bool]:
    """On from ``on_at`` until the score falls below ``off_at`` (hysteresis)."""
    state = False
    active = []
    for value, ok in zip(column, allowed, strict=True):
        state = bool(ok and (value >= on_at or (state and value >= off_at)))
        active.append(state)
    return active


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
    values = smoothed(raw, np.asarray(starts, dtype=np.float64), options.smooth_sec)
    centres = np.asarray(starts, dtype=np.float64) + length / 2
    last = len(values) - 1
    top = values.argmax(axis=1)
    bouts = []
    for k, name in enumerate(classes):
        column = values[:, k]
        allowed = np.ones(len(column), bool) if multi_label else top == k
        threshold = thresholds[k]
        not_learned = learned is not None and learned[k] is False
        # A class not shown to be learned keeps its guarded threshold for its extent too.
        level = max(EDGE_LEVEL, threshold) if not_learned else EDGE_LEVEL
        detected = _on(column, threshold, threshold - options.hysteresis, allowed)
        extent = _on(column, level, level - options.hysteresis, allowed)
        spans = [(i, j, level) for i, j in _runs(extent) if any(detected[i : j + 1])]
        spans += [(i, j, threshold) for i, j in _runs(detected) if not any(extent[i : j + 1])]
        for i, j, at in spans:
            start = (
                first
                if i == 0
                else _crossing(centres[i - 1], column[i - 1], centres[i], column[i], at)
            )
            # Hysteresis may hold the label on past the level; the edge is where the score
            # last fell through the level, after the last window at or above it.
            j_edge = max(m for m in range(i, j + 1) if column[m] >= at)
            stop = (
                end
                if j_edge == last
                else _crossing(
                    centres[j_edge], column[j_edge], centres[j_edge + 1], column[j_edge + 1], at
                )
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
