"""Metrics and LR schedules against numbers computed by hand from their definitions
(formats.md §2.4 for the metrics, MMEngine's schedulers for the LR)."""

from __future__ import annotations

import math

import pytest
import torch

from ethoclip.engine import AccMetric, best_f1_thresholds, f1_at, report
from ethoclip.engine._optim import param_groups
from ethoclip.engine._schedulers import CosineAnnealingLR, LinearLR, MultiStepLR, lr_at
from ethoclip.errors import ConfigError
from ethoclip.evaluation._metrics import mean_average_precision, mmit_mean_average_precision

SCORES = torch.tensor(
    [
        [0.9, 0.2, 0.1],
        [0.8, 0.7, 0.3],
        [0.4, 0.6, 0.2],
        [0.3, 0.1, 0.5],
    ]
)
LABELS = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=torch.float)


def test_class_wise_map_drops_classes_without_positives() -> None:
    # Class 0, ranked 0.9 (+), 0.8 (−), 0.4 (+), 0.3 (−): AP = ½·1 + ½·(2/3) = 5/6.
    # Class 1, ranked 0.7 (+), 0.6 (+), 0.2, 0.1: AP = 1. Class 2 has no positive: left out.
    assert mean_average_precision(SCORES, LABELS) == pytest.approx((5 / 6 + 1) / 2)


def test_mmit_map_is_per_sample_and_skips_background_clips() -> None:
    # Sample 0: class 0 ranked first → 1. Sample 1: class 1 ranked 2nd of 3 → ½.
    # Sample 2: positives 0 and 1 ranked 2nd and 1st → 1. Sample 3: no positive (background).
    assert mmit_mean_average_precision(SCORES, LABELS) == pytest.approx((1 + 0.5 + 1) / 3)


def test_thresholds_and_f1() -> None:
    thresholds = best_f1_thresholds(SCORES, LABELS)
    # Class 0: F1 is best (0.8) keeping 0.9, 0.8, 0.4 → halfway to the next, 0.3: 0.35.
    # Class 1: both positives on top, cut between 0.6 and 0.2: 0.4. Class 2: no positive → 0.5.
    assert thresholds == pytest.approx([0.35, 0.4, 0.5])
    f1 = f1_at(SCORES, LABELS, thresholds)
    assert f1["per_class"][:2] == pytest.approx([0.8, 1.0])
    # micro: tp = 2 + 2, fp = 1 + 0 (+ class 2: 0.5 ≥ 0.5 on sample 3, a false positive), fn = 0
    assert f1["micro"] == pytest.approx(2 * 4 / (2 * 4 + 2))
    assert f1["macro"] == pytest.approx(0.9)  # classes with a positive only


def test_single_label_metrics() -> None:
    scores = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.2, 0.3, 0.5]])
    labels = torch.tensor([0, 1, 1, 2])
    result = report(scores, labels, class_names=["a", "b", "c"], multi_label=False)
    assert result["top1"] == pytest.approx(2 / 4)  # samples 0 and 3
    assert result["top5"] == 1.0  # top-5 of 3 classes holds everything
    assert result["mean_class_accuracy"] == pytest.approx((1 + 0 + 1) / 3)
    assert result["confusion"] == [[1, 0, 0], [1, 0, 1], [0, 0, 1]]


def test_acc_metric_refuses_top_k_on_multi_label_data() -> None:
    assert AccMetric().names_for(True) == ("mean_average_precision", "mmit_mean_average_precision")
    assert AccMetric().names_for(False) == ("top_k_accuracy", "mean_class_accuracy")
    with pytest.raises(
        ConfigError, match=r"metric_list: top_k_accuracy do not apply to multi-label data"
    ):
        AccMetric(metric_list=("top_k_accuracy",)).names_for(True)
    with pytest.raises(ConfigError, match=r"metric_list: 'f2' is not a metric ethoclip computes"):
        AccMetric(metric_list=("f2",))
    keys = AccMetric(metric_list=("mean_average_precision",)).compute(
        SCORES, LABELS, multi_label=True
    )
    assert list(keys) == ["acc/mean_average_precision"]


def test_multistep_lr_changes_at_the_milestone_epochs() -> None:
    schedule = [MultiStepLR(milestones=[2, 4], gamma=0.1, by_epoch=True, begin=0, end=6)]
    per_epoch = [lr_at(schedule, 0.01, epoch * 5 + 2, iters_per_epoch=5) for epoch in range(6)]
    assert per_epoch == pytest.approx([0.01, 0.01, 1e-3, 1e-3, 1e-4, 1e-4])
    # Within an epoch the LR does not move (by-epoch schedules step at epoch ends).
    assert [lr_at(schedule, 0.01, i, 5) for i in range(10, 15)] == pytest.approx([1e-3] * 5)


def test_warm_up_then_cosine_follows_the_formula() -> None:
    base, eta, epochs, per = 1e-3, 1e-5, 10, 10
    schedule = [
        LinearLR(start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
        CosineAnnealingLR(T_max=epochs - 1, eta_min=eta, by_epoch=True, begin=1, end=epochs),
    ]
    for s in schedule:
        if isinstance(s, CosineAnnealingLR):
            s.base_lr = base
    # Warm-up per iteration over epoch 0: 0.1 → 1.
    assert lr_at(schedule, base, 0, per) == pytest.approx(0.1 * base)
    assert lr_at(schedule, base, 5, per) == pytest.approx((0.1 + 0.9 * 5 / 10) * base)
    # Cosine by epoch from epoch 1: eta + (base − eta)(1 + cos(π t / 9)) / 2, t = epoch − 1.
    for epoch in (1, 4, 9):
        t = epoch - 1
        expected = eta + (base - eta) * (1 + math.cos(math.pi * t / 9)) / 2
        assert lr_at(schedule, base, epoch * per + 3, per) == pytest.approx(expected)


def test_paramwise_custom_keys_and_decay_mults() -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(4, 2)
    )
    groups, notes = param_groups(
        model,
        0.1,
        1e-4,
        {
            "custom_keys": {"2.": {"lr_mult": 10.0}, ".never": {"decay_mult": 0}},
            "norm_decay_mult": 0.0,
        },
    )
    by_name = {name: g for g in groups for name in g["names"]}
    assert len(groups) == 3  # (0.1, 1e-4), (1.0, 1e-4) for the Linear, (0.1, 0) for the norm
    assert by_name["2.weight"]["lr"] == pytest.approx(1.0) and by_name["0.weight"][
        "lr"
    ] == pytest.approx(0.1)
    assert (
        by_name["1.weight"]["weight_decay"] == 0.0 and by_name["0.weight"]["weight_decay"] == 1e-4
    )
    assert notes == ["paramwise_cfg.custom_keys '.never' matches no parameter of this model"]
