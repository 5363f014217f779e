"""C2D: MMAction2's ``C2D`` — a 2D ResNet applied to each frame of a clip, with two temporal
max-pools (none over time after the stem; by 2 after stage 1).

Input (B, C, T, H, W) as 3D models take it (``Recognizer3D``, ``I3DHead``); output
(B, 2048, T/2, H/32, W/32). Keys are MMAction2's ResNet keys (``conv1.conv.weight`` …).
"""

from __future__ import annotations

from typing import Any

import torch

from .._cpu3d import MaxPool3d
from .resnet import ResNet


class C2D(ResNet):
    def __init__(self, depth: int, **kwargs: Any) -> None:
        super().__init__(depth, **kwargs)
        self.init_pretrained()

    def _make_stem_layer(self) -> None:
        super()._make_stem_layer()
        del self.maxpool
        self.maxpool3d_1 = MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=0)
        self.maxpool3d_2 = MaxPool3d(kernel_size=(2, 1, 1), stride=(2, 1, 1), padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        batches = x.shape[0]

        def to_2d(x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) → (B·T, C, H, W)
            return x.permute(0, 2, 1, 3, 4).reshape(-1, *x.shape[1:2], *x.shape[3:])

        def to_3d(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(batches, -1, *x.shape[1:]).permute(0, 2, 1, 3, 4)

        x = to_2d(self.maxpool3d_1(to_3d(self.conv1(to_2d(x)))))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0:
                x = to_2d(self.maxpool3d_2(to_3d(x)))
            if i in self.out_indices:
                x = to_3d(x)
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)
