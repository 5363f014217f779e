"""Training and evaluation: Lightning runs the loop, torchmetrics the metrics; the MMAction2
vocabulary of config files maps onto both. Only ``engine`` and ``cli`` unpack configs."""

from ..evaluation import (
    AccMetric,
    best_f1_thresholds,
    class_evidence,
    f1_at,
    mean_average_precision,
    mmit_mean_average_precision,
    report,
)
from ..models._checkpoint import Trained, load_trained, read_checkpoint
from ._experiment import Experiment, Settings, build_experiment, read_settings
from ._train import TrainingInterrupted, TrainOptions, TrainResult, default_work_dir, train

__all__ = [
    "AccMetric",
    "Experiment",
    "Settings",
    "TrainOptions",
    "TrainResult",
    "Trained",
    "TrainingInterrupted",
    "best_f1_thresholds",
    "build_experiment",
    "class_evidence",
    "default_work_dir",
    "f1_at",
    "load_trained",
    "mean_average_precision",
    "mmit_mean_average_precision",
    "read_checkpoint",
    "read_settings",
    "report",
    "train",
]
