"""Seeking decoders decode what a decoder that started at frame 0 decodes (issue: garbled 4:4:4).

The oracle is a plain sequential decode from the first frame, as a browser plays the file.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ethoclip.dataset import load_inputs
from ethoclip.media import VideoReader, probe_video, seek_decoding_problem

from .realdata import Unavailable, fetch


def sequential_frames(path: Path) -> dict[int, np.ndarray]:
    with av.open(str(path)) as container:
        return {f.pts: f.to_ndarray(format="rgb24") for f in container.decode(video=0)}


def write_444(path: Path, *, fake_core: bytes | None = None) -> Path:
    """A 4:4:4 H.264 stream by today's x264; ``fake_core`` rewrites its version SEI."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=20)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv444p"
        stream.codec_context.gop_size = 20
        stream.options = {"crf": "18", "preset": "medium"}
        for i in range(60):
            picture = np.zeros((96, 128, 3), np.uint8)
            picture[:] = ((np.arange(128)[None, :, None] * 2 + i * 3) % 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 20)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    if fake_core is not None:
        data = path.read_bytes()
        at = data.index(b"x264 - core ") + len(b"x264 - core ")
        path.write_bytes(data[:at] + fake_core + data[at + len(fake_core) :])
    return path


def test_probe_reads_the_x264_build(tmp_path: Path) -> None:
    path = write_444(tmp_path / "today.mp4")
    stream = probe_video(path).stream(0)
    assert stream.x264_build is not None and stream.x264_build >= 150
    assert stream.pix_fmt == "yuv444p"
    assert seek_decoding_problem(probe_video(path), 0) is None


def test_guard_stops_a_video_that_decodes_differently_after_a_seek(tmp_path: Path) -> None:
    """A stream whose start tells the decoder to behave differently: the guard must notice."""
    session = tmp_path / "s"
    (session / "video").mkdir(parents=True)
    path = write_444(session / "video" / "odd.mp4", fake_core=b"142")
    problem = seek_decoding_problem(probe_video(path), 0)
    assert problem is not None
    assert problem.startswith("stream 0: frame 20 decodes differently after a seek than from")
    assert "re-encode the video" in problem
    # validate (and so prepare) stops on it, naming the video.
    (session / "via").mkdir()
    (session / "via" / "p.json").write_text(
        '{"project": {}, "config": {}, "attribute": {"1": {"aname": "b", "anchor_id": '
        '"FILE1_Z2_XY0", "type": 1, "options": {}}}, "file": {"1": {"fid": "1", "fname": '
        '"odd.mp4", "type": 4, "loc": 1, "src": ""}}, "metadata": {"1_a": {"vid": "1", '
        '"z": [0, 2], "xy": [], "av": {"1": "walk"}}}, "view": {"1": {"fid_list": ["1"]}}}'
    )
    inputs = load_inputs(session)
    (error,) = inputs.errors
    assert error.file == path and error.video == "odd.mp4"
    assert "decodes differently after a seek" in error.message
    assert inputs.invalid_videos == {"s/odd.mp4"}


@pytest.mark.realdata
def test_old_x264_444_decodes_after_a_seek_as_from_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    try:
        path = fetch("cockatoo444")
    except Unavailable as exc:
        pytest.skip(str(exc))
    probe = probe_video(path)
    stream = probe.stream(0)
    assert (stream.x264_build, stream.pix_fmt) == (142, "yuv444p")
    truth = sequential_frames(path)
    # Frames right after two mid-file keyframes, read as a clip cutter reads them (seeking).
    indices = [
        int(np.searchsorted(stream.pts_ticks, k)) + d
        for k in stream.keyframe_ticks[1:3]
        for d in (0, 5)
    ]
    with VideoReader(path, probe=probe) as reader:
        frames = reader.read_indices(indices)
    for index, frame in zip(indices, frames, strict=True):
        assert np.array_equal(frame, truth[int(stream.pts_ticks[index])]), index
    assert seek_decoding_problem(probe, 0) is None
    # Without the build hint the same reads are garbage, and the guard says so.
    stream.x264_build = None
    with VideoReader(path, probe=probe) as reader:
        garbled = reader.read_indices(indices[:1])[0]
    assert np.abs(garbled.astype(np.int16) - truth[int(stream.pts_ticks[indices[0]])]).mean() > 20
    problem = seek_decoding_problem(probe, 0)
    assert problem is not None and "decodes differently after a seek" in problem
