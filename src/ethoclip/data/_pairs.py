"""``PairFrames`` (ethoclip's own): each sampled frame followed by the video's next frame.

A sampler spreads a clip's frames over its span (24 frames 0.16 s apart over 4 s), and that
spacing aliases fast periodic movement: a 7 Hz leg rub seen every 0.16 s (6.25 Hz) looks like a
0.75 Hz sweep, the same as an antenna's slow one. The difference of two frames one video frame
apart (1/fps: 0.033–0.04 s) measures how fast something moves now, without aliasing, for one
more frame read per sampled frame (decoded once all the same: the decode cache holds every
frame). ``HybridNet(pairs=True)`` takes the pairs apart again.

After this step the clip has ``2 × clip_len`` frames, interleaved (sample, its neighbour, …), so
every per-frame consumer (the decoder, the per-step targets, the step times at prediction)
reads one index per frame as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import config_error

Results = dict[str, Any]


class PairFrames:
    """After ``SampleFrames``: frame index i becomes (i, i + ``gap``), the second one held to
    the video's last frame. ``clip_len`` doubles, so ``FormatShape`` keeps each pair in its
    clip."""

    def __init__(self, gap: int = 1) -> None:
        if isinstance(gap, bool) or not isinstance(gap, int) or gap < 1:
            raise config_error("gap", f"must be a whole number ≥ 1 (got {gap!r})")
        self.gap = gap

    def __call__(self, results: Results) -> Results:
        if "frame_inds" not in results:
            raise config_error(
                None, "PairFrames pairs the frames a sampler chose: put it after SampleFrames"
            )
        inds = np.asarray(results["frame_inds"], dtype=np.int64).reshape(-1)
        last = int(results.get("start_index", 0)) + int(results["total_frames"]) - 1
        neighbours = np.minimum(inds + self.gap, max(last, 0))
        results["frame_inds"] = np.stack([inds, np.maximum(neighbours, inds)], axis=1).reshape(-1)
        results["clip_len"] = int(results["clip_len"]) * 2
        return results
