"""MMAction2's ``X3DHead``: global pool, ``fc1`` to 2048, ReLU, dropout, ``fc2`` to the
classes. Scores from logits are ``BaseHead``'s (sigmoids for multi-label heads)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._heads import BaseHead


class X3DHead(BaseHead):
    """X3D's two-layer head (MMAction2's names: ``fc1``, ``fc2``; no ``fc_cls``)."""

    mid_channels = 2048

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        spatial_type: str = "avg",
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        fc1_bias: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
        if spatial_type not in ("avg", "max"):
            raise config_error("spatial_type", f"must be 'avg' or 'max' (got {spatial_type!r})")
        del self.fc_cls  # BaseHead's single layer; X3D has two
        self.spatial_type = spatial_type
        self.fc1 = nn.Linear(in_channels, self.mid_channels, bias=fc1_bias)
        self.fc2 = nn.Linear(self.mid_channels, num_classes)
        self.relu = nn.ReLU()
        self.pool_layer = (
            nn.AdaptiveAvgPool3d(1) if spatial_type == "avg" else nn.AdaptiveMaxPool3d(1)
        )
        for fc in (self.fc1, self.fc2):  # mmengine's normal_init: N(0, init_std), bias 0
            nn.init.normal_(fc.weight, 0.0, init_std)
            if fc.bias is not None:
                nn.init.zeros_(fc.bias)

    def pool(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        return self.pool_layer(x).flatten(1) if x.dim() == 5 else x

    def forward(self, x: torch.Tensor, num_segs: int = 1) -> torch.Tensor:
        x = self.relu(self.fc1(self.pool(x, num_segs)))
        return self.fc2(self.dropout(x))
