"""Real footage: probe facts from the registry table, and frames checked against ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from ethoclip.media import VideoReader, probe_video

from .realdata import Unavailable, fetch, ffmpeg_binary

pytestmark = pytest.mark.realdata


def real(name: str) -> Path:
    try:
        return fetch(name)
    except Unavailable as exc:
        pytest.skip(str(exc))


def ffmpeg_frames(path: Path, indices: list[int], width: int, height: int) -> np.ndarray:
    """The oracle: frames by display index, decoded by the ffmpeg tool, not by our code."""
    exe = ffmpeg_binary()
    if exe is None:
        pytest.skip("imageio-ffmpeg is not installed")
    select = "+".join(f"eq(n\\,{i})" for i in indices)
    out = subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-vf",
            f"select='{select}'",
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(len(indices), height, width, 3)


@pytest.mark.parametrize(
    ("name", "frames", "fps", "streams"),
    [("mouse", 902, 30.0, ["video", "audio"]), ("finch", 497, 25.0, ["video"])],
)
def test_probe_matches_the_published_facts(
    name: str, frames: int, fps: float, streams: list[str]
) -> None:
    probe = probe_video(real(name))
    video = probe.stream(0)
    assert [s.type for s in probe.streams] == streams
    assert (video.width, video.height, video.frames) == (1280, 720, frames)
    assert video.avg_fps == pytest.approx(fps)
    assert not video.vfr


@pytest.mark.parametrize("name", ["mouse", "finch"])
def test_frames_match_ffmpeg(name: str) -> None:
    path = real(name)
    wanted = [0, 1, 137, 300, 496]
    expected = ffmpeg_frames(path, wanted, 1280, 720).astype(np.int16)
    with VideoReader(path) as reader:
        got = reader.read_indices(wanted[::-1])[::-1].astype(np.int16)  # out of order on purpose
    for k, index in enumerate(wanted):
        error = np.abs(got[k] - expected[k]).mean()
        # Same H.264 bitstream decoded twice: only YUV→RGB rounding may differ.
        assert error < 1.5, (index, error)
        if k + 1 < len(wanted):
            # ...and a neighbouring frame is clearly further away, so the check can fail.
            assert np.abs(got[k + 1] - expected[k]).mean() > error
