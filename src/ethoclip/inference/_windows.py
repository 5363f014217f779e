"""Score a video window by window: one decoding pass, windows batched through the model,
and never more frames in memory than the windows being filled need (an hour of video never
sits in RAM). The model scores a batch in a second thread while the next batch is decoded
(torch and FFmpeg both release the GIL), at most two batches behind."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..media import VideoReader, probe_video, window_frame_indices
from ._model import ClipModel

# The default stride, as a fraction of the window: 0.5 s for 4 s windows. Bout edges are
# interpolated between window centres, so their error shrinks with the stride; on the
# behaviour zoo a half-window stride (2 s) found fewer bouts (docs/benchmarks.md, "Bouts").
STRIDE_FRACTION = 1 / 8

# A window is dropped from the frame buffer once scored; a frame once no open window needs it.


@dataclass
class Windows:
    """Window start times (s, on the video's own clock) and each window's frame indices."""

    starts: np.ndarray
    length_sec: float
    indices: np.ndarray  # (windows, frames per window)
    padded: bool  # the video is shorter than one window: its last frame repeats


@dataclass
class Scored:
    video: Path
    windows: Windows
    scores: torch.Tensor  # (windows, K) probabilities
    duration_sec: float
    first_sec: float
    fps: Fraction  # the rate windows were sampled at
    # A dense model's per-step probabilities (windows, T, K) and each step's time (windows, T),
    # seconds on the video's clock; None: clip scores only.
    steps: torch.Tensor | None = None
    step_times: np.ndarray | None = None

    @property
    def ends(self) -> np.ndarray:
        return self.windows.starts + self.windows.length_sec

    def step_timeline(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The per-step scores of every window on one timeline: each frame time any window
        scored, and the mean of the windows' scores at it (times, (times, K)); None without
        per-step scores."""
        if self.steps is None or self.step_times is None:
            return None
        times = np.round(self.step_times.reshape(-1), 6)
        values = self.steps.reshape(-1, self.steps.shape[-1]).numpy().astype(np.float64)
        grid, where = np.unique(times, return_inverse=True)
        total = np.zeros((len(grid), values.shape[1]))
        np.add.at(total, where, values)
        return grid, total / np.bincount(where, minlength=len(grid))[:, None]


def plan_windows(
    pts: np.ndarray,
    end_sec: float,
    *,
    window_sec: float,
    stride_sec: float,
    fps: Fraction,
    frames: int,
) -> Windows:
    """Windows every ``stride_sec`` from the first frame, plus one ending at the video's end
    when the last would leave more than half a stride uncovered; frames by the clip rule."""
    first = float(pts[0])
    last_start = end_sec - window_sec
    padded = last_start < first - 1e-9
    if padded:
        starts = np.array([first])
    else:
        count = math.floor((last_start - first) / stride_sec + 1e-9) + 1
        starts = first + np.arange(count) * stride_sec
        if last_start - starts[-1] > stride_sec / 2:
            starts = np.append(starts, last_start)
    indices = np.stack([window_frame_indices(pts, s, frames, fps) for s in starts])
    return Windows(starts, window_sec, np.clip(indices, 0, len(pts) - 1), padded)


def score_video(
    model: ClipModel,
    path: Path,
    *,
    window_sec: float | None = None,
    stride_sec: float | None = None,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> Scored:
    probe = probe_video(path)
    with VideoReader(path, probe=probe, upright=True) as reader:
        info = reader.info
        fps = model.fps or info.fps_exact
        frames = model.frames_per_window
        length = window_sec or model.window_sec or (frames / float(fps) if frames else 4.0)
        if window_sec or not frames:
            frames = max(1, round(length * float(fps)))
        stride = stride_sec or length * STRIDE_FRACTION
        if stride > length + 1e-9:
            raise ConfigError(
                f"--stride {stride:g} s is longer than the window ({length:g} s): parts of "
                f"{path.name} would never be scored; use a stride of at most {length:g} s"
            )
        end = info.end_time or float(info.pts[-1])
        windows = plan_windows(
            info.pts, end, window_sec=length, stride_sec=stride, fps=fps, frames=frames
        )
        size = model.clip_size
        if size is not None:  # scale as prepare did: short side of the clips, aspect kept
            w, h = reader.size
            short = min(size)
            size = (round(w * short / min(w, h) / 2) * 2, round(h * short / min(w, h) / 2) * 2)
        if model.read_size is not None:  # then as the training loader decodes the clips
            size = model.read_size(*(size or reader.size))
        positions = (
            model.step_positions(frames)
            if model.score_steps is not None and model.step_positions is not None
            else None
        )
        needed = np.unique(windows.indices)
        last_needed = windows.indices.max(axis=1)
        buffer: dict[int, np.ndarray] = {}
        pending = 0  # next window to fill
        inputs: list[torch.Tensor] = []
        scores: list[torch.Tensor] = []
        steps: list[torch.Tensor] = []
        running: deque[Future[Any]] = deque()
        total = len(windows.starts)
        score = model.score_steps if positions is not None else model.score

        def collect(keep: int) -> None:
            while len(running) > keep:
                result = running.popleft().result()
                if positions is not None:
                    result, step = result
                    steps.append(step)
                scores.append(result)
                if progress:
                    progress(sum(len(s) for s in scores), total)

        with ThreadPoolExecutor(max_workers=1) as scorer:

            def flush() -> None:
                if inputs:
                    running.append(scorer.submit(score, torch.stack(inputs)))  # type: ignore[arg-type]
                    inputs.clear()
                    collect(keep=2)  # bounded: the decoder runs at most two batches ahead

            for index, frame in reader.iter_frames(needed, size=size):
                buffer[index] = frame
                while pending < total and last_needed[pending] <= index:
                    window = np.stack([buffer[int(i)] for i in windows.indices[pending]])
                    inputs.append(model.prepare(window))
                    pending += 1
                    if len(inputs) == batch_size:
                        flush()
                    keep_from = (
                        int(windows.indices[pending].min()) if pending < total else index + 1
                    )
                    for old in [k for k in buffer if k < keep_from]:
                        del buffer[old]
            flush()
            collect(keep=0)
    return Scored(
        video=path,
        windows=windows,
        scores=torch.cat(scores) if scores else torch.zeros(0, len(model.classes)),
        duration_sec=end - float(info.pts[0]),
        first_sec=float(info.pts[0]),
        fps=fps,
        steps=torch.cat(steps) if steps else None,
        step_times=(
            np.asarray(info.pts, dtype=np.float64)[windows.indices[:, positions]]
            if steps and positions is not None
            else None
        ),
    )
