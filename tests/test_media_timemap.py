from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ethoclip.demo._video import StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.errors import MediaError
from ethoclip.media import choose_time_map, frame_index_at, probe_video


def test_identity_covers_only_where_the_late_stream_has_frames(
    videos: dict[str, Path],
) -> None:
    probe = probe_video(videos["two_stream"])
    time_map, notes = choose_time_map(probe.stream(0), probe.stream(1))
    assert time_map.method == "identity"
    assert time_map.to_source(1.25) == 1.25
    assert time_map.covered() == pytest.approx((0.5, 4.0))
    assert notes == []  # both end at 4.0 s: the two methods agree within a frame


def test_linear_and_index_maps(tmp_path: Path) -> None:
    # The same 40 frames stamped on two clocks: 20 fps and 16 fps.
    path = write_video(
        tmp_path / "clocks.mp4",
        VideoSpec([StreamSpec(64, 48, cfr_times(40, 20)), StreamSpec(96, 64, cfr_times(40, 16))]),
    )
    probe = probe_video(path)
    a, b = probe.stream(0), probe.stream(1)
    auto, notes = choose_time_map(a, b)
    assert auto.method == "index" and "same 40 frames" in notes[0]
    assert auto.to_source(1.0) == pytest.approx(20 / 16)  # frame 20 of A is frame 20 of B
    linear, _ = choose_time_map(a, b, "linear")
    assert linear.to_source(1.0) == pytest.approx(1.25)
    _identity, notes = choose_time_map(a, b, "identity")
    assert "disagree by" in notes[0] and "use the linear time map" in notes[0]
    with pytest.raises(MediaError, match="time map 'fuzzy' is unknown; use one of auto"):
        choose_time_map(a, b, "fuzzy")


def test_frame_index_at_tolerates_via_rounding() -> None:
    pts = np.arange(10) / 30
    # 0.033 is VIA's 3-decimal rounding of frame 1's time 0.0333…: it means frame 1.
    assert frame_index_at(pts, 0.033).tolist() == 1
    assert frame_index_at(pts, np.array([-0.1, 0.0, 0.05, 10.0])).tolist() == [-1, 0, 1, 9]
