"""Datasets: input discovery, window planning, splits, clip/list/manifest writing, review page;
and the typed view of a dataset on disk (``load_dataset``) that training and prediction read.

No torch here.
"""

from ._corrections import Correction
from ._inputs import VIDEO_EXTENSIONS, Inputs, Session, find_sessions, load_inputs
from ._lists import ListEntry, read_list_file
from ._names import safe_name
from ._options import (
    DEFAULT_NAME_TEMPLATE,
    Background,
    CorrectionMode,
    OptionError,
    PlanOptions,
    PrepareOptions,
    SplitBy,
    WindowMode,
    option_names,
)
from ._plan import DatasetPlan, InvalidInputError, plan_dataset, video_key
from ._prepare import PrepareResult, prepare_dataset, write_dataset
from ._records import (
    LABEL_MAP,
    MANIFEST,
    SPLITS,
    ClipRecord,
    Dataset,
    load_dataset,
    read_label_map,
    read_manifest,
)
from ._review import REVIEW_PAGE, write_review
from ._windows import Window, plan_windows
from ._write import default_workers

__all__ = [
    "DEFAULT_NAME_TEMPLATE",
    "LABEL_MAP",
    "MANIFEST",
    "REVIEW_PAGE",
    "SPLITS",
    "VIDEO_EXTENSIONS",
    "Background",
    "ClipRecord",
    "Correction",
    "CorrectionMode",
    "Dataset",
    "DatasetPlan",
    "Inputs",
    "InvalidInputError",
    "ListEntry",
    "OptionError",
    "PlanOptions",
    "PrepareOptions",
    "PrepareResult",
    "Session",
    "SplitBy",
    "Window",
    "WindowMode",
    "default_workers",
    "find_sessions",
    "load_dataset",
    "load_inputs",
    "option_names",
    "plan_dataset",
    "plan_windows",
    "prepare_dataset",
    "read_label_map",
    "read_list_file",
    "read_manifest",
    "safe_name",
    "video_key",
    "write_dataset",
    "write_review",
]
