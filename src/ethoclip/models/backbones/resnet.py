"""MMAction2's 2D ``ResNet`` (per frame), with its parameter names and its weight loading.

Keys are MMAction2's: ``conv1.conv.weight``, ``conv1.bn.*``, ``layer1.0.conv1.conv.weight``,
``layer1.0.downsample.conv.weight`` … so MMAction2 checkpoints load strictly. ``pretrained``
with ``torchvision_pretrain=True`` (the default) reads a *torchvision* ResNet state dict
(``torchvision://resnet50``, a URL or a file) and renames it the way MMAction2 does: torchvision's
``layerA.B.convN`` → ``…convN.conv``, ``…bnN`` → ``…convN.bn``, ``downsample.0/1`` →
``downsample.conv/bn``; tensors whose shape differs (e.g. a 10-channel flow stem) keep their
initialisation, as in MMAction2. With ``torchvision_pretrain=False`` the file holds MMAction2's
own names.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils import checkpoint as cp

from ...registry import config_error
from .._weights import load_into, state_dict_from
from ._bricks import ConvModule, Wrapper, conv_dims, resnet_init

log = logging.getLogger(__name__)

RELU = {"type": "ReLU", "inplace": True}


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
        style: str = "pytorch",
        conv_dims: int = 2,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = RELU,
        with_cp: bool = False,
    ) -> None:
        super().__init__()
        if with_cp:
            raise config_error("with_cp", "is not available for BasicBlock (as in MMAction2)")
        common: dict[str, Any] = {"bias": False, "dims": conv_dims, "norm_cfg": norm_cfg}
        self.conv1 = ConvModule(
            inplanes, planes, 3, stride, dilation, dilation, act_cfg=act_cfg, **common
        )
        self.conv2 = ConvModule(planes, planes, 3, 1, 1, 1, act_cfg=None, **common)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv2(self.conv1(x))
        out += identity  # in place: the BN's output is not kept for its backward
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
        style: str = "pytorch",
        conv_dims: int = 2,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = RELU,
        with_cp: bool = False,
    ) -> None:
        super().__init__()
        # 'pytorch' strides in the 3×3 conv, 'caffe' in the first 1×1.
        s1, s2 = (1, stride) if style == "pytorch" else (stride, 1)
        common: dict[str, Any] = {"bias": False, "dims": conv_dims, "norm_cfg": norm_cfg}
        self.conv1 = ConvModule(inplanes, planes, 1, s1, act_cfg=act_cfg, **common)
        self.conv2 = ConvModule(
            planes, planes, 3, s2, dilation, dilation, act_cfg=act_cfg, **common
        )
        self.conv3 = ConvModule(planes, planes * self.expansion, 1, act_cfg=None, **common)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv3(self.conv2(self.conv1(x)))
        out += identity  # in place: the BN's output is not kept for its backward
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self.residual, x, use_reentrant=False)
        else:
            out = self.residual(x)
        return self.relu(out)


def make_res_layer(
    block: type[BasicBlock] | type[Bottleneck],
    inplanes: int,
    planes: int,
    blocks: int,
    stride: int = 1,
    dilation: int = 1,
    **kwargs: Any,
) -> nn.Sequential:
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = ConvModule(
            inplanes,
            planes * block.expansion,
            1,
            stride,
            bias=False,
            dims=kwargs.get("conv_dims", 2),
            norm_cfg=kwargs.get("norm_cfg"),
            act_cfg=None,
        )
    layers = [block(inplanes, planes, stride, dilation, downsample, **kwargs)]
    layers += [
        block(planes * block.expansion, planes, 1, dilation, **kwargs) for _ in range(1, blocks)
    ]
    return nn.Sequential(*layers)


class ResNet(nn.Module):
    """MMAction2's ResNet-18/34/50/101/152 for frames: (B, C, H, W) → (B, 2048, H/32, W/32).

    ``out_indices`` picks the stages returned (one: a tensor; several: a tuple, for TPN);
    ``frozen_stages`` freezes the stem and stages 1…N; ``norm_eval`` keeps every BN's statistics
    fixed while training; ``partial_bn`` keeps only the first BN learning (TSN/TRN).
    """

    arch_settings: Mapping[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, ...]]] = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(
        self,
        depth: int,
        pretrained: str | None = None,
        torchvision_pretrain: bool = True,
        in_channels: int = 3,
        num_stages: int = 4,
        out_indices: Sequence[int] = (3,),
        strides: Sequence[int] = (1, 2, 2, 2),
        dilations: Sequence[int] = (1, 1, 1, 1),
        style: str = "pytorch",
        frozen_stages: int = -1,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        norm_eval: bool = False,
        partial_bn: bool = False,
        with_cp: bool = False,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        if depth not in self.arch_settings:
            raise config_error("depth", f"must be one of 18, 34, 50, 101, 152 (got {depth!r})")
        if not 1 <= num_stages <= 4:
            raise config_error("num_stages", f"must be 1…4 (got {num_stages})")
        out_indices = tuple(out_indices)
        if not out_indices or max(out_indices) >= num_stages or min(out_indices) < 0:
            raise config_error(
                "out_indices",
                f"must be stage numbers below num_stages={num_stages} (got {out_indices})",
            )
        if len(strides) != num_stages or len(dilations) != num_stages:
            raise config_error(
                "strides", f"strides and dilations need {num_stages} values, one per stage"
            )
        if style not in ("pytorch", "caffe"):
            raise config_error("style", f"must be 'pytorch' or 'caffe' (got {style!r})")
        if init_cfg is not None:
            raise config_error(
                "init_cfg", "is not read by ethoclip; use pretrained= for weights (or leave it out)"
            )
        if not isinstance(pretrained, (str, type(None))):
            raise config_error("pretrained", f"must be a string or None (got {pretrained!r})")
        self.depth, self.in_channels, self.num_stages = depth, in_channels, num_stages
        self.pretrained, self.torchvision_pretrain = pretrained, torchvision_pretrain
        self.out_indices, self.frozen_stages = out_indices, frozen_stages
        self.norm_eval, self.partial_bn, self.with_cp = norm_eval, partial_bn, with_cp
        self.norm_cfg = dict(norm_cfg or {"type": "BN2d", "requires_grad": True})
        self.act_cfg = dict(act_cfg or RELU)
        self.conv_dims = conv_dims(conv_cfg, 2)
        self.block, blocks = self.arch_settings[depth]
        self.stage_blocks = blocks[:num_stages]
        self._make_stem_layer()
        self.res_layers: list[str] = []
        inplanes = 64
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = 64 * 2**i
            layer = make_res_layer(
                self.block,
                inplanes,
                planes,
                num_blocks,
                stride=strides[i],
                dilation=dilations[i],
                style=style,
                conv_dims=self.conv_dims,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg,
                with_cp=with_cp,
            )
            inplanes = planes * self.block.expansion
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")
        self.feat_dim = self.block.expansion * 64 * 2 ** (len(self.stage_blocks) - 1)
        self.out_channels = self.feat_dim
        resnet_init(self)
        if type(self) is ResNet:  # subclasses load once their own structure is built
            self.init_pretrained()

    def _make_stem_layer(self) -> None:
        self.conv1 = ConvModule(
            self.in_channels,
            64,
            7,
            2,
            3,
            bias=False,
            dims=self.conv_dims,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def init_pretrained(self) -> None:
        """Load ``pretrained`` (subclasses call this once their structure is complete)."""
        if not self.pretrained:
            return
        state = state_dict_from(self.pretrained)
        if self.torchvision_pretrain:
            load_torchvision_resnet(self, state, source=self.pretrained)
        else:
            load_mmaction(self, state, source=self.pretrained)
        self.train(self.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.maxpool(self.conv1(x))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            self.conv1.eval()  # its BN (the conv and ReLU have no state)
            for param in self.conv1.parameters():
                param.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            layer = getattr(self, f"layer{i}")
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> ResNet:
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        if mode and self.partial_bn:  # every BatchNorm2d after the first stops learning
            bns = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
            for m in bns[1:]:
                m.eval()
                m.weight.requires_grad = m.bias.requires_grad = False
        return self


# The tensors MMAction2's torchvision loader fills: the stem and the residual blocks' convs.
_RESNET_KEY = re.compile(r"^(conv1|layer\d+\.\d+\.(conv\d|downsample))\.(conv|bn)\.(\w+)$")


def torchvision_path(root: nn.Module, key: str) -> str:
    """``key`` without the segments of wrapper modules (``layer1.0.conv1.conv.net.weight`` →
    ``layer1.0.conv1.conv.weight``): the name the tensor had before MMAction2 wrapped it."""
    kept, module = [], root
    child: nn.Module | None
    for part in key.split("."):
        if not (isinstance(module, Wrapper) and part == module.wrapped):
            kept.append(part)
        child = module._modules.get(part)  # None for the last part: a tensor
        module = child if child is not None else module
    return ".".join(kept)


def load_torchvision_resnet(
    model: nn.Module, state: Mapping[str, torch.Tensor], *, source: str
) -> None:
    """Fill ``model``'s ResNet tensors from a torchvision ResNet state dict (MMAction2's mapping).

    Tensors outside the plain ResNet (temporal shift/interlace, TAM, non-local) keep their
    initialisation; so do ResNet tensors whose shape differs, as in MMAction2 (logged).
    """
    own = model.state_dict()
    loaded: dict[str, torch.Tensor] = {}
    missing, skipped = [], []
    for key, value in own.items():
        match = _RESNET_KEY.match(torchvision_path(model, key))
        if match is None:
            continue
        module, _, kind, param = match.groups()
        if kind == "conv":
            tv = f"{module}.0" if "downsample" in module else module
        else:
            tv = f"{module}.1" if "downsample" in module else module.replace("conv", "bn")
        tv_key = f"{tv}.{param}"
        if tv_key not in state:
            if param != "num_batches_tracked":  # torchvision's early files lack it
                missing.append(tv_key)
            continue
        if state[tv_key].shape != value.shape:
            skipped.append(f"{tv_key} {tuple(state[tv_key].shape)} vs {tuple(value.shape)}")
            continue
        loaded[key] = state[tv_key]
    if missing:
        raise config_error(
            "pretrained",
            f"{source} is not a torchvision ResNet of this depth: it lacks {len(missing)} tensors "
            f"({', '.join(missing[:5])}); for a file with MMAction2's names set "
            "torchvision_pretrain=False",
        )
    if skipped:
        log.warning("%s: kept the initialisation of %s (other shapes)", source, ", ".join(skipped))
    with torch.no_grad():
        for key, value in loaded.items():
            own[key].copy_(value)


def load_mmaction(model: nn.Module, state: Mapping[str, torch.Tensor], *, source: str) -> None:
    """An MMAction2 backbone checkpoint: bare keys or a recognizer's ``backbone.*``."""
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone.") :]: v for k, v in state.items() if k.startswith("backbone.")}
    load_into(model, state, source=source)
