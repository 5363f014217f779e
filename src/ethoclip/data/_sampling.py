"""Frame samplers with MMAction2 1.2.0's names, arguments and exact index arithmetic:
``SampleFrames``, ``UniformSample`` and ``DenseSampleFrames``.

The arithmetic is MMAction2's to the last rounding: offsets stay floating point where
MMAction2's do (TSN's segment centres, PySlowFast's spread of test clips), wrap or repeat in
floating point, and are truncated to whole frames at the very end. Random draws come from
numpy's global generator in MMAction2's order, so a seeded sample (``ClipSamples`` seeds it
per sample) takes the frames MMAction2 would take with that seed. ``tests/test_data_sampling.py``
compares every index with MMAction2's own classes over thousands of settings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import config_error

Results = dict[str, Any]


def _whole(name: str, value: object, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise config_error(name, f"must be a whole number ≥ {low} (got {value!r})")
    return value


def _bound(inds: np.ndarray, total: int, option: str) -> np.ndarray:
    """Indices past the end: wrapped around (``loop``) or the clip's last valid one."""
    if option == "loop":
        return np.mod(inds, total)
    safe = inds < total
    last = np.max(safe * inds, axis=1)  # 0 for a clip with no valid index, as MMAction2
    return np.where(safe, inds, last[:, None])


def _finish(results: Results, inds: np.ndarray, clip_len: int, interval: Any, clips: int) -> None:
    start = int(results.get("start_index", 0))
    # MMAction2 truncates (astype) after adding start_index; every value is ≥ 0 here.
    results["frame_inds"] = (inds.reshape(-1) + start).astype(np.int64)
    results["clip_len"] = clip_len
    results["frame_interval"] = interval
    # MMAction2 stores the configured number, not the sampled one (twice_sample, dense test
    # positions): FormatShape folds the extra clips into the views all the same.
    results["num_clips"] = clips


