"""MMCV's ConvModule (conv → BN → ReLU, named ``conv``, ``bn``, ``activate``) and the norm,
conv and init helpers of MMAction2's 3D CNNs, in plain PyTorch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...registry import config_error

Triple = tuple[int, int, int]

# MMAction2's norm types for 3D nets; SyncBN is BatchNorm3d here (one process; Lightning's
# sync_batchnorm turns it into SyncBatchNorm when training on several GPUs).
NORMS_3D = ("BN3d", "SyncBN")


def triple(value: int | Sequence[int]) -> Triple:
    if isinstance(value, int):
        return (value, value, value)
    t = tuple(int(v) for v in value)
    if len(t) != 3:
        raise config_error(None, f"expected 3 numbers (t, h, w), got {value!r}")
    return (t[0], t[1], t[2])


def build_norm(cfg: Mapping[str, Any] | None, channels: int) -> nn.BatchNorm3d:
    """``norm_cfg`` → a BatchNorm3d (``eps``, ``momentum``, ``requires_grad`` honoured)."""
    cfg = dict(cfg or {"type": "BN3d"})
    kind = cfg.pop("type", "BN3d")
    if kind not in NORMS_3D:
        raise config_error("norm_cfg", f"type must be one of {', '.join(NORMS_3D)} (got {kind!r})")
    requires_grad = bool(cfg.pop("requires_grad", True))
    unknown = set(cfg) - {"eps", "momentum"}
    if unknown:
        raise config_error("norm_cfg", f"takes type, eps, momentum, requires_grad (got {unknown})")
    norm = nn.BatchNorm3d(channels, **cfg)
    for p in norm.parameters():
        p.requires_grad = requires_grad
    return norm


def check_act(cfg: Mapping[str, Any] | None) -> None:
    if cfg is not None and cfg.get("type") != "ReLU":
        raise config_error("act_cfg", f"only ReLU is supported (got {cfg.get('type')!r})")


def kaiming(conv: Any) -> None:
    """MMEngine's ``kaiming_init``: normal, fan-out, ReLU gain; bias 0."""
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    if getattr(conv, "bias", None) is not None:
        nn.init.zeros_(conv.bias)


def constant(module: Any, value: float, bias: float = 0.0) -> None:
    if getattr(module, "weight", None) is not None:
        nn.init.constant_(module.weight, value)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def normal(module: Any, std: float) -> None:
    """MMEngine's ``normal_init``: weights N(0, std), bias 0."""
    nn.init.normal_(module.weight, 0.0, std)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)


def make_conv(
    conv_cfg: Mapping[str, Any] | None,
    in_channels: int,
    out_channels: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    groups: int,
    bias: bool,
) -> nn.Module:
    """``conv_cfg`` → nn.Conv3d or Conv2plus1d (its other keys go to the conv, as in MMCV)."""
    cfg = dict(conv_cfg or {"type": "Conv3d"})
    kind = cfg.pop("type", "Conv3d")
    if kind == "Conv3d":
        if cfg:
            raise config_error("conv_cfg", f"Conv3d takes no options here (got {set(cfg)})")
        return nn.Conv3d(
            in_channels,
            out_channels,
            triple(kernel_size),
            stride=triple(stride),
            padding=triple(padding),
            dilation=triple(dilation),
            groups=groups,
            bias=bias,
        )
    if kind == "Conv2plus1d":
        from .resnet2plus1d import Conv2plus1d

        unknown = set(cfg) - {"norm_cfg"}
        if unknown or groups != 1:
            raise config_error("conv_cfg", f"Conv2plus1d takes norm_cfg only (got {unknown})")
        return Conv2plus1d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=bias,
            **cfg,
        )
    raise config_error("conv_cfg", f"type must be 'Conv3d' or 'Conv2plus1d' (got {kind!r})")


class ConvModule(nn.Module):
    """conv → BN (optional) → ReLU (optional), named ``conv``, ``bn``, ``activate`` as MMCV's.

    ``bias=None`` is MMCV's 'auto': a bias only where no norm follows.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool | None = None,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        check_act(act_cfg)
        self.conv = make_conv(
            conv_cfg,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            norm_cfg is None if bias is None else bias,
        )
        self.with_norm = norm_cfg is not None
        self.bn = build_norm(norm_cfg, out_channels) if norm_cfg is not None else None
        self.activate = nn.ReLU(inplace=True) if act_cfg is not None else None
        if isinstance(self.conv, nn.Conv3d):  # Conv2plus1d initialises itself
            kaiming(self.conv)
        if self.bn is not None:
            constant(self.bn, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.activate is not None:
            x = self.activate(x)
        return x


def freeze(module: nn.Module) -> None:
    module.eval()
    for p in module.parameters():
        p.requires_grad = False
