"""MMAction2's ``UniFormerHead`` (UniFormerV2): dropout and ``fc_cls`` on the backbone's clip
feature, truncated-normal initialised; it can start from a Kinetics-710 head, keeping the rows
a ``channel_map`` (a JSON list of class indices) names.

Scores from logits are ``BaseHead``'s: a multi-label head gives sigmoids, never a softmax.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._heads import BaseHead
from .._mma_init import load_pretrained_init, pretrained_init_cfg


class UniFormerHead(BaseHead):
    """Dropout + linear on (N, C) features; ``init_cfg`` Pretrained + ``channel_map`` loads a
    bigger head's rows (MMAction2's fine-tuning from Kinetics-710)."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        dropout_ratio: float = 0.0,
        channel_map: str | None = None,
        init_cfg: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(num_classes, in_channels, dropout_ratio=dropout_ratio, **kwargs)
        self.channel_map = channel_map
        nn.init.trunc_normal_(self.fc_cls.weight, mean=0.0, std=0.02, a=-2.0, b=2.0)
        nn.init.zeros_(self.fc_cls.bias)
        if isinstance(init_cfg, Mapping) and init_cfg.get("type") == "TruncNormal":
            return  # MMAction2's default written out: done above
        checkpoint = pretrained_init_cfg(init_cfg)
        if checkpoint is None:
            return
        if channel_map is None:
            raise config_error(
                "channel_map",
                "a Pretrained init_cfg needs the channel map (JSON list of the checkpoint's class "
                "indices, one per class here); or set init_cfg=None",
            )
        rows = self._rows(channel_map)
        load_pretrained_init(
            self,
            checkpoint[0],
            checkpoint[1] or "cls_head.",
            transform=lambda state: {k: v[rows] for k, v in state.items()},
        )

    def _rows(self, channel_map: str) -> torch.Tensor:
        path = Path(channel_map)
        try:
            rows = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise config_error(
                "channel_map",
                f"{channel_map}: cannot read a JSON list of class indices ({exc}); MMAction2 ships "
                "them in its repository (configs/recognition/uniformerv2/k710_channel_map/), not "
                "in the wheel",
            ) from None
        if (
            not isinstance(rows, list)
            or len(rows) != self.num_classes
            or not all(isinstance(r, int) for r in rows)
        ):
            raise config_error(
                "channel_map",
                f"{channel_map}: must list {self.num_classes} class indices (one per class)",
            )
        return torch.tensor(rows)