class SampleFrames:
    """Choose frame indices: ``num_clips`` clips of ``clip_len`` frames, ``frame_interval``
    apart (TSN segment sampling is ``clip_len=1, num_clips=N``).

    Training: a random offset within each of ``num_clips`` equal parts. Test, ``clip_len=1``:
    the parts' centres (``twice_sample`` adds the parts' starts). Test, longer clips: one clip
    in the middle, or ``num_clips`` clips spread from the first frame to the last possible
    start (``twice_sample`` doubles the clips at the same spacing, wrapping past the end, as
    MMAction2 does). ``out_of_bound_opt`` is ``loop`` (wrap around) or ``repeat_last``.
    """

    def __init__(
        self,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        temporal_jitter: bool = False,
        twice_sample: bool = False,
        out_of_bound_opt: str = "loop",
        test_mode: bool = False,
        keep_tail_frames: bool = False,
        target_fps: float | None = None,
    ) -> None:
        self.clip_len = _whole("clip_len", clip_len)
        self.frame_interval = _whole("frame_interval", frame_interval)
        self.num_clips = _whole("num_clips", num_clips)
        if out_of_bound_opt not in ("loop", "repeat_last"):
            raise config_error(
                "out_of_bound_opt", f"must be 'loop' or 'repeat_last', not {out_of_bound_opt!r}"
            )
        if target_fps is not None and (isinstance(target_fps, bool) or not target_fps > 0):
            raise config_error(
                "target_fps", f"must be a positive rate or None (got {target_fps!r})"
            )
        if twice_sample and test_mode and clip_len > 1 and num_clips == 1:
            # MMAction2 spreads 2 clips over num_clips - 1 = 0 gaps: a division by zero.
            raise config_error(
                "twice_sample",
                "with clip_len > 1 needs num_clips ≥ 2 (MMAction2 divides the span by "
                "num_clips - 1 = 0 here); set twice_sample=False or num_clips ≥ 2",
            )
        self.temporal_jitter = bool(temporal_jitter)
        self.twice_sample = bool(twice_sample)
        self.out_of_bound_opt = out_of_bound_opt
        self.test_mode = bool(test_mode)
        self.keep_tail_frames = bool(keep_tail_frames)
        self.target_fps = target_fps

    def _train_offsets(self, num_frames: int, ori_clip_len: float) -> np.ndarray:
        clips = self.num_clips
        if self.keep_tail_frames:
            avg_interval = (num_frames - ori_clip_len + 1) / float(clips)
            if num_frames > ori_clip_len - 1:
                starts = np.arange(clips) * avg_interval
                return (starts + np.random.uniform(0, avg_interval, clips)).astype(np.int64)
            return np.zeros(clips, np.int64)
        step = (num_frames - ori_clip_len + 1) // clips
        # With target_fps the bounds are floats; numpy draws from them as from their integer
        # parts, as in MMAction2 (the typing stubs only know integer bounds).
        if step > 0:
            return np.arange(clips) * step + np.random.randint(step, size=clips)  # type: ignore[call-overload]
        if num_frames > max(clips, ori_clip_len):
            starts = np.random.randint(num_frames - ori_clip_len + 1, size=clips)  # type: ignore[call-overload]
            return np.sort(starts)
        if step == 0:
            ratio = (num_frames - ori_clip_len + 1.0) / clips
            return np.around(np.arange(clips) * ratio)
        return np.zeros(clips, np.int64)

    def _test_offsets(self, num_frames: int, ori_clip_len: float) -> np.ndarray:
        if self.clip_len == 1:  # 2D models: segment centres (and starts, twice)
            avg_interval = num_frames / float(self.num_clips)
            base = np.arange(self.num_clips) * avg_interval
            centres = base + avg_interval / 2.0
            return np.concatenate([centres, base]) if self.twice_sample else centres
        max_offset = max(num_frames - ori_clip_len, 0)
        clips = self.num_clips * (2 if self.twice_sample else 1)
        if clips == 1:
            return np.array([max_offset // 2])
        # PySlowFast's spread: the gaps are num_clips - 1 of the configured clips, also when
        # twice_sample doubles them (the second half then wraps past the end).
        gaps = float(self.num_clips - 1)
        if self.target_fps is not None:
            return np.arange(clips) * np.floor(max_offset / gaps)
        return np.round(np.arange(clips) * (max_offset / gaps))

    def _ori_clip_len(self, results: Results) -> float:
        if self.target_fps is not None:
            fps = results.get("avg_fps")
            ratio = fps / self.target_fps if fps else 1.0
            return float(np.maximum(1, self.clip_len * self.frame_interval * ratio))
        if self.test_mode:
            return (self.clip_len - 1) * self.frame_interval + 1
        return self.clip_len * self.frame_interval

    def __call__(self, results: Results) -> Results:
        total = int(results["total_frames"])
        ori_clip_len = self._ori_clip_len(results)
        if self.test_mode:
            offsets = self._test_offsets(total, ori_clip_len)
        else:
            offsets = self._train_offsets(total, ori_clip_len)
        if self.target_fps:
            steps = np.linspace(0, ori_clip_len - 1, self.clip_len).astype(np.int64)
            inds = offsets[:, None] + steps[None, :]
            if self.temporal_jitter:
                # MMAction2 draws one offset per clip here and adds it along the frames axis.
                jitter = np.random.randint(self.frame_interval, size=len(inds))
                if len(inds) not in (1, self.clip_len):
                    raise config_error(
                        "temporal_jitter",
                        "with target_fps works for one clip only (MMAction2 adds one offset per "
                        f"clip along the {self.clip_len} frames of each, which fails for "
                        f"{len(inds)} clips)",
                    )
                inds = inds + jitter
        else:
            inds = offsets[:, None] + np.arange(self.clip_len)[None, :] * self.frame_interval
            if self.temporal_jitter:
                flat = inds.reshape(-1)
                flat = flat + np.random.randint(self.frame_interval, size=len(flat))
                inds = flat.reshape(inds.shape)
        inds = _bound(inds.reshape(-1, self.clip_len), total, self.out_of_bound_opt)
        _finish(results, inds, self.clip_len, self.frame_interval, self.num_clips)
        return results


class UniformSample:
    """One frame from each of ``clip_len`` equal segments of the video (PySlowFast's SSv2
    sampling): random within the segment in training; in test mode ``num_clips`` clips, the
    k-th at ``(k + 1) / (num_clips + 1)`` of a segment past each segment's start."""

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: bool = False) -> None:
        self.clip_len = _whole("clip_len", clip_len)
        self.num_clips = _whole("num_clips", num_clips)
        if num_clips > 1 and not test_mode:
            # MMAction2 draws one clip in training but reports num_clips: FormatShape then fails.
            raise config_error(
                "num_clips",
                f"is {num_clips}, but UniformSample draws one clip in training; num_clips > 1 "
                "is for test_mode=True",
            )
        self.test_mode = bool(test_mode)

    def _indices(self, num_frames: int) -> np.ndarray:
        seg_size = float(num_frames - 1) / self.clip_len
        inds: list[int] = []
        if not self.test_mode:
            for i in range(self.clip_len):
                start = int(np.round(seg_size * i))
                end = int(np.round(seg_size * (i + 1)))
                inds.append(int(np.random.randint(start, end + 1)))  # one draw each, in order
        else:
            duration = seg_size / (self.num_clips + 1)
            for k in range(self.num_clips):
                shift = int(duration * (k + 1))
                inds += [int(np.round(seg_size * i)) + shift for i in range(self.clip_len)]
        return np.array(inds, np.int64)

    def __call__(self, results: Results) -> Results:
        inds = self._indices(int(results["total_frames"]))
        _finish(results, inds, self.clip_len, None, self.num_clips)
        return results


class DenseSampleFrames(SampleFrames):
    """Clips ``sample_range // num_clips`` frames apart inside a window of ``sample_range``
    frames: a random window start in training, ``num_sample_positions`` evenly spread starts
    in test mode (num_clips × num_sample_positions clips, wrapped at the end)."""

    def __init__(
        self,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        sample_range: int = 64,
        num_sample_positions: int = 10,
        temporal_jitter: bool = False,
        out_of_bound_opt: str = "loop",
        test_mode: bool = False,
        twice_sample: bool = False,
        keep_tail_frames: bool = False,
        target_fps: float | None = None,
    ) -> None:
        # MMAction2 accepts these (inherited) and ignores them: refused rather than dropped.
        for name, value, default in (
            ("twice_sample", twice_sample, False),
            ("keep_tail_frames", keep_tail_frames, False),
            ("target_fps", target_fps, None),
        ):
            if value != default:
                raise config_error(
                    name, "has no effect in DenseSampleFrames (MMAction2 ignores it); remove it"
                )
        super().__init__(
            clip_len,
            frame_interval,
            num_clips,
            temporal_jitter=temporal_jitter,
            out_of_bound_opt=out_of_bound_opt,
            test_mode=test_mode,
        )
        self.sample_range = _whole("sample_range", sample_range)
        self.num_sample_positions = _whole("num_sample_positions", num_sample_positions)

    def _dense_offsets(self, num_frames: int) -> np.ndarray:
        positions = max(1, 1 + num_frames - self.sample_range)
        base = np.arange(self.num_clips) * (self.sample_range // self.num_clips)
        if not self.test_mode:
            start = 0 if positions == 1 else np.random.randint(0, positions - 1)
            return (base + start) % num_frames
        starts = np.linspace(0, positions - 1, num=self.num_sample_positions, dtype=int)
        return np.concatenate([(base + s) % num_frames for s in starts])

    def __call__(self, results: Results) -> Results:
        total = int(results["total_frames"])
        offsets = self._dense_offsets(total)
        inds = (offsets[:, None] + np.arange(self.clip_len)[None, :] * self.frame_interval).ravel()
        if self.temporal_jitter:
            inds = inds + np.random.randint(self.frame_interval, size=len(inds))
        inds = _bound(inds.reshape(-1, self.clip_len), total, self.out_of_bound_opt)
        _finish(results, inds, self.clip_len, self.frame_interval, self.num_clips)
        return results
