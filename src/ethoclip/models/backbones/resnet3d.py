"""MMAction2's ResNet3d (I3D and the base of SlowOnly, SlowFast, CSN, R(2+1)D), in plain PyTorch.

Parameter names are MMAction2's, so its checkpoints load without renaming: every conv is a
``ConvModule`` (``conv``, ``bn``, ``activate``), stages are ``layer1…layer4`` of blocks whose
convs are ``conv1…conv3``, shortcuts ``downsample.conv/bn``, non-local blocks
``non_local_block.{g,theta,phi,conv_out}``. Initialisation follows MMAction2: each conv module
initialises itself (Kaiming, fan-out; BN 1/0), a non-local block its own way (normal 0.01, the
output BN zero); then, without ``pretrained``, every Conv3d again (Kaiming) and every BN to 1/0,
the last BN of each block to 0 with ``zero_init_residual``. With ``pretrained`` and
``pretrained2d`` a 2D ResNet's weights are inflated into the 3D kernels
(:func:`inflate_2d_weights`); without ``pretrained2d`` it is a 3D checkpoint of this backbone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.utils.checkpoint
from torch import nn

from ...registry import config_error
from .._weights import load_into, state_dict_from

log = logging.getLogger(__name__)

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


class NonLocal3d(nn.Module):
    """Non-local block (Wang et al. 2018) as MMCV's NonLocal3d: ``x + conv_out(attention)``.

    ``mode``: 'embedded_gaussian' (softmax of θᵀφ, scaled by 1/√C' with ``use_scale``),
    'dot_product' (θᵀφ / positions), 'gaussian' (softmax of xᵀx, no θ/φ convs).
    ``sub_sample`` max-pools g and φ 2× in space. ``std``/``zeros_init``: the block's own init.
    """

    MODES = ("embedded_gaussian", "dot_product", "gaussian")

    def __init__(
        self,
        in_channels: int,
        reduction: int = 2,
        use_scale: bool = True,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        mode: str = "embedded_gaussian",
        sub_sample: bool = False,
        std: float = 0.01,
        zeros_init: bool = True,
    ) -> None:
        super().__init__()
        if mode not in self.MODES:
            raise config_error(
                "non_local_cfg.mode", f"must be one of {', '.join(self.MODES)} (got {mode!r})"
            )
        conv_cfg = conv_cfg or {"type": "Conv3d"}
        self.in_channels, self.mode, self.use_scale = in_channels, mode, use_scale
        self.inter_channels = max(in_channels // reduction, 1)
        c, ci = in_channels, self.inter_channels
        g = ConvModule(c, ci, 1, conv_cfg=conv_cfg)
        self.conv_out = ConvModule(ci, c, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        pool = nn.MaxPool3d(kernel_size=(1, 2, 2))
        # MMCV wraps the sub-sampled convs in a Sequential (keys g.0.conv.*, phi.0.conv.*)
        self.g: nn.Module = nn.Sequential(g, pool) if sub_sample else g
        self.phi: nn.Module | None = None
        self.theta: nn.Module | None = None
        if mode != "gaussian":
            self.theta = ConvModule(c, ci, 1, conv_cfg=conv_cfg)
            phi = ConvModule(c, ci, 1, conv_cfg=conv_cfg)
            self.phi = nn.Sequential(phi, pool) if sub_sample else phi
        elif sub_sample:
            self.phi = pool
        convs: list[ConvModule] = [g] if self.theta is None else [g, self.theta, phi]
        for m in convs:
            normal(m.conv, std)
        last = self.conv_out.bn if self.conv_out.bn is not None else self.conv_out.conv
        if zeros_init:
            constant(last, 0.0)
        else:
            normal(last, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, ci = x.shape[0], self.inter_channels
        g_x = self.g(x).view(n, ci, -1).permute(0, 2, 1)
        if self.mode == "gaussian":
            theta_x = x.view(n, self.in_channels, -1).permute(0, 2, 1)
            source = self.phi(x) if self.phi is not None else x
            phi_x = source.reshape(n, self.in_channels, -1)
        else:
            assert self.theta is not None and self.phi is not None
            theta_x = self.theta(x).view(n, ci, -1).permute(0, 2, 1)
            phi_x = self.phi(x).view(n, ci, -1)
        pairwise = torch.matmul(theta_x, phi_x)
        if self.mode == "dot_product":
            pairwise = pairwise / pairwise.shape[-1]
        else:
            if self.mode == "embedded_gaussian" and self.use_scale:
                pairwise = pairwise / theta_x.shape[-1] ** 0.5
            pairwise = pairwise.softmax(dim=-1)
        y = torch.matmul(pairwise, g_x).permute(0, 2, 1).contiguous()
        return x + self.conv_out(y.reshape(n, ci, *x.shape[2:]))


class BasicBlock3d(nn.Module):
    """Two 3×3(×3) convs (ResNet-18/34); ``inflate`` gives the 3D kernels, else 1×3×3."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        spatial_stride: int = 1,
        temporal_stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
        style: str = "pytorch",
        inflate: bool = True,
        inflate_style: str = "3x1x1",
        non_local: bool = False,
        non_local_cfg: Mapping[str, Any] | None = None,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        with_cp: bool = False,
    ) -> None:
        super().__init__()
        kt, pt = (3, 1) if inflate else (1, 0)
        common: dict[str, Any] = {"conv_cfg": conv_cfg, "norm_cfg": norm_cfg, "bias": False}
        self.conv1 = ConvModule(
            inplanes,
            planes,
            (kt, 3, 3),
            stride=(temporal_stride, spatial_stride, spatial_stride),
            padding=(pt, dilation, dilation),
            dilation=(1, dilation, dilation),
            act_cfg=act_cfg,
            **common,
        )
        self.conv2: nn.Module = ConvModule(
            planes, planes * self.expansion, (kt, 3, 3), padding=(pt, 1, 1), **common
        )
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp
        if non_local:
            self.non_local_block = NonLocal3d(planes * self.expansion, **(non_local_cfg or {}))
        self.non_local = non_local

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))

    def _inner(self, x: torch.Tensor) -> torch.Tensor:
        identity = self.downsample(x) if self.downsample is not None else x
        return self.residual(x) + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = torch.utils.checkpoint.checkpoint(self._inner, x, use_reentrant=False)
        else:
            out = self._inner(x)
        out = self.relu(out)
        return self.non_local_block(out) if self.non_local else out

    def last_norm(self) -> nn.Module | None:
        bn: nn.Module | None = getattr(self.conv2, "bn", None)
        return bn


