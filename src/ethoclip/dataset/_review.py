"""``ethoclip review``: one static HTML page to look through a dataset's clips (no server)."""

from __future__ import annotations

import html
import json
import os
from importlib.resources import files
from pathlib import Path

from ._io import write_text_atomic
from ._records import load_dataset

REVIEW_PAGE = "review.html"


def write_review(dataset_dir: str | os.PathLike[str], out: Path | None = None) -> Path:
    """Write ``review.html`` into the dataset folder (clip paths stay relative to it)."""
    dataset = load_dataset(dataset_dir)
    folder = dataset.root
    summary_file = folder / "dataset.txt"
    summary = summary_file.read_text(encoding="utf-8") if summary_file.exists() else ""
    keep = ("clip", "split", "labels", "source_video", "start", "end", "source_stream")
    data = {
        "labels": list(dataset.labels),
        "splits": dataset.splits,
        "summary": summary,
        "clips": [{k: r.to_json()[k] for k in keep} for r in dataset.records],
    }
    # JSON inside <script> must not contain "</": escape the slash.
    payload = json.dumps(data).replace("</", "<\\/")
    template = files("ethoclip.dataset").joinpath("review_template.html").read_text("utf-8")
    page = template.replace("__TITLE__", html.escape(folder.resolve().name))
    page = page.replace("__DATA__", payload)
    target = out or folder / REVIEW_PAGE
    write_text_atomic(target, page)
    return target
