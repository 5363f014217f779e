"""Metrics as MMAction2 defines them (class-wise mAP, MMIT mAP, top-k, mean class accuracy),
per-class thresholds and what validation says of each class. Used by training (validation),
``test`` and ``predict``; MMAction2 keeps the same in ``mmaction.evaluation``."""

from ._metrics import (
    AccMetric,
    average_precision_per_class,
    best_f1_thresholds,
    class_evidence,
    f1_at,
    mean_average_precision,
    mmit_mean_average_precision,
    report,
    step_thresholds,
)

__all__ = [
    "AccMetric",
    "average_precision_per_class",
    "best_f1_thresholds",
    "class_evidence",
    "f1_at",
    "mean_average_precision",
    "mmit_mean_average_precision",
    "report",
    "step_thresholds",
]
