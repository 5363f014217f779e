"""Shared fixtures: tiny synthetic videos whose frames carry their own index."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ethoclip.demo._video import AudioSpec, StreamSpec, VideoSpec, cfr_times, write_video
from tests.mmaction2_oracle import mmaction2_oracle  # noqa: F401  (fixture)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
VIA3_DIR = SHARED / "testdata" / "via3"


@pytest.fixture
def via3_dir() -> Path:
    """The real VIA exports in ../shared/testdata/via3, beside the project's own checkout.

    A clone elsewhere has no ../shared: those tests skip. The quirks they cover are also
    covered by synthetic projects (tests/test_annotations_quirks.py).
    """
    if not VIA3_DIR.is_dir():
        pytest.skip(
            f"{VIA3_DIR} is not there (a clone outside the workspace); the real VIA exports "
            "are optional: test_annotations_quirks.py covers the same quirks"
        )
    return VIA3_DIR


def _vfr_times(num_frames: int) -> list[float]:
    """Irregular spacing: 1/25 s mostly, with stretches at 1/10 s and a few 1/50 s."""
    rng = np.random.default_rng(3)
    steps = rng.choice([1 / 25, 1 / 10, 1 / 50], size=num_frames - 1, p=[0.6, 0.25, 0.15])
    return [0.0, *np.cumsum(steps).round(4).tolist()]


def _remux_cut(src: Path, dst: Path, cut_frame: int) -> None:
    """A stream-copied cut that starts mid-GOP: the MP4 gets an edit list (as ffmpeg -c copy)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ins = inp.streams.video[0]
        outs = out.add_stream_from_template(ins)
        shift = None
        for packet in inp.demux(ins):
            if packet.pts is None:
                continue
            if shift is None:
                shift = cut_frame * (packet.duration or 3600)
            packet.pts -= shift
            packet.dts -= shift
            packet.stream = outs
            out.mux(packet)


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("videos")
    files = {
        "cfr": write_video(d / "cfr.mp4", VideoSpec([StreamSpec(128, 96, cfr_times(75, 25))])),
        "vfr": write_video(
            d / "vfr.mp4",
            VideoSpec([StreamSpec(128, 96, _vfr_times(60), time_base=Fraction(1, 1000))]),
        ),
        "late_start": write_video(
            d / "late_start.mp4", VideoSpec([StreamSpec(128, 96, cfr_times(40, 20, 2.0))])
        ),
        "ts": write_video(
            d / "offset.ts",
            VideoSpec([StreamSpec(128, 96, cfr_times(40, 25, 10.0))], container_format="mpegts"),
        ),
        "audio_first": write_video(
            d / "audio_first.mp4",
            VideoSpec(
                [StreamSpec(128, 96, cfr_times(50, 25))],
                audio=AudioSpec(3.0),
                audio_first=True,
            ),
        ),
        "two_stream": write_video(
            d / "two_stream.mp4",
            VideoSpec(
                [
                    StreamSpec(128, 96, cfr_times(80, 20)),
                    StreamSpec(192, 144, cfr_times(70, 20, 0.5)),
                ]
            ),
        ),
    }
    long_gop = write_video(d / "long_gop.mp4", VideoSpec([StreamSpec(128, 96, cfr_times(60, 25))]))
    files["edit_list"] = d / "edit_list.mp4"
    _remux_cut(long_gop, files["edit_list"], cut_frame=17)
    return files


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded demo project, generated once per test session (read-only for tests)."""
    from ethoclip.demo import generate_demo_project

    root = tmp_path_factory.mktemp("demo") / "dog_video"
    generate_demo_project(root, seed=0)
    return root


@pytest.fixture
def missing_videos_root(tmp_path: Path) -> Path:
    """A session whose VIA project annotates two videos that are not on disk (and one that is)."""
    import json

    session = tmp_path / "missing" / "s"
    write_video(session / "video" / "here.mp4", VideoSpec([StreamSpec(64, 48, cfr_times(40, 10))]))
    files = {
        str(k): {"fid": str(k), "fname": name, "type": 4, "loc": 1, "src": ""}
        for k, name in enumerate(["here.mp4", "gone one.mp4", "gone_two.mp4"], start=1)
    }
    metadata = {
        f"{k}_seg": {"vid": str(k), "flg": 0, "z": [0.5, 2.5], "xy": [], "av": {"1": "0"}}
        for k in range(1, 4)
    }
    project = {
        "project": {"pid": "__VIA_PROJECT_ID__", "vid_list": ["1", "2", "3"]},
        "config": {},
        "attribute": {
            "1": {
                "aname": "behaviour",
                "anchor_id": "FILE1_Z2_XY0",
                "type": 4,
                "desc": "",
                "options": {"0": "walk"},
                "default_option_id": "",
            }
        },
        "file": files,
        "metadata": metadata,
        "view": {str(k): {"fid_list": [str(k)]} for k in range(1, 4)},
    }
    (session / "via").mkdir(parents=True)
    (session / "via" / "p.json").write_text(json.dumps(project))
    return tmp_path / "missing"


@pytest.fixture(scope="session")
def demo_dataset(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``prepare`` of the demo project with default options, made once (read-only for tests)."""
    from ethoclip.dataset import PrepareOptions, prepare_dataset

    out = tmp_path_factory.mktemp("demo_dataset") / "ds"
    prepare_dataset(demo_root, out, PrepareOptions(workers=2))
    return out


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``ethoclip demo`` run once (a few CPU minutes): its folder and what it printed."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("demo_run") / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "ethoclip", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=4 * 3600,  # a hang guard only, far beyond any run's time on a busy machine
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stdout
