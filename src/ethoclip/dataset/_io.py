"""Atomic file writes and the clip journal that lets ``prepare`` resume after a kill."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

JOURNAL = Path(".ethoclip") / "journal.jsonl"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def journal_append(out_dir: Path, clip_path: str, recipe: str) -> None:
    """Record a finished clip. One short O_APPEND write per line: safe across processes."""
    line = json.dumps({"clip": clip_path, "recipe": recipe}) + "\n"
    fd = os.open(out_dir / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def journal_read(out_dir: Path) -> dict[str, str]:
    """clip path → recipe of every clip finished by earlier runs (a torn last line is ignored)."""
    path = out_dir / JOURNAL
    if not path.exists():
        return {}
    done = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            done[entry["clip"]] = entry["recipe"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return done


def journal_rewrite(out_dir: Path, entries: Iterable[tuple[str, str]]) -> None:
    text = "".join(json.dumps({"clip": c, "recipe": r}) + "\n" for c, r in entries)
    write_text_atomic(out_dir / JOURNAL, text)
