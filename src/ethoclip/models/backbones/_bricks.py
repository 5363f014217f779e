"""Building blocks shared by the CNN families, with MMAction2's (mmcv's) parameter names.

``ConvModule`` is conv → norm → activation with the children ``conv``, ``bn`` and ``activate``
(no parameters), so a checkpoint's ``conv1.conv.weight`` / ``conv1.bn.running_mean`` land
where MMAction2 keeps them. ``Wrapper`` marks modules that wrap another one under a fixed
attribute (``TemporalShift.net``, ``NL3DWrapper.block``): loading torchvision weights skips
those path segments, as MMAction2's loaders do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d, MaxPool3d

_CONVS: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: Conv3d}
_BNS: dict[int, type[nn.Module]] = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
# mmcv's norm names: BN/SyncBN follow the conv's dimension, BN1d/2d/3d fix it. SyncBN
# synchronises statistics across processes; on one process it is plain BN.
_BN_TYPES = {"BN": None, "SyncBN": None, "BN1d": 1, "BN2d": 2, "BN3d": 3}
_ACTS = {"ReLU": nn.ReLU, "ReLU6": nn.ReLU6}


def conv_dims(conv_cfg: Mapping[str, Any] | None, default: int) -> int:
    """The dimension a ``conv_cfg`` names (``Conv`` / ``Conv2d`` / ``Conv3d``)."""
    kind = (conv_cfg or {}).get("type", "Conv")
    dims = {"Conv": default, "Conv1d": 1, "Conv2d": 2, "Conv3d": 3}.get(kind)
    if dims is None:
        raise config_error(
            "conv_cfg", f"type must be Conv, Conv1d, Conv2d or Conv3d (got {kind!r})"
        )
    return dims


def make_norm(norm_cfg: Mapping[str, Any], channels: int, dims: int) -> nn.Module:
    kind = norm_cfg.get("type", "BN")
    if kind not in _BN_TYPES:
        raise config_error("norm_cfg", f"type must be one of {', '.join(_BN_TYPES)} (got {kind!r})")
    extra = set(norm_cfg) - {"type", "requires_grad", "eps", "momentum"}
    if extra:
        raise config_error(
            "norm_cfg", f"takes type, requires_grad, eps, momentum (got {sorted(extra)})"
        )
    norm = _BNS[_BN_TYPES[kind] or dims](
        channels, eps=norm_cfg.get("eps", 1e-5), momentum=norm_cfg.get("momentum", 0.1)
    )
    for param in norm.parameters():
        param.requires_grad = bool(norm_cfg.get("requires_grad", True))
    return norm


def make_conv(
    conv_cfg: Mapping[str, Any] | None,
    dims: int,
    in_channels: int,
    out_channels: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    bias: bool = True,
) -> nn.Module:
    """``conv_cfg`` → nn.Conv1d/2d/3d (``Conv`` takes ``dims``) or R(2+1)D's Conv2plus1d,
    whose one option, ``norm_cfg``, is its middle BN's (its other keys are errors, as here)."""
    cfg = dict(conv_cfg or {})
    if cfg.get("type") == "Conv2plus1d":
        from .resnet2plus1d import Conv2plus1d

        cfg.pop("type")
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
    kind_dims = conv_dims(cfg, dims)
    if set(cfg) - {"type"}:
        raise config_error("conv_cfg", f"{cfg['type']} takes no options here (got {set(cfg)})")
    return _CONVS[kind_dims](
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
    )


class ConvModule(nn.Module):
    """conv → BN → activation: mmcv's ConvModule for the configs MMAction2's models use, 2D and
    3D (``dims``; ``conv_cfg`` may name Conv1d/2d/3d or R(2+1)D's Conv2plus1d).

    ``bias='auto'`` (or None): a bias only without a norm (the norm's shift replaces it).
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
        bias: bool | str | None = "auto",
        dims: int = 2,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        with_bias = norm_cfg is None if bias in ("auto", None) else bool(bias)
        # the norm follows the conv's dimension
        plus1d = (conv_cfg or {}).get("type") == "Conv2plus1d"
        dims = 3 if plus1d else conv_dims(conv_cfg, dims)
        self.conv: nn.Module = make_conv(
            conv_cfg,
            dims,
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=with_bias,
        )
        self.with_norm = norm_cfg is not None
        self.bn = make_norm(norm_cfg, out_channels, dims) if norm_cfg is not None else None
        self.activate: nn.Module | None = None
        if act_cfg is not None:
            kind = act_cfg.get("type", "ReLU")
            if kind not in _ACTS:
                raise config_error("act_cfg", f"type must be ReLU or ReLU6 (got {kind!r})")
            self.activate = _ACTS[kind](inplace=bool(act_cfg.get("inplace", True)))
        # mmcv's own init: Kaiming (fan_out, ReLU) for the conv, BN weight 1 and bias 0
        # (Conv2plus1d initialises its own convs).
        weight = getattr(self.conv, "weight", None)
        if isinstance(weight, torch.Tensor):
            nn.init.kaiming_normal_(weight, mode="fan_out", nonlinearity="relu")
        bias_param = getattr(self.conv, "bias", None)
        if isinstance(bias_param, torch.Tensor):
            nn.init.zeros_(bias_param)

    @property
    def norm(self) -> nn.Module | None:
        return self.bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.activate is not None:
            x = self.activate(x)
        return x


class Wrapper(nn.Module):
    """A module that wraps another under ``wrapped`` (MMAction2's ``net``/``block``)."""

    wrapped: ClassVar[str] = "net"


def resnet_init(module: nn.Module, dims: int = 2) -> None:
    """MMAction2's ResNet init_cfg: Kaiming (fan_out) for the ``dims``-D convs (bias 0), 1 and 0
    for their BatchNorms (X3D's init is the same for 3D)."""
    for m in module.modules():
        layer: Any = m  # a conv or a norm of ``dims``: both have weight and bias
        if isinstance(m, _CONVS[dims]):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(m, _BNS[dims]):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)


