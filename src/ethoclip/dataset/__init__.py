"""Datasets: input discovery, window planning, splits, clip/list/manifest writing, review page.

No torch here.
"""

from ._inputs import VIDEO_EXTENSIONS, Inputs, Session, find_sessions, load_inputs
from ._names import safe_name

__all__ = [
    "VIDEO_EXTENSIONS",
    "Inputs",
    "Session",
    "find_sessions",
    "load_inputs",
    "safe_name",
]
