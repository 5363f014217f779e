"""The VIA quirks the real exports in ../shared show, in projects written here (no ../shared).

Each project imitates one real file's shape (formats.md §1, testdata/README.md), so a clone
anywhere covers the same parser paths as the real exports do.
"""

from __future__ import annotations

import json
from pathlib import Path

from ethoclip.annotations import class_names, label_intervals, load_via_project


def via(attributes: dict, files: list[str], metadata: dict, **project: object) -> dict:
    return {
        "project": {
            "pid": "__VIA_PROJECT_ID__",
            "rev": "__VIA_PROJECT_REV_ID__",
            "rev_timestamp": "__VIA_PROJECT_REV_TIMESTAMP__",
            "pname": "p",
            "creator": "VGG Image Annotator",
            "created": 1633540286000,
            "vid_list": [str(k) for k in range(1, len(files) + 1)],
            **project,
        },
        "config": {"file": {"loc_prefix": {"1": "", "2": "", "3": "", "4": ""}}, "ui": {}},
        "attribute": attributes,
        "file": {
            str(k): {"fid": str(k), "fname": name, "type": 4, "loc": 1, "src": ""}
            for k, name in enumerate(files, start=1)
        },
        "metadata": metadata,
        "view": {str(k): {"fid_list": [str(k)]} for k in range(1, len(files) + 1)},
    }


def seg(vid: int, z: list[float], av: dict[str, str]) -> dict:
    return {"vid": str(vid), "flg": 0, "z": z, "xy": [], "av": av}


def save(tmp_path: Path, data: dict, *, pretty: bool) -> Path:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, indent=4 if pretty else None))
    return path


COLOR = {
    "1": {
        "aname": "Color",
        "anchor_id": "FILE1_Z2_XY0",
        "type": 4,
        "desc": "Name of color",
        "options": {"0": "grey", "1": "white", "2": "not_used_test"},
        "default_option_id": "",
    }
}


def test_shared_project_select_ids_mixed_decimals_and_via_gaps(tmp_path: Path) -> None:
    """The IBM files: a shared project (UUID pid), SELECT option ids, 3 and 5 decimals, VIA's
    0.02 s edge gaps between colours, an option no segment uses; pretty and compact JSON."""
    metadata = {
        "1_m0EEga9B": seg(1, [0, 29.75307], {"1": "0"}),
        "1_HrXNrntW": seg(1, [29.773, 70.535], {"1": "1"}),
        "1_YFAmzd5R": seg(1, [70.555, 83.685], {"1": "0"}),
    }
    shared = {"pid": "4b8f1c3e-0000-4000-8000-7acfe8b0aaaa", "rev": "1", "rev_timestamp": "1"}
    for pretty in (True, False):
        project = load_via_project(
            save(tmp_path, via(COLOR, ["test_video.mp4"], metadata, **shared), pretty=pretty)
        )
        assert [(s.mid, s.start, s.end, s.labels) for s in project.segments] == [
            ("1_m0EEga9B", 0.0, 29.75307, (("Color", "grey"),)),
            ("1_HrXNrntW", 29.773, 70.535, (("Color", "white"),)),
            ("1_YFAmzd5R", 70.555, 83.685, (("Color", "grey"),)),
        ]
        assert not [i for i in project.issues if i.severity == "error"]
    names = class_names(project.segments)
    grey = [i for i in label_intervals(project.segments, names) if i.label == "grey"]
    assert [(i.start, i.end) for i in grey] == [(0.0, 29.75307), (70.555, 83.685)]
    assert "not_used_test" not in names.values()


def test_text_attribute_stray_attribute_overlaps_order_and_spaces(tmp_path: Path) -> None:
    """The vital-ultrasound project: free-text labels, an attribute with no name or anchor,
    overlapping labels (multi-label), segments out of time order, default-length segments and
    file names with spaces, four videos in one project."""
    attributes = {
        "1": {
            "aname": "Annotations",
            "anchor_id": "FILE1_Z2_XY0",
            "type": 1,
            "desc": "",
            "options": {},
            "default_option_id": "",
        },
        "2": {"aname": "", "anchor_id": "", "type": 1, "desc": "", "options": {}},
    }
    files = ["a echo.mp4", "b echo.mp4", "b echo cont.mp4", "c echo.mp4"]
    metadata = {
        "1_x": seg(1, [1.862, 2.862], {"1": "4CV"}),
        "3_late": seg(3, [355.242, 356.242], {"1": "2CV"}),
        "3_early": seg(3, [12.5, 20.25], {"1": "4CV"}),
        "4_a": seg(4, [0, 1], {"1": "2CV"}),
        "4_b": seg(4, [0.591, 1.591], {"1": "4CV"}),
        "2_a": seg(2, [3, 9.5], {"1": "4CV"}),
    }
    project = load_via_project(save(tmp_path, via(attributes, files, metadata), pretty=False))
    assert [a.name for a in project.temporal_attributes] == ["Annotations"]
    assert project.videos == files
    late_first = project.segments_of("b echo cont.mp4")
    assert [s.mid for s in late_first] == ["3_late", "3_early"]  # kept as written ...
    names = class_names(project.segments)
    intervals = label_intervals(late_first, names)
    assert [i.start for i in intervals] == [12.5, 355.242]  # ... sorted into intervals
    overlapping = label_intervals(project.segments_of("c echo.mp4"), names)
    assert [(i.label, i.start, i.end) for i in overlapping] == [
        ("2CV", 0.0, 1.0),
        ("4CV", 0.591, 1.591),
    ]
    one_second = sorted(i.where for i in project.issues if "exactly 1.000 s" in i.message)
    assert one_second == ["metadata 1_x", "metadata 3_late", "metadata 4_a", "metadata 4_b"]


def test_checkbox_without_options_holds_row_names(tmp_path: Path) -> None:
    """CHECKBOX with an empty options map, values typed as timeline rows ("4CV", "EF")."""
    attributes = {
        "1": {"aname": "View", "anchor_id": "FILE1_Z2_XY0", "type": 2, "options": {}},
    }
    metadata = {
        "1_a": seg(1, [771.09593, 777.07807], {"1": "4CV"}),
        "1_b": seg(1, [811.84302, 886.34302], {"1": "EF"}),
    }
    project = load_via_project(save(tmp_path, via(attributes, ["v.mp4"], metadata), pretty=True))
    assert [s.labels for s in project.segments] == [(("View", "4CV"),), (("View", "EF"),)]
    assert project.issues == []


def test_the_default_temporal_segments_attribute(tmp_path: Path) -> None:
    """Newer VIA adds TEMPORAL-SEGMENTS (options {"default": "Default"}); rows are free text."""
    attributes = {
        "1": {
            "aname": "TEMPORAL-SEGMENTS",
            "anchor_id": "FILE1_Z2_XY0",
            "type": 4,
            "desc": "Temporal segment attribute added by default",
            "options": {"default": "Default"},
            "default_option_id": "",
        }
    }
    metadata = {"1_a": seg(1, [347.96608, 352.98692], {"1": "4CV_NP"})}
    project = load_via_project(save(tmp_path, via(attributes, ["v.mp4"], metadata), pretty=False))
    assert [(s.start, s.end, s.labels) for s in project.segments] == [
        (347.96608, 352.98692, (("TEMPORAL-SEGMENTS", "4CV_NP"),))
    ]
