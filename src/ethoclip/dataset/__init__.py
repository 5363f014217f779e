"""Datasets: input discovery, window planning, splits, clip/list/manifest writing, review page.

No torch here.
"""

from ._inputs import VIDEO_EXTENSIONS, Inputs, Session, find_sessions, load_inputs
from ._names import safe_name
from ._plan import DEFAULT_NAME_TEMPLATE, PlanOptions
from ._prepare import (
    InvalidInputError,
    PrepareOptions,
    PrepareResult,
    prepare_dataset,
    read_label_map,
)
from ._review import read_manifest, write_review
from ._windows import Window, plan_windows
from ._write import default_workers

__all__ = [
    "DEFAULT_NAME_TEMPLATE",
    "VIDEO_EXTENSIONS",
    "Inputs",
    "InvalidInputError",
    "PlanOptions",
    "PrepareOptions",
    "PrepareResult",
    "Session",
    "Window",
    "default_workers",
    "find_sessions",
    "load_inputs",
    "plan_windows",
    "prepare_dataset",
    "read_label_map",
    "read_manifest",
    "safe_name",
    "write_review",
]
