"""Metrics, as MMAction2 defines them (formats.md §2.4), computed with torchmetrics.

Multi-label: class-wise mAP (step-wise AP per class, classes without a positive left out),
MMIT mAP (AP per sample over classes, samples without a positive left out rather than turning
the mean into NaN), per-class AP, per-class thresholds at the best F1 on validation, micro and
macro F1 at those thresholds, label co-occurrence. Single-label: top-1, top-5, mean class
accuracy, confusion matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torchmetrics.functional.classification as tmf

from ..registry import config_error

MULTI_LABEL_METRICS = ("mean_average_precision", "mmit_mean_average_precision")
SINGLE_LABEL_METRICS = ("top_k_accuracy", "mean_class_accuracy")
# Short names for metrics.json and checkpoint files; AccMetric logs MMAction2's "acc/<name>".
SHORT = {
    "mean_average_precision": "mAP",
    "mmit_mean_average_precision": "mmit_mAP",
    "mean_class_accuracy": "mean_class_accuracy",
}


def average_precision_per_class(scores: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """AP of each class column (NaN for a class with no positive)."""
    scores, labels = scores.float(), (labels > 0.5).long()
    out = []
    for k in range(scores.shape[1]):
        if labels[:, k].sum() == 0:
            out.append(math.nan)
        else:
            out.append(float(tmf.binary_average_precision(scores[:, k], labels[:, k])))
    return out


def mean_average_precision(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """MMAction2's ``mean_average_precision``: mean AP over classes that have a positive."""
    aps = [ap for ap in average_precision_per_class(scores, labels) if not math.isnan(ap)]
    return sum(aps) / len(aps) if aps else math.nan


