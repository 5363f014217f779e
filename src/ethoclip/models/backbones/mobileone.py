"""MobileOne (Vasu et al. 2022) as mmpretrain 1.2.0 builds it, with its parameter names.

Each ``MobileOneBlock`` is, while training, a sum of parallel branches — ``num_convs`` k×k
conv+BN branches (``branch_conv_list.<i>.conv`` / ``.norm``), a 1×1 conv+BN (``branch_scale``,
for k > 1) and a BN identity (``branch_norm``, when shape and stride allow) — followed by an
optional squeeze-excitation (``se.conv1`` / ``se.conv2``) and ReLU. ``switch_to_deploy()``
fuses the branches into one k×k conv with bias (``branch_reparam``); ``deploy=True`` builds
that form directly. Stages alternate depthwise 3×3 and pointwise 1×1 blocks; s4 puts SE in
the last 5 blocks of stage 3 and the last one of stage 4.

``init_cfg=dict(type='Pretrained', checkpoint=…, prefix='backbone')`` loads weights (MMEngine
adds the dot to the prefix); without it the init is mmpretrain's default (Kaiming fan-out
convs, BN weight 1). A ``deploy=True`` model given a training-time checkpoint loads it into the
branches and fuses them, so the deploy configs build from ImageNet weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import config_error
from .._mma_init import load_pretrained_init, pretrained_init_cfg
from ._bricks import ConvModule, make_norm
from .mobilenet_v2 import make_divisible

ARCHS: dict[str, dict[str, list[Any]]] = {
    "s0": {
        "num_blocks": [2, 8, 10, 1],
        "width_factor": [0.75, 1.0, 1.0, 2.0],
        "num_conv_branches": [4, 4, 4, 4],
        "num_se_blocks": [0, 0, 0, 0],
    },
    "s1": {
        "num_blocks": [2, 8, 10, 1],
        "width_factor": [1.5, 1.5, 2.0, 2.5],
        "num_conv_branches": [1, 1, 1, 1],
        "num_se_blocks": [0, 0, 0, 0],
    },
    "s2": {
        "num_blocks": [2, 8, 10, 1],
        "width_factor": [1.5, 2.0, 2.5, 4.0],
        "num_conv_branches": [1, 1, 1, 1],
        "num_se_blocks": [0, 0, 0, 0],
    },
    "s3": {
        "num_blocks": [2, 8, 10, 1],
        "width_factor": [2.0, 2.5, 3.0, 4.0],
        "num_conv_branches": [1, 1, 1, 1],
        "num_se_blocks": [0, 0, 0, 0],
    },
    "s4": {
        "num_blocks": [2, 8, 10, 1],
        "width_factor": [3.0, 3.5, 3.5, 4.0],
        "num_conv_branches": [1, 1, 1, 1],
        "num_se_blocks": [0, 0, 5, 1],
    },
}
_BASE_CHANNELS = (64, 128, 256, 512)
_ACTS = {"ReLU": nn.ReLU, "ReLU6": nn.ReLU6, "SiLU": nn.SiLU, "GELU": nn.GELU}


def _activation(act_cfg: Mapping[str, Any] | None) -> nn.Module:
    if act_cfg is None:
        return nn.Identity()
    kind = act_cfg.get("type")
    if kind not in _ACTS:
        raise config_error("act_cfg", f"type must be one of {', '.join(_ACTS)} (got {kind!r})")
    if kind in ("ReLU", "ReLU6", "SiLU"):
        return _ACTS[kind](inplace=bool(act_cfg.get("inplace", False)))
    return _ACTS[kind]()


class SELayer(nn.Module):
    """mmpretrain's squeeze-excitation: mean → 1×1 conv → ReLU → 1×1 conv → sigmoid → scale."""

    def __init__(
        self,
        channels: int,
        ratio: int = 16,
        divisor: int = 8,
        squeeze_channels: int | None = None,
    ) -> None:
        super().__init__()
        squeeze = squeeze_channels or make_divisible(channels // ratio, divisor)
        self.conv1 = ConvModule(channels, squeeze, 1, act_cfg={"type": "ReLU", "inplace": True})
        self.conv2 = ConvModule(squeeze, channels, 1, act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.conv2(self.conv1(F.adaptive_avg_pool2d(x, 1)))
        return x * torch.sigmoid(weight)


def _se(channels: int, se_cfg: Mapping[str, Any] | None) -> nn.Module:
    if se_cfg is None:
        return nn.Identity()
    extra = sorted(set(se_cfg) - {"ratio", "divisor", "squeeze_channels"})
    if extra:
        raise config_error("se_cfg", f"takes ratio, divisor and squeeze_channels (got {extra})")
    return SELayer(channels, **se_cfg)


class ConvBN(nn.Sequential):
    """A branch: conv without bias, then BN (children ``conv`` and ``norm``, as mmpretrain)."""

    conv: nn.Conv2d

    def __init__(self, conv: nn.Conv2d, norm: nn.Module) -> None:
        super().__init__()
        self.conv, self.norm = conv, norm

    def fused(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The conv and BN (running statistics) as one kernel and bias."""
        return _fuse(self.conv.weight, self.norm)


def _fuse(kernel: torch.Tensor, norm: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """``kernel`` followed by eval-mode BN ``norm``, as one kernel and bias."""
    bn = cast(nn.BatchNorm2d, norm)  # switch_to_deploy checked the kind
    std = (cast(torch.Tensor, bn.running_var) + bn.eps).sqrt()
    scale = bn.weight / std
    bias = bn.bias - cast(torch.Tensor, bn.running_mean) * scale
    return kernel * scale.reshape(-1, 1, 1, 1), bias


class MobileOneBlock(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        num_convs: int,
        stride: int = 1,
        padding: int = 1,
        groups: int = 1,
        se_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.groups = (
            kernel_size,
            stride,
            padding,
            groups,
        )
        self.norm_cfg = dict(norm_cfg or {"type": "BN"})
        self.se = _se(out_channels, se_cfg)
        self.deploy = deploy
        if deploy:
            self.branch_reparam = self._conv(kernel_size, padding, bias=True)
        else:
            # The BN identity exists only where the output can be the input.
            self.branch_norm = (
                make_norm(self.norm_cfg, in_channels, 2)
                if in_channels == out_channels and stride == 1
                else None
            )
            self.branch_scale = self._conv_bn(1, 0) if kernel_size > 1 else None
            self.branch_conv_list = nn.ModuleList(
                self._conv_bn(kernel_size, padding) for _ in range(num_convs)
            )
        self.act = _activation(act_cfg)

    def _conv(self, kernel_size: int, padding: int, bias: bool) -> nn.Conv2d:
        return nn.Conv2d(
            self.in_channels,
            self.out_channels,
            kernel_size,
            stride=self.stride,
            padding=padding,
            groups=self.groups,
            bias=bias,
        )

    def _conv_bn(self, kernel_size: int, padding: int) -> ConvBN:
        conv = self._conv(kernel_size, padding, bias=False)
        return ConvBN(conv, make_norm(self.norm_cfg, self.out_channels, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.deploy:
            out = self.branch_reparam(x)
        else:
            # mmpretrain's order of summation: identity BN, 1×1, then the k×k branches.
            out = self.branch_norm(x) if self.branch_norm is not None else None
            others = [] if self.branch_scale is None else [self.branch_scale]
            for branch in [*others, *self.branch_conv_list]:
                out = branch(x) if out is None else out + branch(x)
            assert out is not None  # num_convs ≥ 1 (checked when the arch is read)
        return self.act(self.se(out))

    def reparameterized(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Kernel and bias of the one conv equal to the sum of the branches (eval-mode BN)."""
        k = self.kernel_size
        branches = cast(list[ConvBN], list(self.branch_conv_list))
        weight = torch.zeros_like(branches[0].conv.weight)
        bias = torch.zeros(self.out_channels, dtype=weight.dtype, device=weight.device)
        for conv_bn in branches:
            w, b = conv_bn.fused()
            weight, bias = weight + w, bias + b
        if self.branch_scale is not None:
            w, b = self.branch_scale.fused()
            # A 1×1 kernel is the centre of a k×k one.
            weight, bias = weight + F.pad(w, [k // 2] * 4), bias + b
        if self.branch_norm is not None:
            # BN of the input: a k×k conv whose kernel is 1 at the centre of each channel's own
            # input (within its group), then that BN.
            per_group = self.in_channels // self.groups
            identity = torch.zeros_like(weight)
            channels = torch.arange(self.in_channels)
            identity[channels, channels % per_group, k // 2, k // 2] = 1.0
            w, b = _fuse(identity, self.branch_norm)
            weight, bias = weight + w, bias + b
        return weight, bias

    @torch.no_grad()
    def switch_to_deploy(self) -> None:
        """Replace the branches by their fused conv (in place; a no-op once deployed)."""
        if self.deploy:
            return
        if not isinstance(self.branch_conv_list[0].norm, nn.BatchNorm2d):
            raise config_error("norm_cfg", "switch_to_deploy fuses BatchNorm only")
        weight, bias = self.reparameterized()
        conv = self._conv(self.kernel_size, self.padding, bias=True).to(weight.device, weight.dtype)
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)  # type: ignore[union-attr]
        self.branch_reparam = conv
        del self.branch_conv_list, self.branch_scale, self.branch_norm
        self.deploy = True


class MobileOne(nn.Module):
    """mmpretrain's ``MobileOne`` (``arch`` s0…s4 or a dict of the four lists): a tuple of the
    ``out_indices`` stages' outputs, as mmpretrain returns."""

    def __init__(
        self,
        arch: str | Mapping[str, Sequence[Any]] = "s0",
        in_channels: int = 3,
        out_indices: int | Sequence[int] = (3,),
        frozen_stages: int = -1,
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        se_cfg: Mapping[str, Any] | None = None,
        deploy: bool = False,
        norm_eval: bool = False,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        self.arch = _arch(arch)
        if conv_cfg is not None and dict(conv_cfg).get("type") not in ("Conv", "Conv2d"):
            raise config_error("conv_cfg", f"only plain 2D convs are supported (got {conv_cfg!r})")
        indices = [out_indices] if isinstance(out_indices, int) else list(out_indices)
        self.out_indices = [i + 4 if i < 0 else i for i in indices]
        if not self.out_indices or any(i not in range(4) for i in self.out_indices):
            raise config_error("out_indices", f"must be stages 0…3 (got {out_indices!r})")
        if frozen_stages not in range(-1, 5):
            raise config_error("frozen_stages", f"must be -1…4 (got {frozen_stages!r})")
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self._init = pretrained_init_cfg(init_cfg)
        # A training-time checkpoint for a deploy model: build the branches, load, then fuse.
        self.deploy = deploy
        build_deploy = deploy and self._init is None
        common: dict[str, Any] = {
            "norm_cfg": dict(norm_cfg or {"type": "BN"}),
            "act_cfg": dict(act_cfg or {"type": "ReLU"}),
            "deploy": build_deploy,
        }
        se = dict(se_cfg or {"ratio": 16})
        widths = self.arch["width_factor"]
        channels = min(64, int(_BASE_CHANNELS[0] * widths[0]))
        self.stage0: nn.Module = MobileOneBlock(in_channels, channels, 3, 1, stride=2, **common)
        self.stages: list[str] = []
        for i, blocks in enumerate(self.arch["num_blocks"]):
            planes = int(_BASE_CHANNELS[i] * widths[i])
            with_se = blocks - self.arch["num_se_blocks"][i]  # SE on the last blocks
            branches = self.arch["num_conv_branches"][i]
            layers: list[nn.Module] = []
            for j in range(blocks):
                block_se = se if j >= with_se else None
                layers += [
                    MobileOneBlock(  # depthwise 3×3
                        channels,
                        channels,
                        3,
                        branches,
                        stride=2 if j == 0 else 1,
                        padding=1,
                        groups=channels,
                        se_cfg=block_se,
                        **common,
                    ),
                    MobileOneBlock(  # pointwise 1×1
                        channels, planes, 1, branches, padding=0, se_cfg=block_se, **common
                    ),
                ]
                channels = planes
            self.add_module(f"stage{i + 1}", nn.Sequential(*layers))
            self.stages.append(f"stage{i + 1}")
        self.out_channels = int(_BASE_CHANNELS[self.out_indices[-1]] * widths[self.out_indices[-1]])
        mobileone_init(self)
        if type(self) is MobileOne:  # subclasses load once their own structure is built
            self.init_pretrained()

    def checkpoint_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The checkpoint's tensors under this model's names (subclasses rename)."""
        return state

    def init_pretrained(self) -> None:
        """Load ``init_cfg``'s checkpoint; a deploy model fuses after (or before, when the
        checkpoint is already reparameterised)."""
        if self._init is not None:
            checkpoint, prefix = self._init
            if prefix and not prefix.endswith("."):
                prefix += "."  # MMEngine's _load_checkpoint_with_prefix adds it

            def prepare(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
                state = self.checkpoint_state(state)
                if self.deploy and any(".branch_reparam." in f".{k}" for k in state):
                    self.switch_to_deploy()  # the file is fused already: take its form
                return state

            load_pretrained_init(self, checkpoint, prefix, transform=prepare)
        if self.deploy:
            self.switch_to_deploy()
        self.train(self.training)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.stage0(x)
        outs = []
        for i, name in enumerate(self.stages):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def switch_to_deploy(self) -> None:
        """Fuse every block's branches (eval-mode BN statistics) into one conv each."""
        for m in self.modules():
            if isinstance(m, MobileOneBlock):
                m.switch_to_deploy()
        self.deploy = True

    def train(self, mode: bool = True) -> MobileOne:
        super().train(mode)
        frozen = [self.stage0] if self.frozen_stages >= 0 else []
        frozen += [getattr(self, name) for name in self.stages[: max(self.frozen_stages, 0)]]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


def _arch(arch: str | Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    if isinstance(arch, str):
        if arch not in ARCHS:
            raise config_error("arch", f"must be one of {', '.join(ARCHS)} (got {arch!r})")
        return {k: list(v) for k, v in ARCHS[arch].items()}
    if not isinstance(arch, Mapping):
        raise config_error("arch", f"must be 's0'…'s4' or a dict (got {arch!r})")
    keys = set(ARCHS["s0"])
    if set(arch) != keys or any(len(v) != 4 for v in arch.values()):
        raise config_error("arch", f"a dict needs exactly {sorted(keys)}, each 4 values")
    out = {k: list(v) for k, v in arch.items()}
    if any(se > n for se, n in zip(out["num_se_blocks"], out["num_blocks"], strict=True)):
        raise config_error("arch", "num_se_blocks cannot exceed num_blocks in a stage")
    if any(int(n) < 1 for n in out["num_conv_branches"]):
        branches = out["num_conv_branches"]
        raise config_error("arch", f"num_conv_branches must be ≥ 1 (got {branches})")
    return out


def mobileone_init(module: nn.Module) -> None:
    """mmpretrain's init_cfg: Kaiming (fan-out, normal) for Conv2d, BN weight 1 / bias 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
