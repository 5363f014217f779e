"""Every real VIA 3 export parses to the segments and labels it holds (read by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethoclip.annotations import (
    ViaAttribute,
    ViaVideo,
    build_via_project,
    class_names,
    label_intervals,
    load_via_project,
    resolve_labels,
)
from ethoclip.errors import AnnotationError


def seg_table(path: Path) -> list[tuple[str, str, float, float, tuple[str, ...]]]:
    project = load_via_project(path)
    return [
        (s.mid, s.video, s.start, s.end, tuple(label for _, label in s.labels))
        for s in project.segments
    ]


def test_ibm_select_option_ids_pretty_json(via3_dir: Path) -> None:
    rows = seg_table(via3_dir / "ibm-annotations2clips_7acfe8b0.json")
    assert rows == [
        ("1_m0EEga9B", "test_video.mp4", 0.0, 29.75307, ("grey",)),
        ("1_HrXNrntW", "test_video.mp4", 29.773, 70.535, ("white",)),
        ("1_YFAmzd5R", "test_video.mp4", 70.555, 83.685, ("grey",)),
        ("1_N93NXSCN", "test_video.mp4", 83.705, 87.385, ("white",)),
        ("1_ztgmuLyt", "test_video.mp4", 87.385, 120.775, ("grey",)),
        ("1_MnsLdh7S", "test_video.mp4", 120.795, 130.48, ("white",)),
    ]
    project = load_via_project(via3_dir / "ibm-annotations2clips_7acfe8b0.json")
    assert [i for i in project.issues if i.severity == "error"] == []


def test_ibm_compact_json_seven_colours(via3_dir: Path) -> None:
    rows = seg_table(via3_dir / "ibm-annotations2clips_fef69bac.json")
    assert [r[4][0] for r in rows] == [
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "indigo",
        "violet",
    ]
    assert rows[0][2:4] == (0.0, 8.07093) and rows[-1][2:4] == (68.976, 82.86333)


def test_ibm_unused_option_gives_no_segment(via3_dir: Path) -> None:
    project = load_via_project(via3_dir / "ibm-annotations2clips_573ce385.json")
    labels = [label for s in project.segments for _, label in s.labels]
    assert len(project.segments) == 10
    assert labels.count("grey") == 3 and labels.count("white") == 3
    assert "not_used_test" not in labels
    assert project.attributes["1"].options["6"] == "not_used_test"


def test_vital_ultrasound_text_overlaps_and_spaces(via3_dir: Path) -> None:
    path = via3_dir / "vital-ultrasound_via_project_06Oct2021_19h11m26s.json"
    project = load_via_project(path)
    # The stray attribute with an empty name and anchor is not temporal.
    assert [a.name for a in project.temporal_attributes] == ["Annodations-Echochardiography"]
    assert project.videos == [
        "01NVb-003-072-1 echo.mp4",
        "01NVb-003-072-2 echo.mp4",
        "01NVb-003-072-2 echo cont.mp4",
        "01NVb-003-072-3 echo.mp4",
    ]
    assert len(project.segments) == 13
    by_video = {v: len(project.segments_of(v)) for v in project.videos}
    assert list(by_video.values()) == [3, 2, 5, 3]
    # Segments out of time order in the file stay as written; intervals sort them.
    v3 = project.segments_of("01NVb-003-072-2 echo cont.mp4")
    assert [s.mid for s in v3][3:] == ["3_zXFVBcrd", "3_fXoJBxDF"]
    names = class_names(project.segments)
    intervals = label_intervals(project.segments_of("01NVb-003-072-3 echo.mp4"), names)
    # Multi-label form (a): "2CV" [0, 1] overlaps "4CV" [0.591, 1.591].
    assert [(i.label, i.start, i.end) for i in intervals] == [
        ("2CV", 0.0, 1.0),
        ("4CV", 0.591, 1.591),
        ("4CV", 447.591, 450.841),
    ]
    one_second = [i for i in project.issues if "exactly 1.000 s" in i.message]
    assert sorted(i.where for i in one_second) == [
        "metadata 1_E9vYGAbX",
        "metadata 3_Mx2sJ4Pi",
        "metadata 3_zXFVBcrd",
        "metadata 4_AnSTV7fX",
        "metadata 4_ogKwXU5Z",
    ]


def test_vital_ultrasound_checkbox_with_free_text_rows(via3_dir: Path) -> None:
    rows = seg_table(via3_dir / "vital-ultrasound_01NVb-003-061-2-4CV_and_EF.json")
    assert [(r[2], r[3], r[4]) for r in rows] == [
        (771.09593, 777.07807, ("4CV",)),
        (799.37145, 804.26034, ("4CV",)),
        (811.84302, 886.34302, ("EF",)),
    ]


def test_vital_ultrasound_default_temporal_segments_attribute(via3_dir: Path) -> None:
    project = load_via_project(via3_dir / "vital-ultrasound_01NVb_003_072_T2_4CV.json")
    assert project.temporal_attributes[0].name == "TEMPORAL-SEGMENTS"
    assert [(s.start, s.end, s.labels) for s in project.segments] == [
        (347.96608, 352.98692, (("TEMPORAL-SEGMENTS", "4CV_NP"),))
    ]


def test_shared_boundaries_and_via_gaps_merge(via3_dir: Path) -> None:
    project = load_via_project(via3_dir / "ibm-annotations2clips_7acfe8b0.json")
    names = class_names(project.segments)
    grey = [i for i in label_intervals(project.segments, names) if i.label == "grey"]
    # 0.02 s gaps separate different colours here, so same-colour segments stay apart.
    assert [(i.start, i.end) for i in grey] == [
        (0.0, 29.75307),
        (70.555, 83.685),
        (87.385, 120.775),
    ]


def _write(tmp_path: Path, data: dict, name: str = "p.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _project(metadata: dict, attributes: dict | None = None, **extra: object) -> dict:
    data = {
        "project": {"vid_list": ["1"]},
        "config": {},
        "attribute": attributes
        or {
            "1": {
                "aname": "behaviour",
                "anchor_id": "FILE1_Z2_XY0",
                "type": 4,
                "options": {"0": "walk", "1": "sit"},
            }
        },
        "file": {"1": {"fid": 1, "fname": "a.mp4", "type": 4, "loc": 1, "src": ""}},
        "metadata": metadata,
        "view": {"1": {"fid_list": [1]}},
    }
    data.update(extra)
    return data


def test_numeric_ids_and_all_three_multilabel_forms(tmp_path: Path) -> None:
    attributes = {
        "1": {
            "aname": "behaviour",
            "anchor_id": "FILE1_Z2_XY0",
            "type": 4,
            "options": {"0": "walk", "1": "sit"},
        },
        "2": {
            "aname": "tail",
            "anchor_id": "FILE1_Z2_XY0",
            "type": 2,
            "options": {"0": "wag", "1": "tucked", "2": "sit"},
        },
        "3": {"aname": "region", "anchor_id": "FILE1_Z1_XY1", "type": 1, "options": {}},
    }
    meta = {
        "1_a": {"vid": 1, "flg": 0, "z": [0, 5], "xy": [], "av": {"1": "0"}},
        "1_b": {"vid": "1", "flg": 0, "z": [2.5, 8.25], "xy": [], "av": {"1": "1"}},  # (a)
        "1_c": {"vid": "1", "flg": 0, "z": [3, 4], "xy": [], "av": {"1": "0", "2": "0"}},  # (b)
        "1_d": {"vid": "1", "flg": 0, "z": [9, 12], "xy": [], "av": {"2": "1,0,"}},  # (c)
        "1_e": {"vid": "1", "flg": 0, "z": [1.5], "xy": [2, 1, 2, 3, 4], "av": {"3": "x"}},
        "1_f": {"vid": "1", "flg": 0, "z": [], "xy": [], "av": {}},
        "1_g": {"vid": "1", "flg": 0, "z": [12, 13.5], "xy": [], "av": {"2": "2"}},
        "1_h": {"vid": "1", "flg": 0, "z": [14, 15.5], "xy": [], "av": {"1": "1"}},
    }
    project = load_via_project(_write(tmp_path, _project(meta, attributes)))
    labels = {s.mid: s.labels for s in project.segments}
    assert set(labels) == {"1_a", "1_b", "1_c", "1_d", "1_g", "1_h"}  # regions/file meta skipped
    assert labels["1_c"] == (("behaviour", "walk"), ("tail", "wag"))
    assert labels["1_d"] == (("tail", "tucked"), ("tail", "wag"))
    names = class_names(project.segments)
    # "sit" exists under two attributes, so only it is qualified.
    assert names == {
        ("behaviour", "sit"): "behaviour=sit",
        ("behaviour", "walk"): "walk",
        ("tail", "sit"): "tail=sit",
        ("tail", "tucked"): "tucked",
        ("tail", "wag"): "wag",
    }


def test_via_310_layout_with_top_level_vid_list(tmp_path: Path) -> None:
    data = _project({"1_a": {"vid": "1", "z": [0, 2], "xy": [], "av": {"1": "1"}}})
    data["vid_list"] = data["project"].pop("vid_list")
    project = load_via_project(_write(tmp_path, data))
    assert [(s.start, s.end, s.labels) for s in project.segments] == [
        (0.0, 2.0, (("behaviour", "sit"),))
    ]


def test_resolve_labels_rules() -> None:
    select = ViaAttribute("1", "b", "FILE1_Z2_XY0", 4, {"0": "walk"})
    checkbox = ViaAttribute("2", "c", "FILE1_Z2_XY0", 2, {"0": "wag", "1": "sit"})
    assert resolve_labels(select, "0") == ["walk"]
    assert resolve_labels(select, "Buildup") == ["Buildup"]  # free-text timeline row
    assert resolve_labels(select, "") == [] and resolve_labels(select, None) == []
    assert resolve_labels(checkbox, "1,0,1") == ["sit", "wag"]
    assert resolve_labels(checkbox, " 0 , ") == ["wag"]


def test_segment_problems_are_all_collected(tmp_path: Path) -> None:
    meta = {
        "1_neg": {"vid": "1", "z": [-1.5, 2], "xy": [], "av": {"1": "0"}},
        "1_rev": {"vid": "1", "z": [5, 3], "xy": [], "av": {"1": "0"}},
        "1_nan": {"vid": "1", "z": ["a", 3], "xy": [], "av": {"1": "0"}},
        "1_nolabel": {"vid": "1", "z": [1, 3], "xy": [], "av": {}},
        "1_badview": {"vid": "9", "z": [1, 3], "xy": [], "av": {"1": "0"}},
        "1_ok": {"vid": "1", "z": [1, 3], "xy": [], "av": {"1": "0", "7": "x"}},
    }
    project = load_via_project(_write(tmp_path, _project(meta)))
    found = {(i.where, i.severity): i.format() for i in project.issues}
    assert "segment starts at a negative time (value: -1.5 s)" in found[("metadata 1_neg", "error")]
    assert "start is not before its end (value: [5, 3])" in found[("metadata 1_rev", "error")]
    assert "not numbers" in found[("metadata 1_nan", "error")]
    assert "no label and is not used" in found[("metadata 1_nolabel", "warning")]
    assert "view '9', which names no file" in found[("metadata 1_badview", "error")]
    assert "attribute '7', which the project does not define" in found[("metadata 1_ok", "warning")]
    assert [s.mid for s in project.segments] == ["1_ok"]


def test_empty_project(tmp_path: Path) -> None:
    project = load_via_project(_write(tmp_path, _project({})))
    assert [i.message for i in project.issues] == ["the project holds no temporal segments"]


def test_not_utf8_project(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"project": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(AnnotationError, match=r"latin1\.json: not UTF-8 text \(byte 16\)"):
        load_via_project(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"p\.json: invalid JSON at line 1, column 2"),
        ("[1, 2]", r"p\.json: the JSON holds a list, not a VIA 3 project"),
        (
            '{"_via_img_metadata": {}, "_via_settings": {}}',
            r"missing key\(s\) attribute, file, metadata, view; it looks like a VIA 2 image",
        ),
        (
            '{"attribute": {}, "file": [], "metadata": {}, "view": {}}',
            r"'file' must be an object of id → entry, found list",
        ),
    ],
)
def test_unreadable_projects(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(AnnotationError, match=message):
        load_via_project(path)


def test_values_that_are_not_what_the_attribute_defines(tmp_path: Path) -> None:
    attributes = {
        "1": {
            "aname": "behaviour",
            "anchor_id": "FILE1_Z2_XY0",
            "type": 4,
            "options": {"0": "walk", "1": "sit"},
        },
        "2": {"aname": "pose", "anchor_id": "FILE1_Z2_XY0", "type": 3, "options": {}},
    }
    meta = {
        "1_a": {"vid": "1", "z": [0, 2], "xy": [], "av": {"1": "42"}},  # a deleted option id
        "1_b": {"vid": "1", "z": [2, 4], "xy": [], "av": {"1": "42"}},  # the same: listed once
        "1_c": {"vid": "1", "z": [4, 6], "xy": [], "av": {"1": "Buildup"}},  # a timeline row
        "1_d": {"vid": "1", "z": [6, 8], "xy": [], "av": {"2": "3"}},  # no options at all
        "1_e": {"vid": "1", "z": [], "xy": [], "av": {"1": "0"}},  # labels without times
        "1_f": {"vid": "1", "z": None, "xy": [], "av": {"1": "1"}},
        "1_g": {"vid": "1", "z": [], "xy": [], "av": {}},  # VIA's own file-level entry: fine
    }
    project = load_via_project(_write(tmp_path, _project(meta, attributes)))
    found = sorted((i.severity, i.where, i.message, i.value) for i in project.issues)
    assert found == [
        (
            "error",
            "attribute 1 ('behaviour')",
            "a segment uses an option id the attribute does not define",
            "42",
        ),
        ("error", "metadata 1_e", "entry has behaviour labels but no segment times", "z: []"),
        ("error", "metadata 1_f", "entry has behaviour labels but no segment times", "z: null"),
        (
            "warning",
            "attribute 2 ('pose')",
            "the attribute defines no options, so the value '3' becomes a class named '3'",
            "3",
        ),
    ]
    fix = next(i.fix for i in project.issues if i.value == "42")
    assert fix == "choose one of its options (0=walk, 1=sit) in VIA, or add the option back"


def test_a_written_project_reads_back_to_its_segments(tmp_path: Path) -> None:
    ids = iter(["1_a", "1_b", "2_a"])
    project = build_via_project(
        [
            ViaVideo("a.mp4", [("sit", [0, 1.25]), ("schnüffeln", [1.25, 3.5])]),
            ViaVideo("b.mp4", [("sit", [2.0, 4.0])]),
        ],
        ["sit", "schnüffeln", "run"],
        name="p",
        creator="test",
        segment_id=lambda vid: next(ids),
    )
    path = tmp_path / "p.json"
    path.write_text(json.dumps(project, ensure_ascii=False), encoding="utf-8")
    assert seg_table(path) == [
        ("1_a", "a.mp4", 0.0, 1.25, ("sit",)),
        ("1_b", "a.mp4", 1.25, 3.5, ("schnüffeln",)),
        ("2_a", "b.mp4", 2.0, 4.0, ("sit",)),
    ]
    assert not load_via_project(path).issues
    assert list(project["attribute"]["1"]["options"].values()) == [
        "sit",
        "schnüffeln",
        "run",
    ]
