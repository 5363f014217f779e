"""``ethoclip review``: one static HTML page to look through a dataset's clips (no server)."""

from __future__ import annotations

import html
import json
import os
from importlib.resources import files
from pathlib import Path

from ..errors import DatasetError
from ._io import write_text_atomic

SPLIT_ORDER = ("train", "val", "test")


def read_manifest(dataset_dir: Path) -> list[dict[str, object]]:
    """The clip records of a dataset made by ``prepare``, with a clear error otherwise."""
    path = dataset_dir / "manifest.jsonl"
    if not path.is_file():
        raise DatasetError(
            f"{dataset_dir}: no manifest.jsonl; pass a folder made by 'ethoclip prepare'"
        )
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path}: line {number} is not JSON ({exc.msg}); run 'ethoclip prepare' again"
            ) from None
    return entries


def write_review(dataset_dir: str | os.PathLike[str], out: Path | None = None) -> Path:
    """Write ``review.html`` into the dataset folder (clip paths stay relative to it)."""
    folder = Path(dataset_dir)
    entries = read_manifest(folder)
    labels_file = folder / "label_map.txt"
    labels = labels_file.read_text(encoding="utf-8").splitlines() if labels_file.exists() else []
    summary_file = folder / "dataset.txt"
    summary = summary_file.read_text(encoding="utf-8") if summary_file.exists() else ""
    splits = [s for s in SPLIT_ORDER if any(e["split"] == s for e in entries)]
    keep = ("clip", "split", "labels", "source_video", "start", "end", "source_stream")
    data = {
        "labels": labels,
        "splits": splits,
        "summary": summary,
        "clips": [{k: e[k] for k in keep} for e in entries],
    }
    # JSON inside <script> must not contain "</": escape the slash.
    payload = json.dumps(data).replace("</", "<\\/")
    template = files("ethoclip.dataset").joinpath("review_template.html").read_text("utf-8")
    page = template.replace("__TITLE__", html.escape(folder.resolve().name))
    page = page.replace("__DATA__", payload)
    target = out or folder / "review.html"
    write_text_atomic(target, page)
    return target
