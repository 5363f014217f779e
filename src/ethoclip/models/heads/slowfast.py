"""MMAction2's SlowFastHead: pool each pathway, concatenate (fast first), dropout, linear."""

from __future__ import annotations

from typing import Any

import torch

from ...registry import config_error
from .._heads import BaseHead


class SlowFastHead(BaseHead):
    """Takes the (slow, fast) features of ResNet3dSlowFast; ``in_channels`` is their sum."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        spatial_type: str = "avg",
        dropout_ratio: float = 0.8,
        init_std: float = 0.01,
        **kwargs: Any,
    ) -> None:
        if spatial_type != "avg":
            raise config_error("spatial_type", f"must be 'avg' (got {spatial_type!r})")
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )

    def pool(self, x: Any, num_segs: int) -> torch.Tensor:
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError("SlowFastHead takes the (slow, fast) pair of ResNet3dSlowFast")
        slow, fast = (f.flatten(2).mean(2) for f in x)
        return torch.cat((fast, slow), dim=1)
