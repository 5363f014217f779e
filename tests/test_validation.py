"""Validation reports every planted problem at once, each naming file, place, value and fix."""

from __future__ import annotations

import json
from pathlib import Path

from ethoclip.annotations import format_report, validate_projects
from ethoclip.dataset import find_sessions, load_inputs
from ethoclip.demo._video import StreamSpec, VideoSpec, cfr_times, write_video

ATTR = {
    "1": {
        "aname": "behaviour",
        "anchor_id": "FILE1_Z2_XY0",
        "type": 4,
        "options": {"0": "walk", "1": "sit"},
    }
}


def _project(files: list[str], segments: list[tuple[str, int, list[float], str]]) -> dict:
    return {
        "project": {"vid_list": [str(i + 1) for i in range(len(files))]},
        "config": {},
        "attribute": ATTR,
        "file": {
            str(i + 1): {"fid": str(i + 1), "fname": f, "type": 4, "loc": 1, "src": ""}
            for i, f in enumerate(files)
        },
        "metadata": {
            mid: {"vid": str(v), "flg": 0, "z": z, "xy": [], "av": {"1": value}}
            for mid, v, z, value in segments
        },
        "view": {str(i + 1): {"fid_list": [str(i + 1)]} for i in range(len(files))},
    }


def test_every_planted_problem_at_once(tmp_path: Path) -> None:
    session = tmp_path / "2_2_kt"
    video = session / "video"
    for name in ("ok.mp4", "a b.mp4", "a_b.mp4", "other.mp4"):
        write_video(video / name, VideoSpec([StreamSpec(64, 48, cfr_times(50, 10))]))  # 5 s
    good = (video / "ok.mp4").read_bytes()
    (video / "broken.mp4").write_bytes(good[: len(good) // 4])
    via = session / "via"
    via.mkdir(parents=True)
    (via / "main.json").write_text(
        json.dumps(
            _project(
                ["ok.mp4", "missing.mp4", "broken.mp4", "other.mp4", "ok.mp4"],
                [
                    ("1_good", 1, [0, 2.5], "0"),
                    ("1_late", 1, [7.25, 9], "1"),  # starts after the 5 s video
                    ("1_rev", 1, [3, 2], "0"),
                    ("1_neg", 1, [-0.5, 1], "0"),
                    ("2_x", 2, [0, 1.5], "0"),
                    ("3_x", 3, [0, 1.5], "0"),
                    ("4_x", 4, [0, 1.5], "0"),
                ],
            )
        )
    )
    (via / "second.json").write_text(
        json.dumps(_project(["other.mp4"], [("1_y", 1, [1, 3.5], "1")]))
    )
    (via / "empty.json").write_text(json.dumps(_project(["ok.mp4"], [])))
    (via / "bad.json").write_text("{oops")

    inputs = load_inputs(tmp_path)
    report = format_report(inputs.issues)
    expected = [
        ("main.json", "metadata 1_late", "segment starts after the video ends (5.000 s)"),
        ("main.json", "metadata 1_rev", "segment start is not before its end"),
        ("main.json", "metadata 1_neg", "segment starts at a negative time"),
        ("main.json", "file 'missing.mp4'", "video not found"),
        ("main.json", "file 5", "file name also used by file 1"),
        ("second.json", "file 'other.mp4'", "main.json annotates this video differently"),
        ("empty.json", "project", "the project holds no temporal segments"),
        ("bad.json", "project", "invalid JSON at line 1, column 2"),
        ("broken.mp4", "video", "cannot be read as a video"),
        ("a_b.mp4", "video", "clip names for this video would collide with a b.mp4"),
    ]
    for file, where, message in expected:
        matches = [
            i
            for i in inputs.errors
            if i.file.name == file and i.where == where and message in i.format()
        ]
        assert matches, f"missing {file} / {where} / {message}\n{report}"
        # Every problem says what to do, as a fix field or inside an error raised by a parser.
        assert matches[0].fix or "; " in matches[0].message, matches[0]
    assert len(inputs.errors) == len(expected), report
    # Only the readable videos are probed; the broken one is reported instead.
    assert sorted(inputs.sessions[0].probes) == ["ok.mp4", "other.mp4"]


def test_unknown_label_against_a_fixed_label_map(tmp_path: Path) -> None:
    session = tmp_path / "s"
    write_video(session / "video" / "v.mp4", VideoSpec([StreamSpec(64, 48, cfr_times(30, 10))]))
    (session / "via").mkdir()
    (session / "via" / "p.json").write_text(
        json.dumps(_project(["v.mp4"], [("1_a", 1, [0, 1.5], "0"), ("1_b", 1, [1, 2.5], "1")]))
    )
    inputs = load_inputs(tmp_path)
    session_ = inputs.sessions[0]
    issues = validate_projects(
        session_.projects,
        {"v.mp4": None},
        video_dir=session_.video_dir,
        known_labels=["walk"],
        class_name_of=inputs.class_name_of,
    )
    unknown = [i for i in issues if "not in the label map" in i.message]
    assert [(i.where, i.value) for i in unknown] == [("metadata 1_b", "sit")]


def test_real_exports_give_a_clean_video_not_found_report(via3_dir: Path) -> None:
    inputs = load_inputs(via3_dir)
    not_found = {
        i.value.rsplit("/", 1)[-1] for i in inputs.errors if i.message == "video not found"
    }
    assert not_found == {
        "test_video.mp4",
        "01NVb-003-061-2 echo.mp4",
        "01NVb-003-072-1 echo.mp4",
        "01NVb-003-072-2 echo.mp4",
        "01NVb-003-072-2 echo cont.mp4",
        "01NVb-003-072-3 echo.mp4",
    }
    # Nothing but missing videos and the projects that disagree about one video name.
    others = {i.message for i in inputs.errors if i.message != "video not found"}
    assert all("annotates this video differently" in m for m in others), others
    assert sum(len(p.segments) for p in inputs.sessions[0].projects) == 40


def test_session_discovery_layouts(tmp_path: Path) -> None:
    for name in ("Feb/2_2_kt", "Mar/2_2_kt", "Mar/3_1_yard"):
        (tmp_path / name / "via").mkdir(parents=True)
        (tmp_path / name / "video").mkdir()
    sessions = find_sessions(tmp_path)
    # Leaf names that collide are qualified by their path below ROOT.
    assert [s.name for s in sessions] == ["Feb_2_2_kt", "Mar_2_2_kt", "3_1_yard"]
    assert [s.name for s in find_sessions(tmp_path / "Mar" / "3_1_yard")] == ["3_1_yard"]


def test_unannotated_videos_are_reported(tmp_path: Path) -> None:
    session = tmp_path / "s"
    for name in ("a.mp4", "extra.mp4"):
        write_video(session / "video" / name, VideoSpec([StreamSpec(64, 48, cfr_times(30, 10))]))
    (session / "via").mkdir()
    (session / "via" / "p.json").write_text(
        json.dumps(_project(["a.mp4"], [("1_a", 1, [0, 1.5], "0")]))
    )
    inputs = load_inputs(tmp_path)
    assert inputs.errors == []
    (warning,) = inputs.warnings
    assert warning.file.name == "extra.mp4" and warning.video == "extra.mp4"
    assert "no VIA project annotates this video; it is not used" in warning.format()
