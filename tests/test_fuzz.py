"""Fuzzing what users hand in: mutated VIA projects and damaged video files.

Every case either works or ends in the one-line error (an ``EthoclipError``, exit 2 on the
command line): never a traceback, never a partial write. A few hundred cases run by default;
``ETHOCLIP_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` runs more.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ethoclip.annotations import load_via_project
from ethoclip.cli import main
from ethoclip.dataset import PlanOptions, PrepareOptions, load_inputs, prepare_dataset
from ethoclip.demo._video import AudioSpec, StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.errors import EthoclipError
from ethoclip.media import VideoReader, probe_video

from .conftest import VIA3_DIR

EXAMPLES = int(os.environ.get("ETHOCLIP_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(
    max_examples=EXAMPLES or 120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=EXAMPLES is None,  # the default run is the same every time; more cases explore
)


def base_project() -> dict[str, Any]:
    """A project as VIA writes it: two behaviours, one overlapping (multi-label)."""
    return {
        "project": {"pid": "__VIA_PROJECT_ID__", "pname": "p", "vid_list": ["1"]},
        "config": {"file": {"loc_prefix": {"1": ""}}, "ui": {}},
        "attribute": {
            "1": {
                "aname": "behaviour",
                "anchor_id": "FILE1_Z2_XY0",
                "type": 4,
                "desc": "",
                "options": {"0": "walk", "1": "sit"},
                "default_option_id": "",
            },
            "2": {"aname": "tail", "anchor_id": "FILE1_Z2_XY0", "type": 2, "options": {"0": "wag"}},
        },
        "file": {"1": {"fid": "1", "fname": "v.mp4", "type": 4, "loc": 1, "src": ""}},
        "metadata": {
            "1_a": {"vid": "1", "flg": 0, "z": [0, 2.5], "xy": [], "av": {"1": "0"}},
            "1_b": {"vid": "1", "flg": 0, "z": [1.5, 3.98], "xy": [], "av": {"1": "1", "2": "0"}},
        },
        "view": {"1": {"fid_list": ["1"]}},
    }


def real_projects() -> list[dict[str, Any]]:
    if not VIA3_DIR.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(VIA3_DIR.glob("*.json"))]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document (dict keys and list indices)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


@st.composite
def mutated_projects(draw: st.DrawFn) -> str:
    """JSON text of a VIA project with a few random changes: wrong types, missing keys, huge or
    negative numbers, unicode, duplicate ids, truncation."""
    sources = [base_project(), *real_projects()]
    data = copy.deepcopy(sources[draw(st.integers(0, len(sources) - 1))])
    for _ in range(draw(st.integers(1, 4))):
        places = paths(data)[1:]
        if not places:
            break
        place = places[draw(st.integers(0, len(places) - 1))]
        parent = data
        for key in place[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "number", "unicode", "duplicate"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[place[-1]]
        elif action == "number":
            parent[place[-1]] = draw(
                st.sampled_from([-1, 0, -1e308, 1e308, 2**63, -(2**63), 1e-9, 3.99999])
            )
        elif action == "unicode":
            parent[place[-1]] = draw(st.text(min_size=1, max_size=8))
        elif action == "duplicate" and isinstance(parent, dict):
            parent[f"{place[-1]}"] = copy.deepcopy(parent[place[-1]])
        else:
            parent[place[-1]] = draw(JSON_VALUES)
    text = json.dumps(data)
    if draw(st.integers(0, 9)) == 0:  # a truncated save
        text = text[: draw(st.integers(0, len(text)))]
    if draw(st.integers(0, 9)) == 0:  # a duplicated id, as only raw JSON text can hold it
        text = text.replace('"1_a": {', '"1_a": {"vid": "1"}, "1_a": {', 1)
    return text


@pytest.fixture(scope="module")
def session_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(
        tmp_path_factory.mktemp("fuzzvideo") / "v.mp4",
        VideoSpec([StreamSpec(64, 48, cfr_times(48, 12))], audio=AudioSpec(4.0)),
    )


def fresh_session(tmp_path: Path, video: Path) -> Path:
    root = tmp_path / "root"
    shutil.rmtree(root, ignore_errors=True)
    (root / "s" / "video").mkdir(parents=True)
    (root / "s" / "via").mkdir()
    shutil.copy(video, root / "s" / "video" / "v.mp4")
    return root


def expect_clean(
    capsys: pytest.CaptureFixture[str], args: list[str], codes: tuple[int, ...] = (0, 1, 2)
) -> int:
    """Run the CLI in-process: a traceback would surface as an exception here."""
    code = main(args)
    err = capsys.readouterr().err
    assert code in codes and "Traceback" not in err
    if code == 2:
        assert err.strip().splitlines()[-1].startswith("error: ")
    return code


@FUZZ
@given(text=mutated_projects())
def test_mutated_projects_work_or_fail_with_one_line(
    text: str, tmp_path: Path, session_video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = fresh_session(tmp_path, session_video)
    via = root / "s" / "via" / "p.json"
    via.write_text(text)
    with contextlib.suppress(EthoclipError):
        load_via_project(via)
    expect_clean(capsys, ["validate", str(root)])
    out = tmp_path / "ds"
    shutil.rmtree(out, ignore_errors=True)
    options = PrepareOptions(
        plan=PlanOptions(clip_sec=1.0), val_fraction=0, workers=1, dry_run=True
    )
    with contextlib.suppress(EthoclipError):
        prepare_dataset(root, out, options)
    assert not out.exists()  # a dry run, or a refused one, writes nothing


@settings(FUZZ, max_examples=max(10, (EXAMPLES or 120) // 10))
@given(text=mutated_projects())
def test_mutated_projects_through_a_real_prepare(
    text: str, tmp_path: Path, session_video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = fresh_session(tmp_path, session_video)
    (root / "s" / "via" / "p.json").write_text(text)
    out = tmp_path / "ds"
    shutil.rmtree(out, ignore_errors=True)
    code = expect_clean(
        capsys,
        ["prepare", str(root), "--out", str(out), "--clip-len", "1", "--val-fraction", "0"],
    )
    if code == 2:
        assert not out.exists()  # refused before anything was written
    else:
        listed = (out / "train.txt").read_text().split()
        assert all((out / p).is_file() for p in listed if p.endswith(".mp4"))


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """The file cut short, or a stretch of it zeroed, removed or replaced by noise."""
    kind = draw(st.sampled_from(["truncate", "flip", "zero", "splice"]))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "truncate":
        return data[:at]
    span = draw(st.integers(1, 512))
    if kind == "zero":
        return data[:at] + bytes(span) + data[at + span :]
    if kind == "splice":
        return data[:at] + data[at + span :]
    noise = draw(st.binary(min_size=span, max_size=span))
    return data[:at] + noise + data[at + span :]


@pytest.fixture(scope="module")
def fuzz_videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("fuzzsrc")
    one = write_video(folder / "one.mp4", VideoSpec([StreamSpec(64, 48, cfr_times(36, 12))]))
    two = write_video(
        folder / "two.mp4",
        VideoSpec(
            [StreamSpec(64, 48, cfr_times(36, 12)), StreamSpec(96, 64, cfr_times(30, 12, 0.5))],
            audio=AudioSpec(3.0),
        ),
    )
    return [one, two]


@FUZZ
@given(data=st.data())
def test_damaged_videos_work_or_fail_with_one_line(
    data: st.DataObject,
    tmp_path: Path,
    fuzz_videos: list[Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = fuzz_videos[data.draw(st.integers(0, len(fuzz_videos) - 1))].read_bytes()
    video = tmp_path / "v.mp4"
    video.write_bytes(data.draw(damaged(original)))
    try:
        probe = probe_video(video)
        for stream in probe.video_streams:
            with VideoReader(video, stream.index, probe=probe) as reader:
                reader.read_indices(range(stream.frames))
    except EthoclipError:
        pass
    expect_clean(capsys, ["probe", str(video)], codes=(0, 2))
    root = fresh_session(tmp_path, video)
    (root / "s" / "via" / "p.json").write_text(json.dumps(base_project()))
    out = tmp_path / "ds"
    shutil.rmtree(out, ignore_errors=True)
    code = expect_clean(
        capsys,
        ["prepare", str(root), "--out", str(out), "--clip-len", "1", "--val-fraction", "0"],
    )
    if code == 2 and out.exists():  # refused after planning: only a failed video's report
        assert not list(out.rglob("*.mp4")) and not (out / "train.txt").exists()
    assert load_inputs(root) is not None
