from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ethoclip.demo._video import AudioSpec, StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.errors import MediaError
from ethoclip.media import probe_video


def test_cfr_counts_and_rates(videos: dict[str, Path]) -> None:
    probe = probe_video(videos["cfr"])
    (s,) = probe.video_streams
    assert (s.frames, s.header_frames, s.width, s.height) == (75, 75, 128, 96)
    assert s.avg_fps == pytest.approx(25)
    assert s.first_pts == 0 and s.end_time == pytest.approx(3.0)
    assert not s.vfr
    assert probe.annotated_stream == probe.export_stream == 0
    assert probe.warnings == []
    assert np.allclose(np.diff(s.pts), 0.04)


def test_vfr_is_flagged_and_timestamps_are_real(videos: dict[str, Path]) -> None:
    s = probe_video(videos["vfr"]).stream(0)
    assert s.vfr
    assert s.frames == 60
    spacing = set(np.round(np.diff(s.pts), 3))
    assert spacing <= {0.04, 0.1, 0.02} and len(spacing) == 3
    assert any("variable frame rate" in w for w in probe_video(videos["vfr"]).warnings)


def test_edit_list_excludes_preroll(videos: dict[str, Path]) -> None:
    probe = probe_video(videos["edit_list"])
    s = probe.stream(0)
    # 60 frames, cut after 17 of them: the header still counts the 17 pre-roll samples.
    assert s.frames == 43
    assert s.header_frames == 60
    assert s.first_pts == pytest.approx(0.0)
    assert any("header says 60 frames but 43" in w for w in probe.warnings)


def test_positive_start_times(videos: dict[str, Path]) -> None:
    late = probe_video(videos["late_start"]).stream(0)
    assert late.first_pts == pytest.approx(2.0) and late.frames == 40
    ts = probe_video(videos["ts"])
    assert ts.stream(0).first_pts == pytest.approx(10.0, abs=0.1)  # no rebasing to 0
    assert ts.stream(ts.annotated_stream or 0).frames == 40


def test_audio_first_file(videos: dict[str, Path]) -> None:
    probe = probe_video(videos["audio_first"])
    assert probe.streams[0].type == "audio"
    assert probe.annotated_stream == 1 == probe.export_stream
    assert probe.stream(1).frames == 50


def test_two_streams_browser_vs_ffmpeg(videos: dict[str, Path]) -> None:
    probe = probe_video(videos["two_stream"])
    assert probe.annotated_stream == 0
    assert probe.export_stream == 1  # larger and also enabled: ffmpeg's map_auto_video
    a, b = probe.stream(0), probe.stream(1)
    assert (a.frames, b.frames) == (80, 70)
    assert b.first_pts == pytest.approx(0.5)
    text = "\n".join(probe.warnings)
    assert "browser (VIA) shows stream 0, ffmpeg exports stream 1" in text
    assert "start 0.500 s apart" in text
    assert "differ in duration by 0.500 s" in text


def test_disabled_first_track_is_skipped_by_the_browser(tmp_path: Path) -> None:
    path = write_video(
        tmp_path / "disabled.mp4",
        VideoSpec(
            [
                StreamSpec(64, 48, cfr_times(10, 10), default=False),
                StreamSpec(64, 48, cfr_times(10, 10), default=True),
            ]
        ),
    )
    assert probe_video(path).annotated_stream == 1


def test_audio_longer_than_video_warns(tmp_path: Path) -> None:
    path = write_video(
        tmp_path / "long_audio.mp4",
        VideoSpec([StreamSpec(64, 48, cfr_times(20, 10))], audio=AudioSpec(4.0)),
    )
    assert any("past the last video frame" in w for w in probe_video(path).warnings)


def test_probe_json_fields(videos: dict[str, Path]) -> None:
    data = json.loads(json.dumps(probe_video(videos["two_stream"]).to_json()))
    stream = data["streams"][1]
    for key in (
        "index",
        "type",
        "codec",
        "width",
        "height",
        "frames",
        "header_frames",
        "start_time",
        "duration",
        "avg_fps",
        "vfr",
        "default",
        "attached_pic",
    ):
        assert key in stream
    assert data["annotated_stream"] == 0 and data["export_stream"] == 1
    assert stream["frames"] == 70 and stream["duration"] == pytest.approx(3.5)


def test_truncated_file_is_a_clear_error(videos: dict[str, Path], tmp_path: Path) -> None:
    data = videos["cfr"].read_bytes()
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError, match=r"truncated\.mp4.*(truncated|cannot be read|damaged)"):
        probe_video(bad)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.mp4", b"this is not a video at all\n" * 20, "cannot be read as a video"),
        ("empty.mp4", b"", r"empty \(0 bytes\)"),
    ],
)
def test_non_video_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message) as info:
        probe_video(path)
    assert name in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="file not found"):
        probe_video(tmp_path / "nope.mp4")
    with pytest.raises(MediaError, match="not a regular file"):
        probe_video(tmp_path)


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=16000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 16000
        frame.pts = 0
        c.mux(s.encode(frame))
        c.mux(s.encode(None))
    with pytest.raises(MediaError, match=r"sound\.m4a: has no video stream \(found: audio\)"):
        probe_video(path)


def _short_last_sample(src: Path, dst: Path) -> Path:
    """Remux with the last sample's duration cut to one tick: frames stay exactly 1/30 s apart,
    but the header's average rate (samples ÷ summed durations) reads 30.37."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        copy = out.add_stream_from_template(stream)
        packets = [p for p in inp.demux(stream) if p.size]
        last = max(p.pts for p in packets)
        for packet in packets:
            packet.stream = copy
            if packet.pts == last:
                packet.duration = 1
            out.mux(packet)
    return dst


def test_frame_rate_comes_from_the_timestamps_not_the_header(tmp_path: Path) -> None:
    src = write_video(
        tmp_path / "a.mp4",
        VideoSpec([StreamSpec(64, 48, cfr_times(83, 30), time_base=Fraction(1, 90000))]),
    )
    s = probe_video(_short_last_sample(src, tmp_path / "b.mp4")).stream(0)
    assert s.avg_fps == pytest.approx(30.366, abs=1e-3)  # the header is off ...
    assert s.fps_exact == Fraction(30)  # ... the measured rate is exact
    # NTSC in Matroska's millisecond clock: steps of 33 and 34 ticks, the rate still exact.
    ntsc = write_video(
        tmp_path / "ntsc.mkv",
        VideoSpec([StreamSpec(64, 48, cfr_times(40, 30000 / 1001), time_base=Fraction(1, 1000))]),
    )
    stream = probe_video(ntsc).stream(0)
    assert stream.fps_exact == Fraction(30000, 1001) and not stream.vfr


def test_files_no_browser_plays_are_flagged(tmp_path: Path, videos: dict[str, Path]) -> None:
    avi = write_video(
        tmp_path / "old.avi",
        VideoSpec(
            [StreamSpec(64, 48, cfr_times(20, 10), codec="mpeg4", time_base=Fraction(1, 10))]
        ),
    )
    probe = probe_video(avi)
    assert probe.stream(0).codec == "mpeg4" and not probe.browser_playable
    assert any(
        w.startswith("a browser cannot play this file (mpeg4 in avi), so VIA annotated a converted")
        for w in probe.warnings
    )
    assert not probe_video(videos["ts"]).browser_playable  # H.264, but in MPEG-TS
    assert probe_video(videos["cfr"]).browser_playable