class Bottleneck3d(BasicBlock3d):
    """1×1 → 3×3 → 1×1 (ResNet-50+). ``inflate_style`` '3x1x1' puts the temporal kernel in the
    first conv, '3x3x3' in the second; ``style`` 'pytorch' strides in the 3×3, 'caffe' in the
    first conv."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        spatial_stride: int = 1,
        temporal_stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
        style: str = "pytorch",
        inflate: bool = True,
        inflate_style: str = "3x1x1",
        non_local: bool = False,
        non_local_cfg: Mapping[str, Any] | None = None,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        with_cp: bool = False,
    ) -> None:
        nn.Module.__init__(self)
        if inflate_style not in ("3x1x1", "3x3x3"):
            raise config_error(
                "inflate_style", f"must be '3x1x1' or '3x3x3' (got {inflate_style!r})"
            )
        s1, t1, s2, t2 = (
            (1, 1, spatial_stride, temporal_stride)
            if style == "pytorch"
            else (spatial_stride, temporal_stride, 1, 1)
        )
        if inflate and inflate_style == "3x1x1":
            k1, p1, k2, p2 = (3, 1, 1), (1, 0, 0), (1, 3, 3), (0, dilation, dilation)
        elif inflate:
            k1, p1, k2, p2 = (1, 1, 1), (0, 0, 0), (3, 3, 3), (1, dilation, dilation)
        else:
            k1, p1, k2, p2 = (1, 1, 1), (0, 0, 0), (1, 3, 3), (0, dilation, dilation)
        common: dict[str, Any] = {"conv_cfg": conv_cfg, "norm_cfg": norm_cfg, "bias": False}
        self.conv1 = ConvModule(
            inplanes, planes, k1, stride=(t1, s1, s1), padding=p1, act_cfg=act_cfg, **common
        )
        self.conv2 = ConvModule(
            planes,
            planes,
            k2,
            stride=(t2, s2, s2),
            padding=p2,
            dilation=(1, dilation, dilation),
            act_cfg=act_cfg,
            **common,
        )
        self.conv3 = ConvModule(planes, planes * self.expansion, 1, **common)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp
        if non_local:
            self.non_local_block = NonLocal3d(planes * self.expansion, **(non_local_cfg or {}))
        self.non_local = non_local

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x)))

    def last_norm(self) -> nn.Module | None:
        return self.conv3.bn


def _per_block(value: int | Sequence[int], blocks: int, name: str) -> tuple[int, ...]:
    out = (value,) * blocks if isinstance(value, int) else tuple(value)
    if len(out) != blocks:
        raise config_error(
            name, f"needs one value per block of the stage ({blocks}), got {value!r}"
        )
    return out


def make_res_layer(
    block: type[BasicBlock3d],
    inplanes: int,
    planes: int,
    blocks: int,
    *,
    spatial_stride: int = 1,
    temporal_stride: int = 1,
    dilation: int = 1,
    inflate: int | Sequence[int] = 1,
    non_local: int | Sequence[int] = 0,
    norm_cfg: Mapping[str, Any] | None = None,
    conv_cfg: Mapping[str, Any] | None = None,
    **block_args: Any,
) -> nn.Sequential:
    """One stage: the first block strides (and gets the shortcut conv), the others do not."""
    inflates = _per_block(inflate, blocks, "inflate")
    non_locals = _per_block(non_local, blocks, "non_local")
    downsample = None
    if spatial_stride != 1 or inplanes != planes * block.expansion:
        downsample = ConvModule(
            inplanes,
            planes * block.expansion,
            1,
            stride=(temporal_stride, spatial_stride, spatial_stride),
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
        )
    layers = []
    for i in range(blocks):
        layers.append(
            block(
                inplanes if i == 0 else planes * block.expansion,
                planes,
                spatial_stride=spatial_stride if i == 0 else 1,
                temporal_stride=temporal_stride if i == 0 else 1,
                dilation=dilation,
                downsample=downsample if i == 0 else None,
                inflate=inflates[i] == 1,
                non_local=non_locals[i] == 1,
                norm_cfg=norm_cfg,
                conv_cfg=conv_cfg,
                **block_args,
            )
        )
    return nn.Sequential(*layers)


def _ntuple(value: int | Sequence[Any], n: int) -> tuple[Any, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def freeze(module: nn.Module) -> None:
    module.eval()
    for p in module.parameters():
        p.requires_grad = False


class ResNet3d(nn.Module):
    """MMAction2's ResNet3d: an inflated ResNet (I3D with ``conv1_kernel=(5, 7, 7)``, 2× time
    strides and the configured ``inflate`` pattern). (B, C, T, H, W) → (B, feat, t, h, w)."""

    mmaction2_names = True  # MMAction2's checkpoints load as they are

    arch_settings: ClassVar[dict[int, tuple[type[BasicBlock3d], tuple[int, ...]]]] = {
        18: (BasicBlock3d, (2, 2, 2, 2)),
        34: (BasicBlock3d, (3, 4, 6, 3)),
        50: (Bottleneck3d, (3, 4, 6, 3)),
        101: (Bottleneck3d, (3, 4, 23, 3)),
        152: (Bottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(
        self,
        depth: int = 50,
        pretrained: str | None = None,
        stage_blocks: Sequence[int] | None = None,
        pretrained2d: bool = True,
        in_channels: int = 3,
        num_stages: int = 4,
        base_channels: int = 64,
        out_indices: Sequence[int] = (3,),
        spatial_strides: Sequence[int] = (1, 2, 2, 2),
        temporal_strides: Sequence[int] = (1, 1, 1, 1),
        dilations: Sequence[int] = (1, 1, 1, 1),
        conv1_kernel: Sequence[int] = (3, 7, 7),
        conv1_stride_s: int = 2,
        conv1_stride_t: int = 1,
        pool1_stride_s: int = 2,
        pool1_stride_t: int = 1,
        with_pool1: bool = True,
        with_pool2: bool = True,
        style: str = "pytorch",
        frozen_stages: int = -1,
        inflate: Sequence[Any] | int = (1, 1, 1, 1),
        inflate_style: str = "3x1x1",
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        norm_eval: bool = False,
        with_cp: bool = False,
        non_local: Sequence[Any] | int = (0, 0, 0, 0),
        non_local_cfg: Mapping[str, Any] | None = None,
        zero_init_residual: bool = True,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        self._build(locals())
        self.init_weights()

    def _build(
        self, args: Mapping[str, Any], lateral_inplanes: Sequence[int] = (0, 0, 0, 0)
    ) -> None:
        a = dict(args)
        depth, num_stages = a["depth"], a["num_stages"]
        archs = self.arch_settings
        if depth not in archs:
            raise config_error(
                "depth", f"must be one of {', '.join(map(str, archs))} (got {depth})"
            )
        if not 1 <= num_stages <= 4:
            raise config_error("num_stages", f"must be 1…4 (got {num_stages})")
        for name in ("spatial_strides", "temporal_strides", "dilations"):
            if len(a[name]) != num_stages:
                raise config_error(name, f"needs {num_stages} values (got {a[name]!r})")
        if max(a["out_indices"]) >= num_stages:
            raise config_error("out_indices", f"must be below num_stages {num_stages}")
        if a["style"] not in ("pytorch", "caffe"):
            raise config_error("style", f"must be 'pytorch' or 'caffe' (got {a['style']!r})")
        if a["init_cfg"] is not None:
            raise config_error("init_cfg", "is not supported; use pretrained")
        if a["pretrained"] is not None and not isinstance(a["pretrained"], str):
            raise config_error(
                "pretrained", f"must be a path/URL or None (got {a['pretrained']!r})"
            )
        self.block, default_blocks = archs[depth]
        blocks = (
            tuple(a["stage_blocks"])
            if a["stage_blocks"] is not None
            else default_blocks[:num_stages]
        )
        if len(blocks) != num_stages:
            raise config_error("stage_blocks", f"needs {num_stages} values (got {blocks!r})")
        self.depth, self.pretrained, self.pretrained2d = depth, a["pretrained"], a["pretrained2d"]
        self.in_channels, self.base_channels = a["in_channels"], a["base_channels"]
        self.num_stages, self.stage_blocks, self.out_indices = (
            num_stages,
            blocks,
            tuple(a["out_indices"]),
        )
        self.conv1_kernel = triple(a["conv1_kernel"])
        self.with_pool1, self.with_pool2 = a["with_pool1"], a["with_pool2"]
        self.frozen_stages, self.norm_eval = a["frozen_stages"], a["norm_eval"]
        self.zero_init_residual = a["zero_init_residual"]
        self.conv_cfg = dict(a["conv_cfg"] or {"type": "Conv3d"})
        self.norm_cfg = dict(a["norm_cfg"] or {"type": "BN3d", "requires_grad": True})
        self.act_cfg = dict(a["act_cfg"] or {"type": "ReLU", "inplace": True})
        check_act(self.act_cfg)
        inflates = _ntuple(a["inflate"], num_stages)
        non_locals = _ntuple(a["non_local"], num_stages)

        self.conv1 = ConvModule(
            self.in_channels,
            self.base_channels,
            self.conv1_kernel,
            stride=(a["conv1_stride_t"], a["conv1_stride_s"], a["conv1_stride_s"]),
            padding=tuple((k - 1) // 2 for k in self.conv1_kernel),
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        self.maxpool = nn.MaxPool3d(
            (1, 3, 3),
            stride=(a["pool1_stride_t"], a["pool1_stride_s"], a["pool1_stride_s"]),
            padding=(0, 1, 1),
        )
        self.pool2 = nn.MaxPool3d((2, 1, 1), stride=(2, 1, 1))
        self.res_layers: list[str] = []
        inplanes = self.base_channels
        for i, num_blocks in enumerate(blocks):
            planes = self.base_channels * 2**i
            layer = make_res_layer(
                self.block,
                inplanes + lateral_inplanes[i],
                planes,
                num_blocks,
                spatial_stride=a["spatial_strides"][i],
                temporal_stride=a["temporal_strides"][i],
                dilation=a["dilations"][i],
                inflate=inflates[i],
                non_local=non_locals[i],
                non_local_cfg=a["non_local_cfg"],
                style=a["style"],
                inflate_style=a["inflate_style"],
                norm_cfg=self.norm_cfg,
                conv_cfg=self.conv_cfg,
                act_cfg=self.act_cfg,
                with_cp=a["with_cp"],
                **self.block_args_from(a),
            )
            inplanes = planes * self.block.expansion
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")
        self.feat_dim = self.block.expansion * self.base_channels * 2 ** (len(blocks) - 1)
        self.out_channels = self.feat_dim

    def block_args_from(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Extra block arguments of a subclass (CSN's ``bottleneck_mode``)."""
        return {}

    def init_weights(self) -> None:
        """MMAction2's order: from scratch, inflate a 2D ResNet, or load a 3D checkpoint."""
        if self.pretrained is None:
            self.init_from_scratch()
        elif self.pretrained2d:
            inflate_2d_weights(self, state_dict_from(self.pretrained), source=self.pretrained)
        else:
            load_3d_weights(self, self.pretrained)
        self.train(self.training)  # frozen stages are frozen from the start

    def init_from_scratch(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming(m)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                constant(m, 1.0)
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock3d) and (bn := m.last_norm()) is not None:
                    constant(bn, 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        if self.with_pool1:
            x = self.maxpool(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0 and self.with_pool2:
                x = self.pool2(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 0:
            return []
        return [self.conv1, *[getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]]

    def train(self, mode: bool = True) -> ResNet3d:
        super().train(mode)
        for m in self.frozen_modules():
            freeze(m)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


class ResNet3dLayer(nn.Module):
    """One ResNet3d stage on its own (``stage`` 0…3, named ``layer{stage+1}``), as MMAction2's
    ResNet3dLayer (the ROI heads of its detectors use it)."""

    mmaction2_names = True  # MMAction2's checkpoints load as they are

    def __init__(
        self,
        depth: int,
        pretrained: str | None = None,
        pretrained2d: bool = True,
        stage: int = 3,
        base_channels: int = 64,
        spatial_stride: int = 2,
        temporal_stride: int = 1,
        dilation: int = 1,
        style: str = "pytorch",
        all_frozen: bool = False,
        inflate: int = 1,
        inflate_style: str = "3x1x1",
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        norm_eval: bool = False,
        with_cp: bool = False,
        zero_init_residual: bool = True,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        if depth not in ResNet3d.arch_settings:
            raise config_error("depth", f"must be one of 18, 34, 50, 101, 152 (got {depth})")
        if not 0 <= stage <= 3:
            raise config_error("stage", f"must be 0…3 (got {stage})")
        if init_cfg is not None:
            raise config_error("init_cfg", "is not supported; use pretrained")
        self.block, blocks = ResNet3d.arch_settings[depth]
        self.pretrained, self.pretrained2d = pretrained, pretrained2d
        self.all_frozen, self.norm_eval = all_frozen, norm_eval
        self.zero_init_residual = zero_init_residual
        conv_cfg = dict(conv_cfg or {"type": "Conv3d"})
        norm_cfg = dict(norm_cfg or {"type": "BN3d", "requires_grad": True})
        act_cfg = dict(act_cfg or {"type": "ReLU", "inplace": True})
        # MMAction2 sizes the stage from 64 channels whatever base_channels says.
        planes = 64 * 2**stage
        inplanes = 64 * 2 ** (stage - 1) * self.block.expansion
        self.layer_name = f"layer{stage + 1}"
        self.add_module(
            self.layer_name,
            make_res_layer(
                self.block,
                inplanes,
                planes,
                blocks[stage],
                spatial_stride=spatial_stride,
                temporal_stride=temporal_stride,
                dilation=dilation,
                inflate=inflate,
                style=style,
                inflate_style=inflate_style,
                norm_cfg=norm_cfg,
                conv_cfg=conv_cfg,
                act_cfg=act_cfg,
                with_cp=with_cp,
            ),
        )
        self.out_channels = planes * self.block.expansion
        ResNet3d.init_weights(self)  # type: ignore[arg-type]

    init_from_scratch = ResNet3d.init_from_scratch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.layer_name)(x)

    def train(self, mode: bool = True) -> ResNet3dLayer:
        super().train(mode)
        if self.all_frozen:
            freeze(getattr(self, self.layer_name))
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


def _2d_names(name: str) -> tuple[str, str]:
    """A ConvModule's name → its conv's and BN's names in a torchvision-style 2D ResNet:
    ``layer1.0.conv1`` → ``layer1.0.conv1`` / ``layer1.0.bn1``; ``conv1`` → ``conv1`` / ``bn1``;
    ``…downsample`` → ``…downsample.0`` / ``…downsample.1``."""
    if "downsample" in name:
        return name + ".0", name + ".1"
    return name, name.replace("conv", "bn")


def inflate_2d_weights(
    model: nn.Module,
    state_2d: Mapping[str, torch.Tensor],
    *,
    source: str,
    skip: tuple[str, ...] = (),
    pad_in_channels: bool = False,
) -> list[str]:
    """Copy a 2D ResNet's weights into the 3D one, as MMAction2's ``inflate_weights`` does.

    Each conv kernel is repeated along time and divided by the temporal kernel size (so a
    still clip gives the 2D net's activations); BN parameters and statistics are copied.
    A conv whose 2D kernel has another shape (a flow net's first conv) keeps its init, as does
    everything the 2D net lacks (non-local blocks). ``skip``: module names containing one of
    these are left alone (SlowFast's laterals). ``pad_in_channels``: MMAction2's pathway rule —
    a conv with more input channels (lateral inputs) gets zeros for the extra ones (MMAction2
    then fails on any other shape difference; here that conv keeps its init, with a warning).
    Returns the 2D names that were not used.
    """
    if "state_dict" in state_2d and isinstance(state_2d["state_dict"], Mapping):
        state_2d = state_2d["state_dict"]
    used: set[str] = set()
    for name, module in model.named_modules():
        # non-local blocks have no 2D counterpart (MMAction2 warns about each of their convs)
        if not isinstance(module, ConvModule) or any(s in name for s in (*skip, "non_local_block")):
            continue
        conv_name, bn_name = _2d_names(name)
        conv = module.conv
        weight = state_2d.get(conv_name + ".weight")
        if weight is None or not isinstance(conv, nn.Conv3d):
            log.warning("%s: no %s.weight in the 2D checkpoint", source, conv_name)
        else:
            shape_3d = conv.weight.shape
            if pad_in_channels and shape_3d[1] > weight.shape[1]:
                extra = weight.new_zeros(
                    (weight.shape[0], shape_3d[1] - weight.shape[1], *weight.shape[2:])
                )
                weight = torch.cat((weight, extra), dim=1)
            if weight.shape != shape_3d[:2] + shape_3d[3:]:
                log.warning("%s: %s has another shape in the 2D checkpoint", source, conv_name)
            else:
                with torch.no_grad():
                    conv.weight.copy_(weight.unsqueeze(2).expand_as(conv.weight) / shape_3d[2])
                used.add(conv_name + ".weight")
                if conv.bias is not None:
                    with torch.no_grad():
                        conv.bias.copy_(state_2d[conv_name + ".bias"])
                    used.add(conv_name + ".bias")
        if module.bn is None or bn_name + ".weight" not in state_2d:
            if bn_name + ".weight" not in state_2d:
                log.warning("%s: no %s in the 2D checkpoint", source, bn_name)
            continue
        _copy_bn(module.bn, state_2d, bn_name, used)
    unused = sorted(set(state_2d) - used)
    if unused:
        log.info("%s: not used from the 2D checkpoint: %s", source, ", ".join(unused[:10]))
    return unused


def _copy_bn(bn: nn.Module, state: Mapping[str, torch.Tensor], prefix: str, used: set[str]) -> None:
    params = dict(bn.named_parameters())
    # MMAction2 copies nothing of a BN whose parameters have another shape.
    if any(state[f"{prefix}.{n}"].shape != p.shape for n, p in params.items()):
        log.warning("%s has another shape in the 2D checkpoint", prefix)
        return
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(state[f"{prefix}.{n}"])
            used.add(f"{prefix}.{n}")
        for n, buf in bn.named_buffers():
            if f"{prefix}.{n}" in state:  # old checkpoints lack num_batches_tracked
                buf.copy_(state[f"{prefix}.{n}"])
                used.add(f"{prefix}.{n}")


def load_3d_weights(model: nn.Module, spec: str) -> None:
    """A checkpoint of this very backbone (bare, or a recognizer's ``backbone.*`` keys)."""
    state = state_dict_from(spec)
    if any(k.startswith("backbone.") for k in state):
        state = {
            k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")
        }
    load_into(model, state, source=spec, ignore=("cls_head.", "fc."))
