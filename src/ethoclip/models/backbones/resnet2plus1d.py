"""MMAction2's ResNet2Plus1d and its Conv2plus1d (Tran et al. 2018), in plain PyTorch.

Every t×d×d conv is a d×d spatial conv to M channels, BN, ReLU, then a t×1×1 temporal conv;
M = ⌊3·d²·Nᵢ₋₁·Nᵢ / (d²·Nᵢ₋₁ + 3·Nᵢ)⌋ — MMAction2 writes 3 for t whatever the kernel,
so shortcut convs (1×1×1) get the same rule. Names: ``conv_s``, ``bn_s``, ``conv_t``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d
from ._conv import build_norm, constant, kaiming, triple
from .resnet3d import ResNet3d, resnet3d_args


class Conv2plus1d(nn.Module):
    """A (2+1)D conv; ``dilation`` is accepted and, as in MMAction2, not applied."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        norm_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        k, s, p = triple(kernel_size), triple(stride), triple(padding)
        self.in_channels, self.out_channels = in_channels, out_channels
        mid = int(
            3
            * (in_channels * out_channels * k[1] * k[2])
            / (in_channels * k[1] * k[2] + 3 * out_channels)
        )
        self.conv_s = Conv3d(
            in_channels,
            mid,
            (1, k[1], k[2]),
            stride=(1, s[1], s[2]),
            padding=(0, p[1], p[2]),
            bias=bias,
        )
        self.bn_s = build_norm(norm_cfg or {"type": "BN3d"}, mid)
        self.relu = nn.ReLU(inplace=True)
        self.conv_t = Conv3d(
            mid, out_channels, (k[0], 1, 1), stride=(s[0], 1, 1), padding=(p[0], 0, 0), bias=bias
        )
        kaiming(self.conv_s)
        kaiming(self.conv_t)
        constant(self.bn_s, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_t(self.relu(self.bn_s(self.conv_s(x))))


class ResNet2Plus1d(ResNet3d):
    """R(2+1)D: a ResNet3d whose convs are Conv2plus1d (``conv_cfg=dict(type='Conv2plus1d')``);
    no pool after the first stage whatever ``with_pool2`` says, as MMAction2's forward."""

    def __init__(self, **kwargs: Any) -> None:
        nn.Module.__init__(self)
        args = resnet3d_args(kwargs, {})
        if args["pretrained2d"] is not False:
            raise config_error("pretrained2d", "must be False: R(2+1)D has no 2D counterpart")
        if (args["conv_cfg"] or {}).get("type") != "Conv2plus1d":
            raise config_error("conv_cfg", "must be dict(type='Conv2plus1d') for ResNet2Plus1d")
        self._build(args)
        self.init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        for name in self.res_layers:
            x = getattr(self, name)(x)
        return x
