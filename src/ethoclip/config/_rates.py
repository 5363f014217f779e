"""Clip sampling by time: the same span in seconds at every frame rate a dataset holds.

A 3D model samples ``clip_len`` frames ``frame_interval`` apart. At one frame rate that is a
fixed span in seconds; at several it is not (24 frames every 4 cover 3.84 s at 25 fps and 3.2 s
at 30 fps). With mixed rates, ``config new`` writes ``SampleFrames(target_fps=R)`` with R the
slowest rate present: SampleFrames then spreads the frames over ``clip_len × frame_interval / R``
seconds at every rate (MMAction2's ``target_fps`` semantics), which the clips are long enough for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..dataset._records import ClipRecord


@dataclass(frozen=True)
class TimeSampling:
    clip_len: int
    frame_interval: int
    target_fps: float | None  # None: one frame rate, frames are frames
    per_rate: tuple[tuple[Fraction, int, float, float], ...]  # rate, clips, span s, clip s

    @property
    def span_sec(self) -> float:
        return min(span for _, _, span, _ in self.per_rate)

    def describe(self) -> str:
        """``25 fps (50 clips): 3.84 s of 4.00 s; 30 fps (115 clips): 3.84 s of 4.00 s``."""
        return "; ".join(
            f"{float(rate):g} fps ({count} clips): {span:.2f} s of {clip:.2f} s"
            for rate, count, span, clip in self.per_rate
        )


def time_sampling(records: Sequence[ClipRecord], clip_len: int) -> TimeSampling:
    """The frame interval (and target_fps with mixed rates) that samples ``clip_len`` frames
    over as much of the shortest clip as fits, the same span in seconds at every rate."""
    rates = sorted({r.rate for r in records})
    clip_sec = {rate: min(r.duration_sec for r in records if r.rate == rate) for rate in rates}
    counts = {rate: sum(1 for r in records if r.rate == rate) for rate in rates}
    if len(rates) == 1:
        rate = rates[0]
        frames = min(r.num_frames for r in records)
        interval = max(1, frames // clip_len)
        span = clip_len * interval / float(rate)
        return TimeSampling(clip_len, interval, None, ((rate, counts[rate], span, clip_sec[rate]),))
    slowest = rates[0]
    shortest = min(clip_sec.values())
    frames = math.floor(shortest * float(slowest) + 1e-6)  # the shortest clip, at the slowest rate
    interval = max(1, frames // clip_len)
    span = clip_len * interval / float(slowest)
    return TimeSampling(
        clip_len,
        interval,
        float(slowest),
        tuple((rate, counts[rate], span, clip_sec[rate]) for rate in rates),
    )