def mmit_mean_average_precision(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """MMAction2's ``mmit_mean_average_precision`` (AP across classes per sample, averaged),
    over the samples that have a positive: MMAction2 lets one background clip make it NaN."""
    keep = (labels > 0.5).any(dim=1)
    if not keep.any():
        return math.nan
    return mean_average_precision(scores[keep].T, labels[keep].T)


# A threshold may not mark more validation clips positive than this many times the clips that
# are: the best-F1 cut of a class the model barely separates sits below almost every score, and
# on a long video that class would then be "on" throughout.
MAX_PREDICTED_PER_POSITIVE = 2.0
# A class counts as learned when validation shows it: enough positive clips to judge, and an AP
# well above what a constant score gets (chance AP = the class's share of clips, ≤ 0.5 here).
LEARNED_MIN_AP = 0.5
LEARNED_MIN_POSITIVES = 3


def best_f1_thresholds(scores: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """Per class, a score threshold with the best F1 on these samples (0.5 without positives).

    Only cuts that mark at most ``MAX_PREDICTED_PER_POSITIVE`` × (positives) samples count, so a
    class that was not learned gets a high threshold instead of one that fires everywhere. Of
    the cuts that reach the best F1, the one halfway between the lowest score kept and the
    highest score left out: a cut right at a validation score would move with every clip, a cut
    in the gap between the two holds better on new video.
    """
    thresholds = []
    binary = (labels > 0.5).long()
    for k in range(scores.shape[1]):
        positives = int(binary[:, k].sum())
        if positives == 0:
            thresholds.append(0.5)
            continue
        column = scores[:, k].float()
        precision, recall, cut = tmf.binary_precision_recall_curve(column, binary[:, k])
        f1 = 2 * precision[:-1] * recall[:-1] / (precision[:-1] + recall[:-1]).clamp_min(1e-12)
        marked = (column[None, :] >= cut[:, None]).sum(1)
        f1 = torch.where(marked <= MAX_PREDICTED_PER_POSITIVE * positives, f1, -1.0)
        if float(f1.max()) <= 0:  # no allowed cut finds a positive: scores that do not separate
            thresholds.append(min(1.0, float(column.max()) + 1e-3))
            continue
        best = float(cut[int(torch.argmax(f1))])
        below = column[column < best]
        thresholds.append((best + float(below.max())) / 2 if below.numel() else best / 2)
    return thresholds


# Per-step thresholds stay this close to ½, the level a per-step bout's extent is drawn at: a
# best-F1 cut further out says validation's frames did not separate the class (a common class
# scored low everywhere gets a cut near 0 and would be on for all of a video; the behaviour
# zoo's insect_leaf: walk at 0.09).
STEP_THRESHOLD_RANGE = (0.3, 0.7)


def step_thresholds(scores: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """Per-step thresholds: ``best_f1_thresholds`` over every validation frame (rows), held
    within ``STEP_THRESHOLD_RANGE``."""
    low, high = STEP_THRESHOLD_RANGE
    return [min(max(t, low), high) for t in best_f1_thresholds(scores, labels)]


def class_evidence(
    scores: torch.Tensor,
    labels: torch.Tensor,
    thresholds: Sequence[float],
    class_names: Sequence[str],
) -> list[dict[str, Any]]:
    """What validation says of each class (kept in checkpoints, shown by ``predict``): its AP,
    its positive clips, its threshold and whether it was learned, with the reason if not."""
    aps = average_precision_per_class(scores, labels)
    positives = (labels > 0.5).sum(0).tolist()
    out = []
    for k, name in enumerate(class_names):
        ap, n = aps[k], int(positives[k])
        if n < LEARNED_MIN_POSITIVES:
            reason = f"{n} positive validation clip(s); at least {LEARNED_MIN_POSITIVES} needed"
        elif ap < LEARNED_MIN_AP:
            reason = f"validation AP {ap:.2f} < {LEARNED_MIN_AP}"
        else:
            reason = ""
        out.append(
            {
                "class": name,
                "val_ap": None if math.isnan(ap) else round(ap, 4),
                "val_positives": n,
                "val_clips": len(labels),
                "threshold": round(float(thresholds[k]), 6),
                "learned": not reason,
                "reason": reason,
            }
        )
    return out


def f1_at(
    scores: torch.Tensor, labels: torch.Tensor, thresholds: Sequence[float]
) -> dict[str, Any]:
    """Per-class, micro and macro F1 of ``scores ≥ threshold`` decisions."""
    predicted = scores >= torch.tensor(list(thresholds), dtype=scores.dtype)
    truth = labels > 0.5
    tp = (predicted & truth).sum(0).float()
    fp = (predicted & ~truth).sum(0).float()
    fn = (~predicted & truth).sum(0).float()
    per_class = (2 * tp / (2 * tp + fp + fn).clamp_min(1e-12)).tolist()
    micro = float(2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()).clamp_min(1e-12))
    supported = [f for f, n in zip(per_class, truth.sum(0).tolist(), strict=True) if n > 0]
    macro = sum(supported) / len(supported) if supported else math.nan
    return {"per_class": per_class, "micro": micro, "macro": macro}


def co_occurrence(labels: torch.Tensor) -> list[list[int]]:
    binary = (labels > 0.5).long()
    return (binary.T @ binary).tolist()


def top_k_accuracy(scores: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """MMAction2's ``top_k_accuracy``: the label among the k highest scores. Among equal
    scores the higher class index ranks first (MMAction2 takes the tail of an ascending sort;
    a stable one here, so ties are settled the same way every time)."""
    order = torch.argsort(scores.float(), dim=1, stable=True)[:, -min(k, scores.shape[1]) :]
    return float((order == labels.long()[:, None]).any(dim=1).double().mean())


def mean_class_accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """MMAction2's ``mean_class_accuracy``: the mean of per-class recall over every class that
    is a label or a top-1 prediction; a class only ever predicted counts as 0 (MMAction2's
    confusion matrix covers the labels and predictions seen, torchmetrics' macro average
    the classes with any true or false positive or negative: the same classes)."""
    num_classes = scores.shape[1]
    predicted, truth = scores.argmax(dim=1), labels.long()
    counts = torch.bincount(truth, minlength=num_classes).double()
    hits = torch.bincount(truth[predicted == truth], minlength=num_classes).double()
    seen = (counts > 0) | (torch.bincount(predicted, minlength=num_classes) > 0)
    recall = torch.where(counts > 0, hits / counts.clamp_min(1), torch.zeros_like(counts))
    return float(recall[seen].mean())


def confusion(scores: torch.Tensor, labels: torch.Tensor) -> list[list[int]]:
    return tmf.multiclass_confusion_matrix(
        scores, labels.long(), num_classes=scores.shape[1]
    ).tolist()


@dataclass
class AccMetric:
    """MMAction2's ``AccMetric``: which metrics validation and test report.

    Without a ``metric_list``, multi-label data gets the mAPs and single-label data top-k and
    mean class accuracy. Top-k accuracy on multi-label data is refused: it assumes one label.
    """

    metric_list: Sequence[str] | str | None = None
    metric_options: dict[str, Any] = field(
        default_factory=lambda: {"top_k_accuracy": {"topk": (1, 5)}}
    )
    collect_device: str = "cpu"
    prefix: str | None = "acc"

    def __post_init__(self) -> None:
        if isinstance(self.metric_list, str):
            self.metric_list = (self.metric_list,)
        known = (*MULTI_LABEL_METRICS, *SINGLE_LABEL_METRICS)
        for name in self.metric_list or ():
            if name not in known:
                raise config_error(
                    "metric_list",
                    f"{name!r} is not a metric ethoclip computes ({', '.join(known)})",
                )

    def names_for(self, multi_label: bool) -> tuple[str, ...]:
        chosen = tuple(
            self.metric_list or (MULTI_LABEL_METRICS if multi_label else SINGLE_LABEL_METRICS)
        )
        wrong = [m for m in chosen if (m in SINGLE_LABEL_METRICS) == multi_label]
        if wrong:
            kind = "multi-label" if multi_label else "single-label"
            fit = MULTI_LABEL_METRICS if multi_label else SINGLE_LABEL_METRICS
            raise config_error(
                "metric_list",
                f"{', '.join(wrong)} do not apply to {kind} data; use {', '.join(fit)}",
            )
        return chosen

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def compute(
        self, scores: torch.Tensor, labels: torch.Tensor, *, multi_label: bool
    ) -> dict[str, float]:
        """The logged metrics (MMAction2's names: ``acc/mean_average_precision``, ``acc/top1``)."""
        out: dict[str, float] = {}
        for name in self.names_for(multi_label):
            if name == "mean_average_precision":
                out[self.key(name)] = mean_average_precision(scores, labels)
            elif name == "mmit_mean_average_precision":
                out[self.key(name)] = mmit_mean_average_precision(scores, labels)
            elif name == "top_k_accuracy":
                for k in self.metric_options.get("top_k_accuracy", {}).get("topk", (1, 5)):
                    out[self.key(f"top{k}")] = top_k_accuracy(scores, labels, k)
            elif name == "mean_class_accuracy":
                out[self.key(name)] = mean_class_accuracy(scores, labels)
        return out


def report(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    class_names: Sequence[str],
    multi_label: bool,
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Everything ``ethoclip test`` writes to metrics.json."""
    support = (
        (labels > 0.5).sum(0).tolist()
        if multi_label
        else torch.bincount(labels.long(), minlength=len(class_names)).tolist()
    )
    if multi_label:
        aps = average_precision_per_class(scores, labels)
        thresholds = (
            list(thresholds) if thresholds is not None else best_f1_thresholds(scores, labels)
        )
        f1 = f1_at(scores, labels, thresholds)
        return {
            "multi_label": True,
            "clips": len(labels),
            "mAP": mean_average_precision(scores, labels),
            "mmit_mAP": mmit_mean_average_precision(scores, labels),
            "micro_f1": f1["micro"],
            "macro_f1": f1["macro"],
            "per_class": {
                name: {
                    "ap": aps[k],
                    "f1": f1["per_class"][k],
                    "threshold": thresholds[k],
                    "support": support[k],
                }
                for k, name in enumerate(class_names)
            },
            "co_occurrence": co_occurrence(labels),
        }
    onehot = torch.nn.functional.one_hot(labels.long(), len(class_names)).float()
    aps = average_precision_per_class(scores, onehot)
    matrix = confusion(scores, labels)
    return {
        "multi_label": False,
        "clips": len(labels),
        "top1": top_k_accuracy(scores, labels, 1),
        "top5": top_k_accuracy(scores, labels, 5),
        "mean_class_accuracy": mean_class_accuracy(scores, labels),
        "mAP": mean_average_precision(scores, onehot),
        "per_class": {
            name: {
                "ap": aps[k],
                "accuracy": matrix[k][k] / support[k] if support[k] else math.nan,
                "support": support[k],
            }
            for k, name in enumerate(class_names)
        },
        "confusion": matrix,
    }
