"""MMAction2's ``X3D`` (Feichtenhofer 2020): a 3D ResNet of depth-wise bottlenecks grown
from X3D-XS by width (``gamma_w``), bottleneck width (``gamma_b``) and depth (``gamma_d``),
with squeeze-excitation in every other block (``se_style='half'``) and Swish.

Names are MMAction2's (mmcv ``ConvModule``: ``conv`` + ``bn``): ``conv1_s``, ``conv1_t``,
``layerN.M.conv1/2/3``, ``se_module.fc1/fc2``, ``downsample``, ``conv5``. The output is the
(N, C, T, H/32, W/32) map, C = ``out_channels`` (432 for X3D-S/M).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d
from .._mma_init import load_pretrained_init
from ._bricks import ConvModule, resnet_init


def round_width(width: float, multiplier: float, min_width: int = 8, divisor: int = 8) -> int:
    """Scale a channel count and round it to a multiple of ``divisor`` (not below 90 %)."""
    if not multiplier:
        return int(width)
    width *= multiplier
    rounded = max(min_width, int(width + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * width:
        rounded += divisor
    return int(rounded)


def conv_module(
    cin: int,
    cout: int,
    kernel: int | tuple[int, int, int],
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] = 0,
    groups: int = 1,
    norm: bool = True,
    act: bool = True,
) -> ConvModule:
    """mmcv's ConvModule as X3D uses it: a 3D ``conv`` without bias, ``bn`` if normed, ReLU if
    activated (the norm's eps and momentum are set once the net is built)."""
    return ConvModule(
        cin,
        cout,
        kernel,
        stride,
        padding,
        groups=groups,
        bias=False,
        dims=3,
        norm_cfg={"type": "BN3d"} if norm else None,
        act_cfg={"type": "ReLU"} if act else None,
    )


class SEModule(nn.Module):
    """Squeeze-excitation: global pool, 1×1×1 down (rounded width), ReLU, up, sigmoid gate."""

    def __init__(self, channels: int, reduction: float) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        self.bottleneck = round_width(channels, reduction)
        self.fc1 = Conv3d(channels, self.bottleneck, 1)
        self.relu = nn.ReLU()
        self.fc2 = Conv3d(self.bottleneck, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))


