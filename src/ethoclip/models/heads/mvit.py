"""MMAction2's ``MViTHead``: the last stage's class token (or its patch tokens' mean), dropout,
one linear layer (``fc_cls``)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._heads import BaseHead


class MViTHead(BaseHead):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        dropout_ratio: float = 0.5,
        init_std: float = 0.02,
        init_scale: float = 1.0,
        with_cls_token: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
        self.with_cls_token = with_cls_token
        # MMAction2: truncated normal, bias 0.02, both scaled by init_scale
        nn.init.trunc_normal_(self.fc_cls.weight, std=init_std)
        nn.init.constant_(self.fc_cls.bias, 0.02)
        with torch.no_grad():
            self.fc_cls.weight.mul_(init_scale)
            self.fc_cls.bias.mul_(init_scale)

    def pool(self, x: Any, num_segs: int) -> torch.Tensor:
        """MViT's output (a tuple of ``[patch tokens, class token]`` per stage) → (B, C)."""
        last = x[-1]
        if self.with_cls_token:
            return last[1]
        patches = last[0] if isinstance(last, (list, tuple)) else last
        return patches.mean(dim=(2, 3, 4))
