"""Classification heads under MMAction2's names: pooling, dropout, one linear layer (``fc_cls``).

A head knows whether it is multi-label from its loss (BCE: sigmoid scores; CE: softmax). At
prediction, ``average_clips`` averages the views of a sample (crops × clips): ``'prob'``
averages *probabilities* — sigmoids for multi-label, never a softmax across behaviours that
can co-occur (MMAction2 applies a softmax there, mmaction2#1813); ``'score'`` averages raw
logits; ``None`` keeps one score per view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..registry import MODELS, config_error

AVERAGE_CLIPS = (None, "prob", "score")


class AvgConsensus(nn.Module):
    """The mean over the segment axis (TSN)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=self.dim, keepdim=True)


class BaseHead(nn.Module):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        loss_cls: Mapping[str, Any] | str | None = None,
        dropout_ratio: float = 0.0,
        init_std: float = 0.01,
        average_clips: str | None = None,
        multi_class: bool | None = None,
        label_smooth_eps: float = 0.0,
        topk: tuple[int, ...] = (1, 5),
    ) -> None:
        super().__init__()
        if not isinstance(num_classes, int) or num_classes < 1:
            raise config_error("num_classes", f"must be a whole number ≥ 1 (got {num_classes!r})")
        if not isinstance(in_channels, int) or in_channels < 1:
            raise config_error("in_channels", f"must be a whole number ≥ 1 (got {in_channels!r})")
        if average_clips not in AVERAGE_CLIPS:
            raise config_error(
                "average_clips", f"must be 'prob', 'score' or None (got {average_clips!r})"
            )
        if isinstance(loss_cls, str):  # the notes' form: loss_cls='BCELossWithLogits'
            loss_cls = {"type": loss_cls}
        self.loss_cls = MODELS.build(loss_cls or {"type": "CrossEntropyLoss"}, key="loss_cls")
        self.multi_label = bool(getattr(self.loss_cls, "multi_label", False))
        if multi_class is not None and multi_class != self.multi_label:
            raise config_error(
                "multi_class",
                f"is {multi_class}, but loss_cls {type(self.loss_cls).__name__} is "
                f"{'multi' if self.multi_label else 'single'}-label; use "
                f"{'BCELossWithLogits' if multi_class else 'CrossEntropyLoss'}",
            )
        if not 0 <= label_smooth_eps < 1:
            raise config_error("label_smooth_eps", f"must be in [0, 1) (got {label_smooth_eps})")
        self.num_classes, self.in_channels = num_classes, in_channels
        self.average_clips = average_clips
        self.label_smooth_eps = label_smooth_eps
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, 0.0, init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def pool(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        """Features (B, C, …) → (B, C)."""
        return x.flatten(2).mean(2) if x.dim() > 2 else x

    def forward(self, x: torch.Tensor, num_segs: int = 1) -> torch.Tensor:
        return self.fc_cls(self.dropout(self.pool(x, num_segs)))

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.label_smooth_eps:  # MMAction2: class ids become one-hot, then smoothed
            if target.dim() == 1 and not self.multi_label:
                target = nn.functional.one_hot(target, self.num_classes).to(logits.dtype)
            target = target * (1 - self.label_smooth_eps) + self.label_smooth_eps / self.num_classes
        return self.loss_cls(logits, target)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)

    def average_views(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, V, K) logits of V views → the sample's scores as ``average_clips`` says:
        probabilities (N, K) for 'prob', logits (N, K) for 'score', (N, V, K) for None."""
        if self.average_clips == "score":
            return logits.mean(1)
        if self.average_clips is None:
            return logits
        return self.probabilities(logits).mean(1)

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, V, K) logits of V views → (N, K) probabilities, one row per sample: what
        validation, ``test`` and ``predict`` all report. ``'score'`` averages the views' logits,
        then takes probabilities; ``'prob'`` and ``None`` average the views' probabilities. A
        head with another rule overrides this method."""
        if self.average_clips == "score":
            return self.probabilities(logits.mean(1))
        return self.probabilities(logits).mean(1)


class TSNHead(BaseHead):
    """TSN: spatial average pool per frame, segment consensus (mean), dropout, linear."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        spatial_type: str | None = "avg",
        consensus: Mapping[str, Any] | None = None,
        dropout_ratio: float = 0.4,
        init_std: float = 0.01,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
        if spatial_type not in ("avg", None):
            raise config_error("spatial_type", f"must be 'avg' or None (got {spatial_type!r})")
        consensus = dict(consensus or {"type": "AvgConsensus", "dim": 1})
        if consensus.get("type") != "AvgConsensus":
            raise config_error(
                "consensus", f"only AvgConsensus is supported, not {consensus.get('type')!r}"
            )
        self.consensus = AvgConsensus(int(consensus.get("dim", 1)))

    def pool(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        # (N·segs, C, h, w) → (N, segs, C) → mean over segments → (N, C)
        x = x.flatten(2).mean(2) if x.dim() > 2 else x
        return self.consensus(x.reshape(-1, num_segs, x.shape[-1])).squeeze(1)


class I3DHead(BaseHead):
    """3D CNNs: spatio-temporal average pool, dropout, linear. ``spatial_type=None`` flattens
    instead of pooling (C3D, whose backbone ends in linear layers)."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        spatial_type: str | None = "avg",
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        **kwargs: Any,
    ) -> None:
        if spatial_type not in ("avg", None):
            raise config_error("spatial_type", f"must be 'avg' or None (got {spatial_type!r})")
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
        self.spatial_type = spatial_type

    def pool(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        return super().pool(x, num_segs) if self.spatial_type == "avg" else x.flatten(1)


class TimeSformerHead(BaseHead):
    """Video transformers: dropout and a linear layer on the class (or pooled) token."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        init_std: float = 0.02,
        dropout_ratio: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )


class LinearHead(BaseHead):
    """Whatever the backbone gives, averaged over everything but channels; dropout; linear."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        dropout_ratio: float = 0.0,
        init_std: float = 0.01,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
