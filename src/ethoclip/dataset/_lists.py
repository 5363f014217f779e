"""MMAction2 ``VideoDataset`` list files: ``<path> [<label> ...]`` per line (formats.md §2.1).

One label is a single-label line, several a multi-label one, none a background clip (an
all-zero target). Every malformed line is reported with its file and line number.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetError


@dataclass(frozen=True)
class ListEntry:
    path: str  # as written in the file
    label_ids: tuple[int, ...]
    line: int


def read_list_file(path: str | os.PathLike[str], *, delimiter: str = " ") -> list[ListEntry]:
    """Every line of a list file (``path`` is the file: a folder has several, one per split);
    all problems at once, each with its line number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path}: list file not found; check ann_file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read the list file ({exc})") from None
    entries, problems = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split(delimiter) if delimiter != " " else line.split()
        name, labels = parts[0], parts[1:]
        try:
            ids = tuple(int(label) for label in labels)
        except ValueError:
            problems.append(
                f"line {number}: labels must be whole numbers, found {labels!r} (a path with "
                f"the delimiter {delimiter!r} in it, or a trailing delimiter?)"
            )
            continue
        if any(i < 0 for i in ids):
            problems.append(f"line {number}: negative label id in {list(ids)}")
            continue
        entries.append(ListEntry(name, ids, number))
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; … {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise DatasetError(f"{path}: {shown}; fix the list file")
    return entries
