"""VIA 3 annotations: parsing, label resolution, validation, writing. No torch here."""

from ._issues import Issue, errors, format_report, group_by_file
from ._labels import MERGE_GAP_SEC, LabelInterval, class_names, label_intervals
from ._validate import VideoFacts, validate_projects
from ._via import (
    TEMPORAL_ANCHOR,
    Segment,
    ViaAttribute,
    ViaFile,
    ViaProject,
    load_via_project,
    resolve_labels,
)
from ._write import ViaVideo, build_via_project

__all__ = [
    "MERGE_GAP_SEC",
    "TEMPORAL_ANCHOR",
    "Issue",
    "LabelInterval",
    "Segment",
    "ViaAttribute",
    "ViaFile",
    "ViaProject",
    "ViaVideo",
    "VideoFacts",
    "build_via_project",
    "class_names",
    "errors",
    "format_report",
    "group_by_file",
    "label_intervals",
    "load_via_project",
    "resolve_labels",
    "validate_projects",
]
