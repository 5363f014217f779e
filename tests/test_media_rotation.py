"""Rotated phone-style videos: clips are turned upright, as the browser showed them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ethoclip.dataset import PlanOptions, PrepareOptions, prepare_dataset, read_manifest
from ethoclip.demo import read_frame_code
from ethoclip.media import VideoReader, probe_video, read_frames

from .realdata import ffmpeg_binary

ROTATIONS = {"90": 1, "-90": 3, "180": 2}  # display rotation → counter-clockwise turns


@pytest.fixture(scope="module")
def rotated(videos: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    exe = ffmpeg_binary()
    if exe is None:
        pytest.skip("imageio-ffmpeg is not installed")
    folder = tmp_path_factory.mktemp("rotated")
    out = {}
    for degrees in ROTATIONS:
        out[degrees] = folder / f"rot{degrees}.mp4"
        # A display matrix on a stream-copied file, as phones write it.
        subprocess.run(
            [
                exe,
                "-v",
                "error",
                "-display_rotation",
                degrees,
                "-i",
                str(videos["cfr"]),
                "-c",
                "copy",
                "-y",
                str(out[degrees]),
            ],
            check=True,
        )
    return out


def ffmpeg_upright(path: Path, index: int) -> np.ndarray:
    """The oracle: ffmpeg's own autorotation of frame ``index``."""
    exe = ffmpeg_binary()
    assert exe is not None
    data = subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"select='eq(n\\,{index})'",
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-vcodec",
            "ppm",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    _, size, _, pixels = data.split(b"\n", 3)
    width, height = map(int, size.split())
    return np.frombuffer(pixels, np.uint8).reshape(height, width, 3)


@pytest.mark.parametrize("degrees", list(ROTATIONS))
def test_probe_and_upright_reading(rotated: dict[str, Path], degrees: str) -> None:
    probe = probe_video(rotated[degrees])
    stream = probe.stream(0)
    assert stream.turns == ROTATIONS[degrees]
    assert any("prepare turns clips upright" in w for w in probe.warnings)
    frames = read_frames(rotated[degrees], indices=[7, 40], upright=True)
    for frame, index in zip(frames, [7, 40], strict=True):
        oracle = ffmpeg_upright(rotated[degrees], index)
        assert frame.shape == oracle.shape
        assert np.abs(frame.astype(np.int16) - oracle).mean() < 1.0
    # Without upright=True the reader returns the decoded (coded) orientation.
    with VideoReader(rotated[degrees]) as reader:
        assert reader.read_indices([0]).shape == (1, 96, 128, 3)


def test_resize_applies_to_the_upright_picture(rotated: dict[str, Path]) -> None:
    frames = read_frames(rotated["90"], indices=[3], size=(48, 64), upright=True)
    assert frames.shape == (1, 64, 48, 3)


def test_prepare_writes_upright_clips(rotated: dict[str, Path], tmp_path: Path) -> None:
    session = tmp_path / "root" / "phone"
    (session / "video").mkdir(parents=True)
    (session / "via").mkdir()
    files, views, metadata = {}, {}, {}
    for k, degrees in enumerate(ROTATIONS, start=1):
        name = rotated[degrees].name
        (session / "video" / name).write_bytes(rotated[degrees].read_bytes())
        files[str(k)] = {"fid": str(k), "fname": name, "type": 4, "loc": 1, "src": ""}
        views[str(k)] = {"fid_list": [str(k)]}
        metadata[f"{k}_a"] = {"vid": str(k), "flg": 0, "z": [0.4, 2.6], "xy": [], "av": {"1": "0"}}
    (session / "via" / "p.json").write_text(
        json.dumps(
            {
                "project": {"vid_list": list(views)},
                "config": {},
                "attribute": {
                    "1": {
                        "aname": "b",
                        "anchor_id": "FILE1_Z2_XY0",
                        "type": 4,
                        "options": {"0": "sit"},
                    }
                },
                "file": files,
                "metadata": metadata,
                "view": views,
            }
        )
    )
    out = tmp_path / "ds"
    prepare_dataset(
        tmp_path / "root",
        out,
        PrepareOptions(plan=PlanOptions(clip_sec=1.0), val_fraction=0, workers=1),
    )
    entries = read_manifest(out)
    assert {e.source_video.split("/")[-1] for e in entries} == {p.name for p in rotated.values()}
    for entry in entries:
        turns = entry.rotation // 90
        assert turns == ROTATIONS[entry.source_video.split("rot")[1][:-4]]
        frames = read_frames(out / entry.clip, indices=range(entry.num_frames))
        expected_shape = (342, 256) if turns % 2 else (256, 342)
        assert frames.shape[1:3] == expected_shape
        # Turned back to the coded orientation, every frame shows its source frame's code:
        # a wrong turn direction would leave the code band upside down or on the wrong side.
        codes = [read_frame_code(np.rot90(f, -turns)) for f in frames]
        first = entry.first_source_frame
        assert codes == list(range(first, first + entry.num_frames))
