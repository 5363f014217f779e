"""Writing VIA 3 projects: the one place that knows the layout VIA's video annotator saves.

Used by ``demo-data`` (projects as an annotator would hand them in) and by ``predict
--export-via`` (predictions to correct). Both read back through ``load_via_project``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._via import TEMPORAL_ANCHOR

# VIA's own defaults for a new video project; VIA restores its panels from them on opening.
_UI = {
    "file_content_align": "center",
    "file_metadata_editor_visible": True,
    "spatial_metadata_editor_visible": True,
    "temporal_segment_metadata_editor_visible": True,
    "spatial_region_label_attribute_id": "",
}
_SELECT = 4  # VIA's attribute type for a single-choice (select) attribute
_VIDEO = 4  # VIA's file type for video
_LOCAL = 1  # VIA's file location: a file picked on the annotator's own disk


@dataclass(frozen=True)
class ViaVideo:
    """One video of a project to write: its file name and its temporal segments."""

    fname: str
    segments: Sequence[tuple[str, Sequence[float]]]  # (label, [start, end] in seconds)


def build_via_project(
    videos: Sequence[ViaVideo],
    labels: Sequence[str],
    *,
    name: str,
    creator: str,
    attribute: str = "behaviour",
    description: str = "",
    created_ms: int = 0,
    segment_id: Callable[[str], str],
) -> dict[str, Any]:
    """A VIA 3 video project: one select attribute whose options are ``labels``, one file and
    view per video, one temporal segment per (label, z). ``segment_id(vid)`` names each segment
    (VIA writes ``<vid>_<8 random characters>``; callers seed it so files diff cleanly)."""
    options = {str(i): label for i, label in enumerate(labels)}
    option_of = {label: oid for oid, label in options.items()}
    files, views, metadata = {}, {}, {}
    for k, video in enumerate(videos, start=1):
        vid = str(k)
        files[vid] = {"fid": vid, "fname": video.fname, "type": _VIDEO, "loc": _LOCAL, "src": ""}
        views[vid] = {"fid_list": [vid]}
        for label, z in video.segments:
            metadata[segment_id(vid)] = {
                "vid": vid,
                "flg": 0,
                "z": list(z),
                "xy": [],
                "av": {"1": option_of[label]},
            }
    return {
        "project": {
            "pid": "__VIA_PROJECT_ID__",
            "rev": "__VIA_PROJECT_REV_ID__",
            "rev_timestamp": "__VIA_PROJECT_REV_TIMESTAMP__",
            "pname": name,
            "creator": creator,
            "created": created_ms,
            "vid_list": list(views),
        },
        "config": {
            "file": {"loc_prefix": {"1": "", "2": "", "3": "", "4": ""}},
            "ui": {**_UI, "gtimeline_visible_row_count": str(min(len(labels), 10))},
        },
        "attribute": {
            "1": {
                "aname": attribute,
                "anchor_id": TEMPORAL_ANCHOR,
                "type": _SELECT,
                "desc": description,
                "options": options,
                "default_option_id": "",
            }
        },
        "file": files,
        "metadata": metadata,
        "view": views,
    }
