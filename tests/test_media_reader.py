"""The reader returns exactly the asked frames: the oracle is the frame code in the pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ethoclip.demo._framecode import read_frame_code
from ethoclip.errors import MediaError
from ethoclip.media import VideoReader, probe_video, read_frames

CASES = ["cfr", "vfr", "edit_list", "late_start", "ts", "audio_first", "two_stream"]


def codes(frames: np.ndarray) -> list[int]:
    return [read_frame_code(f) for f in frames]


@pytest.mark.parametrize("case", CASES)
def test_every_frame_in_order(videos: dict[str, Path], case: str) -> None:
    with VideoReader(videos[case]) as reader:
        n = reader.num_frames
        frames = reader.read_indices(range(n))
    offset = 17 if case == "edit_list" else 0  # the cut file's first shown frame is source 17
    assert codes(frames) == list(range(offset, offset + n))


@pytest.mark.parametrize("case", CASES)
def test_random_access_with_repeats(videos: dict[str, Path], case: str) -> None:
    rng = np.random.default_rng(0)
    with VideoReader(videos[case]) as reader:
        n = reader.num_frames
        wanted = [n - 1, 0, *rng.integers(0, n, 12).tolist(), 3, 3]
        frames = reader.read_indices(wanted)
    offset = 17 if case == "edit_list" else 0
    assert codes(frames) == [w + offset for w in wanted]


def test_times_select_the_frame_on_screen(videos: dict[str, Path]) -> None:
    probe = probe_video(videos["vfr"])
    pts = probe.stream(0).pts
    # Halfway between frames 10 and 11 shows frame 10; exactly at a pts shows that frame.
    times = [(pts[10] + pts[11]) / 2, pts[11], pts[0], pts[-1]]
    frames = read_frames(videos["vfr"], times_sec=times)
    assert codes(frames) == [10, 11, 0, 59]


def test_second_stream_of_two(videos: dict[str, Path]) -> None:
    with VideoReader(videos["two_stream"], stream_index=1) as reader:
        assert reader.num_frames == 70
        frames = reader.read_at_times([0.5, 1.0, 3.95])
        assert frames.shape[1:] == (144, 192, 3)
    assert codes(frames) == [0, 10, 69]


def test_resize(videos: dict[str, Path]) -> None:
    frames = read_frames(videos["cfr"], indices=[4, 2], size=(64, 48))
    assert frames.shape == (2, 48, 64, 3)
    assert codes(frames) == [4, 2]


def test_out_of_range_requests_are_clear(videos: dict[str, Path]) -> None:
    with VideoReader(videos["two_stream"], stream_index=1) as reader:
        with pytest.raises(MediaError, match=r"has no frame at 0\.200 s.*0\.500–4\.000 s"):
            reader.read_at_times([0.2])
        with pytest.raises(MediaError, match=r"has frames 0–69, frame 70 was asked for"):
            reader.read_indices([70])
    with pytest.raises(MediaError, match=r"stream 3 is not a video stream.*video streams: 0, 1"):
        VideoReader(videos["two_stream"], stream_index=3)


def test_seeks_only_past_gaps_worth_skipping(
    videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every other frame decodes straight through (a seek past one unwanted frame costs more
    than decoding it); a gap longer than SEEK_MIN_SKIP frames with a keyframe in it is sought."""
    from ethoclip.media import _reader

    seeks: list[int] = []
    original = _reader.VideoReader._seek

    def counted(self: _reader.VideoReader, target: int, **kwargs: object) -> None:
        seeks.append(target)
        original(self, target, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_reader.VideoReader, "_seek", counted)
    with VideoReader(videos["cfr"]) as reader:
        n = reader.num_frames  # 60 frames, a keyframe every 12
        every_other = reader.read_indices(range(0, n, 2))
        assert len(seeks) == 1  # the first read
        gap = _reader.SEEK_MIN_SKIP + 13
        reader.read_indices([0, gap])  # from frame 0 to a frame past a keyframe, far away
    assert codes(every_other) == list(range(0, n, 2))
    assert len(seeks) == 3  # back to 0 (behind), then past the gap
