"""Plots a person reads: training curves, per-class AP, PR curves, confusion/co-occurrence.

matplotlib with its file-only backend: no display needed.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)


def training_curves(log: Path, out: Path) -> None:
    """Loss and LR per iteration, validation metrics per epoch, from ``log.jsonl``."""
    records = [
        json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    steps = [r for r in records if "iter" in r]
    epochs = [r for r in records if "val" in r]
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    axes[0].plot([r["iter"] for r in steps], [r["loss"] for r in steps], lw=1)
    axes[0].set(title="training loss", xlabel="iteration")
    axes[1].plot([r["iter"] for r in steps], [r["lr"] for r in steps], lw=1, color="tab:orange")
    axes[1].set(title="learning rate", xlabel="iteration")
    names = sorted({k for r in epochs for k in r["val"]})
    for name in names:
        points = [(r["epoch"], r["val"][name]) for r in epochs if name in r["val"]]
        axes[2].plot(*zip(*points, strict=True), marker="o", label=name.split("/")[-1])
    axes[2].set(title="validation", xlabel="epoch", ylim=(0, 1.02))
    if names:
        axes[2].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def test_plots(
    report: dict[str, Any],
    scores: torch.Tensor,
    labels: torch.Tensor,
    classes: Sequence[str],
    out: Path,
) -> list[Path]:
    """Per-class AP bars, PR curves, and the co-occurrence (multi-label) or confusion matrix."""
    import torchmetrics.functional.classification as tmf

    plt = _pyplot()
    written = []
    aps = [report["per_class"][c]["ap"] for c in classes]
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(classes)), 3.6))
    ax.bar(range(len(classes)), [0 if math.isnan(a) else a for a in aps], color="tab:blue")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set(
        ylim=(0, 1.05), ylabel="average precision", title=f"per-class AP (mAP {report['mAP']:.3f})"
    )
    _save(fig, out / "per_class_ap.png")
    plt.close(fig)
    written.append(out / "per_class_ap.png")
    binary = (
        (labels > 0.5).long()
        if report["multi_label"]
        else torch.nn.functional.one_hot(labels.long(), len(classes))
    )
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for k, name in enumerate(classes):
        if binary[:, k].sum() == 0:
            continue
        precision, recall, _ = tmf.binary_precision_recall_curve(scores[:, k], binary[:, k])
        ax.plot(recall.numpy(), precision.numpy(), lw=1.2, label=f"{name} ({aps[k]:.2f})")
    ax.set(
        xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.05), title="precision–recall"
    )
    ax.legend(fontsize=7, loc="lower left")
    _save(fig, out / "pr_curves.png")
    plt.close(fig)
    written.append(out / "pr_curves.png")
    matrix = report.get("co_occurrence") or report.get("confusion") or []
    title = "label co-occurrence (clips)" if report["multi_label"] else "confusion (rows: truth)"
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(classes), 0.8 + 0.6 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8)
    ax.set_title(title)
    name = "co_occurrence.png" if report["multi_label"] else "confusion.png"
    _save(fig, out / name)
    plt.close(fig)
    written.append(out / name)
    return written
