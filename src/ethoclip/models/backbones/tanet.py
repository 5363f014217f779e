"""TANet: MMAction2's ``TANet`` — a ResNet whose bottlenecks carry a temporal adaptive module.

TAM (after each block's first conv) learns, from the frame-averaged features, a local
per-channel gate over time (``L``) and a global, sample-specific temporal kernel (``G``)
that is convolved along the segments. Keys are MMAction2's: ``layer1.0.block.conv1.…``,
``layer1.0.tam.G.0.weight``, ``layer1.0.tam.L.0.weight`` …
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import checkpoint as cp

from ...registry import config_error
from ._bricks import Wrapper
from .resnet import Bottleneck, ResNet


class TAM(nn.Module):
    def __init__(
        self,
        in_channels: int,
        num_segments: int,
        alpha: int = 2,
        adaptive_kernel_size: int = 3,
        beta: int = 4,
        conv1d_kernel_size: int = 3,
        adaptive_convolution_stride: int = 1,
        adaptive_convolution_padding: int = 1,
        init_std: float = 0.001,
    ) -> None:
        super().__init__()
        if alpha <= 0 or beta <= 0:
            raise config_error("tam_cfg", f"alpha and beta must be > 0 (got {alpha}, {beta})")
        self.in_channels, self.num_segments = in_channels, num_segments
        self.stride, self.padding = adaptive_convolution_stride, adaptive_convolution_padding
        self.G = nn.Sequential(
            nn.Linear(num_segments, num_segments * alpha, bias=False),
            nn.BatchNorm1d(num_segments * alpha),
            nn.ReLU(inplace=True),
            nn.Linear(num_segments * alpha, adaptive_kernel_size, bias=False),
            nn.Softmax(-1),
        )
        self.L = nn.Sequential(
            nn.Conv1d(
                in_channels,
                in_channels // beta,
                conv1d_kernel_size,
                stride=1,
                padding=conv1d_kernel_size // 2,
                bias=False,
            ),
            nn.BatchNorm1d(in_channels // beta),
            nn.ReLU(inplace=True),
            nn.Conv1d(in_channels // beta, in_channels, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        t = self.num_segments
        b = n // t
        x = x.view(b, t, c, h, w).permute(0, 2, 1, 3, 4).contiguous()  # (B, C, T, H, W)
        theta = F.adaptive_avg_pool2d(x.view(-1, t, h, w), (1, 1))  # (B·C, T, 1, 1)
        kernel = self.G(theta.view(-1, t)).view(b * c, 1, -1, 1)
        local = self.L(theta.view(-1, c, t)).view(b, c, t, 1, 1)
        y = F.conv2d(
            (x * local).view(1, b * c, t, h * w),
            kernel,
            bias=None,
            stride=(self.stride, 1),
            padding=(self.padding, 0),
            groups=b * c,
        )
        return y.view(b, c, t, h, w).permute(0, 2, 1, 3, 4).contiguous().view(n, c, h, w)


class TABlock(Wrapper):
    """A bottleneck with TAM between its first and second conv."""

    wrapped = "block"

    def __init__(self, block: nn.Module, num_segments: int, tam_cfg: Mapping[str, Any]) -> None:
        super().__init__()
        if not isinstance(block, Bottleneck):
            raise config_error("depth", "TANet needs bottleneck blocks (depth 50, 101 or 152)")
        self.block, self.num_segments = block, num_segments
        self.tam = TAM(block.conv1.conv.out_channels, num_segments, **tam_cfg)  # type: ignore[arg-type]

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        b = self.block
        identity = x if b.downsample is None else b.downsample(x)
        out = b.conv3(b.conv2(self.tam(b.conv1(x))))
        out += identity  # in place: the BN's output is not kept for its backward
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.block.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.block.relu(out)


class TANet(ResNet):
    def __init__(
        self,
        depth: int,
        num_segments: int,
        tam_cfg: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(depth, **kwargs)
        if not isinstance(num_segments, int) or num_segments < 3:
            raise config_error("num_segments", f"must be a whole number ≥ 3 (got {num_segments!r})")
        self.num_segments = num_segments
        self.tam_cfg = dict(tam_cfg or {})
        for name in self.res_layers:
            stage = getattr(self, name)
            for i, block in enumerate(stage):
                stage[i] = TABlock(block, num_segments, self.tam_cfg)
        self.init_pretrained()