class BlockX3D(nn.Module):
    """1×1×1 expand (BN, ReLU), depth-wise 3×3×3 (BN) [+ SE], Swish, 1×1×1 project (BN), add,
    ReLU. ``use_swish`` is taken as in MMAction2, which applies Swish either way."""

    def __init__(
        self,
        inplanes: int,
        planes: int,
        outplanes: int,
        spatial_stride: int = 1,
        downsample: nn.Module | None = None,
        se_ratio: float | None = None,
        use_swish: bool = True,
    ) -> None:
        super().__init__()
        self.se_ratio, self.use_swish = se_ratio, use_swish
        self.conv1 = conv_module(inplanes, planes, 1)
        self.conv2 = conv_module(
            planes, planes, 3, (1, spatial_stride, spatial_stride), 1, groups=planes, act=False
        )
        self.swish = nn.SiLU()  # Swish: x·σ(x)
        self.conv3 = conv_module(planes, outplanes, 1, act=False)
        if se_ratio is not None:
            self.se_module = SEModule(planes, se_ratio)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        if self.se_ratio is not None:
            out = self.se_module(out)
        out = self.conv3(self.swish(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


def _check_cfg(
    name: str, cfg: Mapping[str, Any], types: tuple[str, ...], extra: tuple[str, ...] = ()
) -> None:
    kind = cfg.get("type")
    if kind not in types:
        raise config_error(f"{name}.type", f"X3D here supports {' or '.join(types)} (got {kind!r})")
    unknown = sorted(set(cfg) - {"type", *extra})
    if unknown:
        raise config_error(name, f"takes {', '.join(extra) or 'only type'}, not {unknown}")


class X3D(nn.Module):
    """X3D with MMAction2's arguments; see the module doc."""

    base_channels_xs = 24
    stage_blocks_xs = (1, 2, 5, 3)

    def __init__(
        self,
        gamma_w: float = 1.0,
        gamma_b: float = 1.0,
        gamma_d: float = 1.0,
        pretrained: str | None = None,
        in_channels: int = 3,
        num_stages: int = 4,
        spatial_strides: Sequence[int] = (2, 2, 2, 2),
        frozen_stages: int = -1,
        se_style: str = "half",
        se_ratio: float | None = 1 / 16,
        use_swish: bool = True,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        norm_eval: bool = False,
        with_cp: bool = False,
        zero_init_residual: bool = True,
    ) -> None:
        super().__init__()
        norm_cfg = dict(norm_cfg or {"type": "BN3d"})
        _check_cfg("conv_cfg", conv_cfg or {"type": "Conv3d"}, ("Conv3d",))
        _check_cfg("norm_cfg", norm_cfg, ("BN3d", "SyncBN"), ("requires_grad", "eps", "momentum"))
        _check_cfg("act_cfg", act_cfg or {"type": "ReLU"}, ("ReLU",), ("inplace",))
        if not 1 <= num_stages <= 4:
            raise config_error("num_stages", f"must be 1 to 4 (got {num_stages})")
        if len(spatial_strides) != num_stages:
            raise config_error(
                "spatial_strides", f"needs {num_stages} values (got {list(spatial_strides)})"
            )
        if se_style not in ("all", "half"):
            raise config_error("se_style", f"must be 'all' or 'half' (got {se_style!r})")
        if se_ratio is not None and se_ratio <= 0:
            raise config_error("se_ratio", f"must be > 0 or None (got {se_ratio})")
        self.gamma_w, self.gamma_b, self.gamma_d = gamma_w, gamma_b, gamma_d
        self.pretrained = pretrained
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self.with_cp = with_cp
        self.base_channels = round_width(self.base_channels_xs, gamma_w)
        scaled = [math.ceil(gamma_d * b) if gamma_d else b for b in self.stage_blocks_xs]
        blocks = scaled[:num_stages]
        self.stage_blocks = blocks
        base = self.base_channels
        self.conv1_s = conv_module(
            in_channels, base, (1, 3, 3), (1, 2, 2), (0, 1, 1), norm=False, act=False
        )
        self.conv1_t = conv_module(base, base, (5, 1, 1), 1, (2, 0, 0), groups=base)
        self.res_layers: list[str] = []
        layer_inplanes = base
        for i, count in enumerate(blocks):
            inplanes = base * 2**i
            planes = int(inplanes * gamma_b)
            stride = spatial_strides[i]
            downsample = None
            if stride != 1 or layer_inplanes != inplanes:
                downsample = conv_module(
                    layer_inplanes, inplanes, 1, (1, stride, stride), act=False
                )
            layers = []
            for j in range(count):
                with_se = se_style == "all" or j % 2 == 0
                layers.append(
                    BlockX3D(
                        layer_inplanes if j == 0 else inplanes,
                        planes,
                        inplanes,
                        stride if j == 0 else 1,
                        downsample if j == 0 else None,
                        se_ratio if with_se else None,
                        use_swish,
                    )
                )
            layer_inplanes = inplanes
            self.add_module(f"layer{i + 1}", nn.Sequential(*layers))
            self.res_layers.append(f"layer{i + 1}")
        feat = base * 2 ** (len(blocks) - 1)
        self.conv5 = conv_module(feat, int(feat * gamma_b), 1)
        self.feat_dim = self.out_channels = int(feat * gamma_b)
        self._init(zero_init_residual)
        for m in self.modules():  # mmcv's build_norm_layer: eps, momentum, requires_grad
            if isinstance(m, nn.BatchNorm3d):
                if "eps" in norm_cfg:
                    m.eps = float(norm_cfg["eps"])
                if "momentum" in norm_cfg:
                    m.momentum = float(norm_cfg["momentum"])
                for p in m.parameters():
                    p.requires_grad = bool(norm_cfg.get("requires_grad", True))

    def _init(self, zero_init_residual: bool) -> None:
        if self.pretrained is not None and not isinstance(self.pretrained, str):
            raise config_error("pretrained", f"must be a file, a URL or None ({self.pretrained!r})")
        # MMAction2: without `pretrained`, Kaiming (fan_out, ReLU) convs, BN 1/0, and the last
        # BN of each block at 0 so a fresh block is the identity; with it, the checkpoint only.
        if self.pretrained:
            load_pretrained_init(self, self.pretrained, key="pretrained")
            return
        resnet_init(self, dims=3)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BlockX3D):
                    nn.init.zeros_(m.conv3.bn.weight)  # type: ignore[union-attr, arg-type]

    def _run(self, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            # recompute each block in the backward pass: less memory, more time
            from torch.utils.checkpoint import checkpoint

            for block in layer.children():
                x = checkpoint(block, x, use_reentrant=False)
            return x
        return layer(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1_t(self.conv1_s(x))
        for name in self.res_layers:
            x = self._run(self.get_submodule(name), x)
        return self.conv5(x)

    def train(self, mode: bool = True) -> X3D:
        super().train(mode)
        frozen: list[nn.Module] = []
        if self.frozen_stages >= 0:
            frozen += [self.conv1_s, self.conv1_t]
        frozen += [getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]
        for module in frozen:
            module.eval()
            for p in module.parameters():
                p.requires_grad = False
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self
