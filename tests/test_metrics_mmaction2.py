"""ethoclip's metrics against MMAction2 1.2.0's own functions
(``mmaction/evaluation/functional/accuracy.py`` from the wheel, run with numpy) on random and
edge-case inputs: tied scores, classes without positives, classes only ever predicted,
background (all-negative) rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchmetrics.functional.classification as tmf

from ethoclip.evaluation._metrics import (
    mean_average_precision,
    mean_class_accuracy,
    mmit_mean_average_precision,
    top_k_accuracy,
)

from .mma_source import accuracy

FUNCTIONS = (
    "confusion_matrix",
    "mean_class_accuracy",
    "top_k_accuracy",
    "mmit_mean_average_precision",
    "mean_average_precision",
    "binary_precision_recall_curve",
)


@pytest.fixture(scope="module")
def mma() -> dict:
    return accuracy(*FUNCTIONS)


class _StableSortNumpy:
    """numpy, with ``argsort`` stable by default. numpy's default sort of float rows is a SIMD
    network that orders equal scores by the machine's instruction set, so MMAction2's top-k
    on ties varies between computers; with a stable sort its rule is "the higher index first",
    the rule ethoclip keeps everywhere."""

    def __getattr__(self, name: str) -> object:
        return getattr(np, name)

    @staticmethod
    def argsort(a: np.ndarray, axis: int = -1, kind: str | None = None) -> np.ndarray:
        return np.argsort(a, axis=axis, kind=kind or "stable")


@pytest.fixture(scope="module")
def mma_stable() -> dict:
    return accuracy("top_k_accuracy", np=_StableSortNumpy())


def single_label_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    cases = []
    for i in range(40):
        n, k = int(rng.integers(1, 60)), int(rng.integers(2, 12))
        scores = rng.random((n, k))
        if i % 3 == 1:
            scores = np.round(scores, 1)  # many ties
        if i % 3 == 2:
            scores = rng.integers(0, 3, (n, k)).astype(float)  # ties everywhere, whole rows
        labels = rng.integers(0, max(1, k - i % 4), n)  # the last classes often absent
        cases.append((f"random {i}", scores, labels))
    # The case that differed: labels 0 and 1, class 2 only predicted → (1 + 0 + 0) / 3.
    cases.append(
        ("predicted-only class", np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]]), np.array([0, 1]))
    )
    cases.append(("one sample", np.array([[0.2, 0.8]]), np.array([0])))
    cases.append(("all equal", np.zeros((5, 4)), np.array([0, 1, 2, 3, 3])))
    return cases


@pytest.mark.parametrize("case", single_label_cases(), ids=lambda c: c[0])
def test_single_label_metrics_equal_mmaction2s(
    case: tuple[str, np.ndarray, np.ndarray], mma: dict, mma_stable: dict
) -> None:
    _, scores, labels = case
    t_scores, t_labels = torch.from_numpy(scores), torch.from_numpy(labels)
    theirs = mma["mean_class_accuracy"](list(scores), list(labels))
    assert mean_class_accuracy(t_scores, t_labels) == pytest.approx(theirs, abs=1e-12)
    # torchmetrics' macro average is the same definition (the classes seen at all).
    macro = tmf.multiclass_accuracy(
        t_scores, t_labels, num_classes=scores.shape[1], average="macro"
    )
    assert float(macro) == pytest.approx(theirs, abs=1e-6)
    tied = any(len(set(row)) < len(row) for row in scores.tolist())
    for k in (1, 2, 3, 5):
        (top,) = (mma_stable if tied else mma)["top_k_accuracy"](list(scores), list(labels), (k,))
        assert top_k_accuracy(t_scores, t_labels, k) == pytest.approx(top, abs=1e-12), k


def test_mean_class_accuracy_counts_a_class_only_predicted_as_zero(mma: dict) -> None:
    scores = torch.tensor([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]])
    labels = torch.tensor([0, 1])
    # Class 0 right, class 1 missed (predicted 2), class 2 never a label: 1/3, not 1/2.
    assert mean_class_accuracy(scores, labels) == pytest.approx(1 / 3)
    assert mma["mean_class_accuracy"](list(scores.numpy()), [0, 1]) == pytest.approx(1 / 3)


def multi_label_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    cases = []
    for i in range(30):
        n, k = int(rng.integers(2, 50)), int(rng.integers(2, 10))
        scores = rng.random((n, k))
        if i % 2:
            scores = np.round(scores, 1)  # tied scores
        labels = (rng.random((n, k)) < 0.3).astype(np.int64)
        labels[rng.integers(0, n), :] = 1  # every case has at least one positive
        if i % 3 == 0:
            labels[:, -1] = 0  # a class without positives
        cases.append((f"random {i}", scores, labels))
    return cases


def _with_positive_rows(labels: np.ndarray) -> np.ndarray:
    return labels.any(axis=1)


@pytest.mark.parametrize("case", multi_label_cases(), ids=lambda c: c[0])
def test_multi_label_metrics_equal_mmaction2s(
    case: tuple[str, np.ndarray, np.ndarray], mma: dict
) -> None:
    _, scores, labels = case
    t_scores, t_labels = torch.from_numpy(scores), torch.from_numpy(labels).float()
    with np.errstate(all="ignore"):
        theirs = mma["mean_average_precision"](list(scores), list(labels))
    assert mean_average_precision(t_scores, t_labels) == pytest.approx(theirs, abs=1e-6)
    keep = _with_positive_rows(labels)
    with np.errstate(all="ignore"):
        theirs_mmit = mma["mmit_mean_average_precision"](list(scores[keep]), list(labels[keep]))
        theirs_all = mma["mmit_mean_average_precision"](list(scores), list(labels))
    ours_mmit = mmit_mean_average_precision(t_scores, t_labels)
    assert ours_mmit == pytest.approx(theirs_mmit, abs=1e-6)
    if keep.all():
        assert ours_mmit == pytest.approx(theirs_all, abs=1e-6)
    else:
        # A background row (no positive) makes MMAction2's MMIT mAP NaN; ethoclip leaves such
        # rows out (documented in evaluation/_metrics.py), which is MMAction2's value without them.
        assert math.isnan(theirs_all)


def test_mean_average_precision_skips_classes_without_positives(mma: dict) -> None:
    scores = np.array([[0.9, 0.1, 0.3], [0.2, 0.8, 0.3], [0.6, 0.7, 0.3]])
    labels = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    with np.errstate(all="ignore"):
        theirs = mma["mean_average_precision"](list(scores), list(labels))
    ours = mean_average_precision(torch.from_numpy(scores), torch.from_numpy(labels).float())
    assert ours == pytest.approx(theirs) == pytest.approx(1.0)  # class 2 has no positive: left out
    none = np.zeros_like(labels)
    with np.errstate(all="ignore"):
        assert math.isnan(mma["mean_average_precision"](list(scores), list(none)))
    assert math.isnan(mean_average_precision(torch.from_numpy(scores), torch.zeros(3, 3)))
