"""How prepare cuts its work into tasks: each clip once, in time order, cores not oversubscribed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ethoclip.dataset import _write
from ethoclip.dataset._write import ClipJob, make_tasks
from ethoclip.media import probe_video


def _clips(video: str, n: int) -> list[ClipJob]:
    # Given out of order on purpose: a task's clips must come back sorted by first frame.
    starts = [(k * 7) % n for k in range(n)]
    return [
        ClipJob(f"{video}_{s}.mp4", np.arange(s * 4, s * 4 + 4), 64, 48, Fraction(25), "r")
        for s in starts
    ]


@pytest.mark.parametrize(
    ("cores", "workers", "num_videos", "num_tasks", "threads"),
    [
        (8, 8, 1, 16, 1),  # one video, many workers: chunks, each decoder single-threaded
        (8, 2, 1, 4, 4),  # two processes share eight cores: four decoder threads each
        (8, 1, 1, 2, 8),  # one process: its decoder gets every core
        (2, 2, 6, 6, 1),  # enough videos: one task (one pass) per video
    ],
)
def test_tasks_cover_every_clip_in_order_and_share_the_cores(
    videos: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    cores: int,
    workers: int,
    num_videos: int,
    num_tasks: int,
    threads: int,
) -> None:
    monkeypatch.setattr(_write, "default_workers", lambda: cores)
    path = videos["cfr"]
    probe = probe_video(path)
    inputs = [(f"v{i}", path, 0, probe, _clips(f"v{i}", 32)) for i in range(num_videos)]
    tasks = make_tasks(inputs, workers=workers, crf=20, preset="veryfast")

    assert len(tasks) == num_tasks
    assert {t.decode_threads for t in tasks} == {threads}
    for key, _, _, _, clips in inputs:
        own = [t for t in tasks if t.video_key == key]
        written = [c.path for t in own for c in t.clips]
        assert sorted(written) == sorted(c.path for c in clips)  # each clip exactly once
        firsts = [int(c.indices[0]) for t in own for c in t.clips]
        assert firsts == sorted(firsts)  # chunks are consecutive stretches of the video
