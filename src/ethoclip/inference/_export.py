"""What a prediction leaves behind: timeline.csv, bouts.csv, an ethogram, a VIA 3 project to
correct (which reads back through ethoclip's parser to the same bouts, and goes straight back
into ``prepare``), and an overlay video."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..annotations import ViaVideo, build_via_project
from ._bouts import Bout
from ._windows import Scored

VIA_ATTRIBUTE = "behaviour"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def timeline_csv(scored: Scored, classes: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["start", "end", *classes])
    for start, end, row in zip(
        scored.windows.starts, scored.ends, scored.scores.tolist(), strict=True
    ):
        writer.writerow([f"{start:.3f}", f"{end:.3f}", *(f"{v:.4f}" for v in row)])
    return out.getvalue()


def steps_csv(times: np.ndarray, values: np.ndarray, classes: Sequence[str]) -> str:
    """A dense model's per-step scores: one row per frame time any window scored (the mean
    over the windows that hold it), one column per class."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", *classes])
    for time, row in zip(times.tolist(), values.tolist(), strict=True):
        writer.writerow([f"{time:.3f}", *(f"{v:.4f}" for v in row)])
    return out.getvalue()


def bouts_csv(bouts: Sequence[Bout]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # class_learned: yes/no from validation (no: the class's bouts are guesses), or unknown.
    writer.writerow(
        ["label", "start", "end", "duration", "mean_score", "max_score", "class_learned"]
    )
    for b in bouts:
        writer.writerow(
            [
                b.label,
                f"{b.start:.3f}",
                f"{b.end:.3f}",
                f"{b.duration:.3f}",
                f"{b.mean_score:.4f}",
                f"{b.max_score:.4f}",
                _yes_no(b.learned),
            ]
        )
    return out.getvalue()


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def via_project(
    videos: Sequence[tuple[Path, Sequence[Bout]]],
    classes: Sequence[str],
    *,
    name: str,
    not_learned: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A VIA 3 project as the video annotator saves it: one select attribute whose options are
    the labels, one file and view per video, one temporal segment per bout.

    Classes the model did not learn keep their bouts (to correct) and are named in the project
    name and the attribute's description, which VIA shows; labels stay the class names, so the
    corrected project goes back into ``prepare`` unchanged.
    """
    rng = random.Random(0)  # stable segment ids, so exports diff cleanly
    alphabet = string.ascii_letters + string.digits
    description = "predicted by ethoclip: correct, then prepare again"
    if not_learned:
        listed = "; ".join(f"{c} ({why})" for c, why in not_learned.items())
        description += f". NOT LEARNED, bouts are guesses: {listed}"
        name += f" [not learned: {', '.join(not_learned)}]"
    return build_via_project(
        [
            ViaVideo(
                video.name,
                [(b.label, [round(b.start, 5), round(b.end, 5)]) for b in bouts],
            )
            for video, bouts in videos
        ],
        classes,
        name=name,
        creator="ethoclip predict (VGG Image Annotator 3 project)",
        attribute=VIA_ATTRIBUTE,
        description=description,
        segment_id=lambda vid: f"{vid}_" + "".join(rng.choice(alphabet) for _ in range(8)),
    )


def ethogram(
    scored: Scored,
    bouts: Sequence[Bout],
    classes: Sequence[str],
    path: Path,
    *,
    learned: Sequence[bool | None] | None = None,
) -> None:
    """Labels × time: the window scores as a heat strip per label, bouts as bars over it.
    A class validation did not show to be learned is labelled so and its bars are hatched grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = scored.first_sec + scored.duration_sec
    fig, ax = plt.subplots(
        figsize=(min(24, 4 + scored.duration_sec / 15), 0.5 + 0.45 * len(classes))
    )
    if len(scored.scores):
        centres = scored.windows.starts + scored.windows.length_sec / 2
        image = scored.scores.numpy().T
        ax.imshow(
            image,
            aspect="auto",
            cmap="Greys",
            vmin=0,
            vmax=1,
            extent=(float(centres[0]), float(centres[-1]), len(classes) - 0.5, -0.5),
            interpolation="nearest",
            alpha=0.6,
        )
    colours = plt.get_cmap("tab10")
    row = {c: i for i, c in enumerate(classes)}
    for b in bouts:
        guess = b.learned is False
        ax.broken_barh(
            [(b.start, b.duration)],
            (row[b.label] - 0.3, 0.6),
            color="lightgrey" if guess else colours(row[b.label] % 10),
            hatch="//" if guess else None,
            edgecolor="dimgrey" if guess else None,
        )
    marks = learned or [None] * len(classes)
    ax.set_yticks(
        range(len(classes)),
        [f"{c} (not learned)" if m is False else c for c, m in zip(classes, marks, strict=True)],
    )
    ax.set_xlim(scored.first_sec, end)
    ax.set_xlabel("time (s)")
    ax.set_title(f"{scored.video.name}: bouts over window scores")
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)


def summary_json(
    scored: Scored,
    classes: Sequence[str],
    bouts: Sequence[Bout],
    *,
    multi_label: bool,
    top_k: int,
    recipe: str,
    evidence: Sequence[dict[str, Any]] | None = None,
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    mean = scored.scores.mean(0) if len(scored.scores) else np.zeros(len(classes))
    order = np.argsort(-np.asarray(mean))[:top_k]
    return {
        "video": str(scored.video),
        "multi_label": multi_label,
        "score": "sigmoid probability" if multi_label else "softmax probability",
        "top_k": [{"label": classes[i], "score": round(float(mean[i]), 4)} for i in order],
        "windows": len(scored.windows.starts),
        "window_sec": round(scored.windows.length_sec, 4),
        "padded": scored.windows.padded,
        "duration_sec": round(scored.duration_sec, 3),
        # Per class: what validation said (AP, positive clips, learned and why not) and the
        # threshold used on this video (a class not learned may not be on for half of it).
        "classes": [
            {
                "class": name,
                **({k: v for k, v in evidence[i].items() if k != "class"} if evidence else {}),
                "learned": evidence[i]["learned"] if evidence else None,
                "threshold_used": round(float(thresholds[i]), 6) if thresholds else None,
            }
            for i, name in enumerate(classes)
        ],
        "bouts": [
            {
                "label": b.label,
                "start": b.start,
                "end": b.end,
                "mean_score": round(b.mean_score, 4),
                "class_learned": b.learned,
            }
            for b in bouts
        ],
        "recipe": recipe,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2) + "\n")
