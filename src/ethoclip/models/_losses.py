"""Classification losses under MMAction2's names (``loss_cls=dict(type=…)`` or the bare name)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import config_error


class BCELossWithLogits(nn.Module):
    """Multi-label: a sigmoid per class + binary cross-entropy on multi-hot targets.

    ``class_weight`` weighs classes; ``pos_weight`` weighs a class's positives against its
    negatives (e.g. negatives/positives per class, for rare behaviours).
    """

    multi_label = True
    class_weight: torch.Tensor | None
    pos_weight: torch.Tensor | None

    def __init__(
        self,
        loss_weight: float = 1.0,
        class_weight: Sequence[float] | None = None,
        pos_weight: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.register_buffer(
            "class_weight", _vector(class_weight, "class_weight"), persistent=False
        )
        self.register_buffer("pos_weight", _vector(pos_weight, "pos_weight"), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = F.binary_cross_entropy_with_logits(
            logits, target.float(), weight=self.class_weight, pos_weight=self.pos_weight
        )
        return loss * self.loss_weight


class CrossEntropyLoss(nn.Module):
    """Single-label: softmax + cross-entropy on class ids (or soft targets)."""

    multi_label = False
    class_weight: torch.Tensor | None

    def __init__(
        self,
        loss_weight: float = 1.0,
        class_weight: Sequence[float] | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing
        self.register_buffer(
            "class_weight", _vector(class_weight, "class_weight"), persistent=False
        )

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.class_weight is not None and target.shape == logits.shape:
            # Soft targets (label smoothing, mixup) with class weights: MMAction2 divides by
            # the targets' total weight, Σ w·t, where torch divides by the batch size.
            terms = -(target * torch.log_softmax(logits, -1) * self.class_weight).sum()
            return terms / (self.class_weight * target).sum() * self.loss_weight
        loss = F.cross_entropy(
            logits, target, weight=self.class_weight, label_smoothing=self.label_smoothing
        )
        return loss * self.loss_weight


def _vector(values: Sequence[float] | None, name: str) -> torch.Tensor | None:
    if values is None:
        return None
    try:
        return torch.tensor([float(v) for v in values])
    except (TypeError, ValueError):
        raise config_error(
            name, f"must be a list of numbers, one per class (got {values!r})"
        ) from None
