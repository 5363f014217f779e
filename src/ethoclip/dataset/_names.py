"""Names that are safe in list files, URLs and every file system."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")


def safe_name(text: str) -> str:
    """``text`` with runs of anything but letters, digits and ``._+=-`` replaced by ``_``.

    List files split on spaces, so a clip name must never contain one.
    """
    cleaned = _UNSAFE.sub("_", text.strip()).strip("_")
    return cleaned or "_"
