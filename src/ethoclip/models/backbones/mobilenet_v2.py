"""MMAction2's ``MobileNetV2`` (per frame), with its parameter names (``conv1.conv.weight``,
``layer1.0.conv.0.conv.weight`` …, ``conv2.bn.*``) and its ReLU6 inverted residuals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils import checkpoint as cp

from ...registry import config_error
from .._weights import state_dict_from
from ._bricks import ConvModule, conv_dims
from .resnet import load_mmaction


def make_divisible(
    value: float, divisor: int, min_value: int | None = None, min_ratio: float = 0.9
) -> int:
    """The nearest multiple of ``divisor`` to ``value``, not below ``min_ratio`` of it."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < min_ratio * value else new


class InvertedResidual(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        expand_ratio: float,
        dims: int = 2,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        with_cp: bool = False,
    ) -> None:
        super().__init__()
        self.stride, self.with_cp = stride, with_cp
        self.use_res_connect = stride == 1 and in_channels == out_channels
        hidden = round(in_channels * expand_ratio)
        common: dict[str, Any] = {"dims": dims, "norm_cfg": norm_cfg}
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvModule(in_channels, hidden, 1, act_cfg=act_cfg, **common))
        layers += [
            ConvModule(hidden, hidden, 3, stride, 1, groups=hidden, act_cfg=act_cfg, **common),
            ConvModule(hidden, out_channels, 1, act_cfg=None, **common),
        ]
        self.conv = nn.Sequential(*layers)

    def _inner(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._inner, x, use_reentrant=False)
        return self._inner(x)


class MobileNetV2(nn.Module):
    """(B, 3, H, W) → (B, 1280, H/32, W/32) with ``out_indices=(7,)`` (the final 1×1 conv)."""

    # expand ratio, channels, blocks, stride of the first block
    arch_settings = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )

    def __init__(
        self,
        pretrained: str | None = None,
        widen_factor: float = 1.0,
        out_indices: Sequence[int] = (7,),
        frozen_stages: int = -1,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        norm_eval: bool = False,
        with_cp: bool = False,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(8) for i in out_indices):
            raise config_error("out_indices", f"must be in 0…7 (got {out_indices})")
        if frozen_stages not in range(-1, 9):
            raise config_error("frozen_stages", f"must be -1…8 (got {frozen_stages})")
        if init_cfg is not None:
            raise config_error("init_cfg", "is not read by ethoclip; use pretrained= for weights")
        self.pretrained, self.widen_factor = pretrained, widen_factor
        self.out_indices, self.frozen_stages = out_indices, frozen_stages
        self.norm_eval, self.with_cp = norm_eval, with_cp
        self.dims = conv_dims(conv_cfg, 2)
        self.norm_cfg = dict(norm_cfg or {"type": "BN2d", "requires_grad": True})
        self.act_cfg = dict(act_cfg or {"type": "ReLU6", "inplace": True})
        self.in_channels = make_divisible(32 * widen_factor, 8)
        self.conv1 = self._conv(3, self.in_channels, 3, 2, 1)
        self.layers: list[str] = []
        for i, (expand, channels, blocks, stride) in enumerate(self.arch_settings):
            out = make_divisible(channels * widen_factor, 8)
            self.add_module(f"layer{i + 1}", self._make_layer(out, blocks, stride, expand))
            self.layers.append(f"layer{i + 1}")
        self.out_channel = int(1280 * widen_factor) if widen_factor > 1.0 else 1280
        self.conv2 = self._conv(self.in_channels, self.out_channel, 1, 1, 0)
        self.layers.append("conv2")
        self.out_channels = self.out_channel
        # MMAction2's init_cfg: Kaiming (fan_out) for Conv2d, 1 for BN.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if type(self) is MobileNetV2:
            self.init_pretrained()

    def _conv(self, cin: int, cout: int, k: int, s: int, p: int) -> ConvModule:
        return ConvModule(
            cin, cout, k, s, p, dims=self.dims, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg
        )

    def _make_layer(
        self, out_channels: int, blocks: int, stride: int, expand: float
    ) -> nn.Sequential:
        layers = []
        for i in range(blocks):
            layers.append(
                InvertedResidual(
                    self.in_channels,
                    out_channels,
                    stride if i == 0 else 1,
                    expand,
                    dims=self.dims,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg,
                    with_cp=self.with_cp,
                )
            )
            self.in_channels = out_channels
        return nn.Sequential(*layers)

    def init_pretrained(self) -> None:
        """MMAction2 (mmcls) MobileNetV2 weights: a file with these names (or ``backbone.*``)."""
        if self.pretrained:
            load_mmaction(self, state_dict_from(self.pretrained), source=self.pretrained)
            self.train(self.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def train(self, mode: bool = True) -> MobileNetV2:
        super().train(mode)
        if self.frozen_stages >= 0:
            self.conv1.eval()
            for param in self.conv1.parameters():
                param.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            layer = getattr(self, self.layers[i - 1])
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self