class NonLocal3d(nn.Module):
    """mmcv's 3D non-local block (embedded Gaussian, Gaussian, dot product, concatenation).

    ``g``, ``theta``, ``phi`` are 1×1×1 convs to ``in_channels // reduction`` channels;
    ``conv_out`` maps back (with the configured norm) and the result is added to the input.
    """

    MODES = ("gaussian", "embedded_gaussian", "dot_product", "concatenation")

    def __init__(
        self,
        in_channels: int,
        sub_sample: bool = False,
        reduction: int = 2,
        use_scale: bool = True,
        norm_cfg: Mapping[str, Any] | None = None,
        mode: str = "embedded_gaussian",
        conv_cfg: Mapping[str, Any] | None = None,
        std: float = 0.01,
        zeros_init: bool = True,
    ) -> None:
        super().__init__()
        if mode not in self.MODES:
            raise config_error(
                "non_local_cfg.mode", f"must be one of {', '.join(self.MODES)} (got {mode!r})"
            )
        dims = conv_dims(conv_cfg or {"type": "Conv3d"}, 3)
        self.in_channels, self.mode, self.use_scale = in_channels, mode, use_scale
        self.inter_channels = max(in_channels // reduction, 1)
        self.sub_sample = sub_sample
        inter = self.inter_channels
        self.g: nn.Module = ConvModule(in_channels, inter, 1, dims=dims)
        self.conv_out = ConvModule(inter, in_channels, 1, dims=dims, norm_cfg=norm_cfg)
        if mode != "gaussian":
            self.theta: nn.Module = ConvModule(in_channels, inter, 1, dims=dims)
            self.phi: nn.Module = ConvModule(in_channels, inter, 1, dims=dims)
        if mode == "concatenation":
            self.concat_project = ConvModule(
                inter * 2, 1, 1, bias=False, act_cfg={"type": "ReLU"}, dims=2
            )
        convs = [self.g] if mode == "gaussian" else [self.g, self.theta, self.phi]
        for m in convs:
            nn.init.normal_(m.conv.weight, 0, std)  # type: ignore[union-attr, arg-type]
            nn.init.zeros_(m.conv.bias)  # type: ignore[union-attr, arg-type]
        out: Any = self.conv_out.bn if norm_cfg is not None else self.conv_out.conv
        if zeros_init:  # the block starts as the identity
            nn.init.zeros_(out.weight)
        else:
            nn.init.normal_(out.weight, 0, std)
        if getattr(out, "bias", None) is not None:
            nn.init.zeros_(out.bias)
        if sub_sample:  # max-pool the keys and values in space (not time)
            pool = MaxPool3d(kernel_size=(1, 2, 2))
            self.g = nn.Sequential(self.g, pool)
            self.phi = nn.Sequential(self.phi, pool) if mode != "gaussian" else pool

    def _pairwise(self, theta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        if self.mode == "concatenation":
            h, w = theta.size(2), phi.size(3)
            feature = torch.cat([theta.repeat(1, 1, 1, w), phi.repeat(1, 1, h, 1)], dim=1)
            weight = self.concat_project(feature)
            n, _, h, w = weight.shape
            return weight.view(n, h, w) / w
        weight = torch.matmul(theta, phi)
        if self.mode == "embedded_gaussian" and self.use_scale:
            weight = weight / theta.shape[-1] ** 0.5
        if self.mode == "dot_product":
            return weight / weight.shape[-1]
        return weight.softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        g = self.g(x).view(n, self.inter_channels, -1).permute(0, 2, 1)
        if self.mode == "gaussian":
            theta = x.view(n, self.in_channels, -1).permute(0, 2, 1)
            source = self.phi(x) if self.sub_sample else x
            phi = source.view(n, self.in_channels, -1)
        elif self.mode == "concatenation":
            theta = self.theta(x).view(n, self.inter_channels, -1, 1)
            phi = self.phi(x).view(n, self.inter_channels, 1, -1)
        else:
            theta = self.theta(x).view(n, self.inter_channels, -1).permute(0, 2, 1)
            phi = self.phi(x).view(n, self.inter_channels, -1)
        y = torch.matmul(self._pairwise(theta, phi), g)
        y = y.permute(0, 2, 1).contiguous().reshape(n, self.inter_channels, *x.shape[2:])
        return x + self.conv_out(y)
