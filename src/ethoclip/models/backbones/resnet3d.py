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

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.utils.checkpoint
from torch import nn

from ...registry import config_error
from .._cpu3d import MaxPool3d
from .._weights import state_dict_from
from ._bricks import ConvModule, NonLocal3d
from ._conv import check_act, check_norm, constant, freeze, kaiming, triple
from ._inflate import inflate_2d_weights, load_3d_weights


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
        common: dict[str, Any] = {
            "conv_cfg": conv_cfg,
            "norm_cfg": norm_cfg,
            "bias": False,
            "dims": 3,
        }
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
        out = self.residual(x)
        out += identity  # in place: the last conv's (or BN's) output is not kept for backward
        return out

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
        common: dict[str, Any] = {
            "conv_cfg": conv_cfg,
            "norm_cfg": norm_cfg,
            "bias": False,
            "dims": 3,
        }
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
            dims=3,
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


class ResNet3d(nn.Module):
    """MMAction2's ResNet3d: an inflated ResNet (I3D with ``conv1_kernel=(5, 7, 7)``, 2× time
    strides and the configured ``inflate`` pattern). (B, C, T, H, W) → (B, feat, t, h, w)."""

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
        """The stem and stages from every ResNet3d argument (``args``); ``lateral_inplanes``:
        extra input channels of each stage (SlowFast's laterals)."""
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
        check_norm(self.norm_cfg)
        inflates = _ntuple(a["inflate"], num_stages)
        non_locals = _ntuple(a["non_local"], num_stages)

        self.conv1 = ConvModule(
            self.in_channels,
            self.base_channels,
            self.conv1_kernel,
            stride=(a["conv1_stride_t"], a["conv1_stride_s"], a["conv1_stride_s"]),
            padding=tuple((k - 1) // 2 for k in self.conv1_kernel),
            bias=False,
            dims=3,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        self.maxpool = MaxPool3d(
            (1, 3, 3),
            stride=(a["pool1_stride_t"], a["pool1_stride_s"], a["pool1_stride_s"]),
            padding=(0, 1, 1),
        )
        self.pool2 = MaxPool3d((2, 1, 1), stride=(2, 1, 1))
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


_RESNET3D_ARGS = {
    name: p.default
    for name, p in inspect.signature(ResNet3d.__init__).parameters.items()
    if name != "self"
}


def resnet3d_args(given: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """ResNet3d's arguments: its defaults, a subclass's ``defaults``, then ``given``; a name
    ResNet3d does not take is an error (pathways pass ``**kwargs`` through, as MMAction2's do)."""
    unknown = sorted(set(given) - set(_RESNET3D_ARGS))
    if unknown:
        raise config_error(unknown[0], "is not an argument of ResNet3d or its pathways")
    return {**_RESNET3D_ARGS, "depth": 50, **defaults, **given}


class ResNet3dLayer(nn.Module):
    """One ResNet3d stage on its own (``stage`` 0…3, named ``layer{stage+1}``), as MMAction2's
    ResNet3dLayer (the ROI heads of its detectors use it)."""

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
