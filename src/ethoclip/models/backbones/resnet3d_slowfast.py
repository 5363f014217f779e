"""MMAction2's SlowFast (Feichtenhofer et al. 2019): two ResNet3d pathways with lateral
connections from the fast to the slow one, in plain PyTorch with MMAction2's names
(``slow_path.*``, ``fast_path.*``, ``slow_path.conv1_lateral``, ``slow_path.layerN_lateral``).

The slow pathway sees one frame in ``resample_rate`` (τ), the fast one ``speed_ratio`` (α) times
as many with 1/``channel_ratio`` (β) of the channels; after the stem and each stage but the last,
a time-strided conv of the fast features is concatenated to the slow ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._weights import state_dict_from
from ._bricks import ConvModule
from ._conv import kaiming
from ._inflate import inflate_2d_weights, load_3d_weights
from .resnet3d import ResNet3d, resnet3d_args


class ResNet3dPathway(ResNet3d):
    """A ResNet3d whose stages take extra input channels from lateral connections (``lateral``),
    and which owns the laterals: ``conv1_lateral`` and ``layer{i}_lateral`` (all but the last)."""

    defaults: Mapping[str, Any] = {}

    def __init__(
        self,
        lateral: bool = False,
        lateral_inv: bool = False,
        lateral_norm: bool = False,
        speed_ratio: int = 8,
        channel_ratio: int = 8,
        fusion_kernel: int = 5,
        lateral_infl: int = 2,
        lateral_activate: Sequence[int] = (1, 1, 1, 1),
        **kwargs: Any,
    ) -> None:
        nn.Module.__init__(self)
        if lateral_inv:
            raise config_error(
                "lateral_inv",
                "deconvolution laterals are not supported (no MMAction2 config uses them)",
            )
        args = resnet3d_args(kwargs, self.defaults)
        self.lateral, self.lateral_norm = lateral, lateral_norm
        self.speed_ratio, self.channel_ratio = speed_ratio, channel_ratio
        self.lateral_activate = tuple(lateral_activate)
        self._build(args, self._lateral_inplanes(args, lateral_infl))
        base = self.base_channels
        norm = self.norm_cfg if lateral_norm else None
        act = self.act_cfg if lateral_norm else None

        def lateral_conv(channels: int) -> ConvModule:
            return ConvModule(
                channels // channel_ratio,
                channels * lateral_infl // channel_ratio,
                (fusion_kernel, 1, 1),
                stride=(speed_ratio, 1, 1),
                padding=((fusion_kernel - 1) // 2, 0, 0),
                bias=False,
                dims=3,
                conv_cfg=self.conv_cfg,
                norm_cfg=norm,
                act_cfg=act,
            )

        if lateral and self.lateral_activate[0] == 1:
            self.conv1_lateral = lateral_conv(base)
        self.lateral_connections: list[str] = []
        for i in range(len(self.stage_blocks)):
            channels = base * 2**i * self.block.expansion
            if lateral and i != self.num_stages - 1 and self.lateral_activate[i + 1]:
                name = f"layer{i + 1}_lateral"
                setattr(self, name, lateral_conv(channels))
                self.lateral_connections.append(name)
        self.init_weights()

    def _lateral_inplanes(self, args: Mapping[str, Any], lateral_infl: int) -> list[int]:
        """The extra input channels of each stage: MMAction2's formula, from depth and width."""
        expansion = 1 if args["depth"] < 50 else 4
        base = args["base_channels"]
        out = []
        for i in range(args["num_stages"]):
            if expansion % 2 == 0:
                planes = base * 2**i * (expansion // 2) ** (i > 0)
            else:
                planes = base * 2**i // 2 ** (i > 0)
            active = self.lateral and self.lateral_activate[i]
            out.append(planes * lateral_infl // self.channel_ratio if active else 0)
        return out

    def init_weights(self) -> None:
        if self.pretrained is None:
            self.init_from_scratch()
        elif self.pretrained2d:
            # the laterals have no 2D counterpart; stage convs get zeros for lateral inputs
            inflate_2d_weights(
                self,
                state_dict_from(self.pretrained),
                source=self.pretrained,
                skip=("lateral",),
                pad_in_channels=True,
            )
        else:
            load_3d_weights(self, self.pretrained)
        for name in self.lateral_connections:
            for m in getattr(self, name).modules():
                if isinstance(m, nn.Conv3d):
                    kaiming(m)
        self.train(self.training)  # frozen stages are frozen from the start

    def frozen_modules(self) -> list[nn.Module]:
        modules = super().frozen_modules()
        if self.lateral:
            n = len(self.res_layers)
            modules += [
                getattr(self, self.lateral_connections[i - 1])
                for i in range(1, self.frozen_stages + 1)
                if i != n
            ]
        return modules


def build_pathway(cfg: Mapping[str, Any], key: str) -> ResNet3dPathway:
    cfg = dict(cfg)
    kind = cfg.pop("type", None)
    if kind != "resnet3d":
        raise config_error(f"{key}.type", f"must be 'resnet3d' (got {kind!r})")
    try:
        return ResNet3dPathway(**cfg)
    except TypeError as exc:
        raise config_error(key, str(exc)) from None


SLOW = {
    "type": "resnet3d",
    "depth": 50,
    "pretrained": None,
    "lateral": True,
    "conv1_kernel": (1, 7, 7),
    "conv1_stride_t": 1,
    "pool1_stride_t": 1,
    "inflate": (0, 0, 1, 1),
}
FAST = {
    "type": "resnet3d",
    "depth": 50,
    "pretrained": None,
    "lateral": False,
    "base_channels": 8,
    "conv1_kernel": (5, 7, 7),
    "conv1_stride_t": 1,
    "pool1_stride_t": 1,
}


class ResNet3dSlowFast(nn.Module):
    """SlowFast: (B, C, T, H, W) → (slow (B, Cs, T/τ, h, w), fast (B, Cf, αT/τ, h, w)).

    ``pretrained``: a checkpoint of this whole backbone (loaded strictly).
    """

    def __init__(
        self,
        pretrained: str | None = None,
        resample_rate: int = 8,
        speed_ratio: int = 8,
        channel_ratio: int = 8,
        slow_pathway: Mapping[str, Any] | None = None,
        fast_pathway: Mapping[str, Any] | None = None,
        init_cfg: Any = None,
    ) -> None:
        super().__init__()
        if init_cfg is not None:
            raise config_error("init_cfg", "is not supported; use pretrained")
        if resample_rate % speed_ratio or resample_rate < speed_ratio:
            raise config_error(
                "speed_ratio",
                f"must divide resample_rate {resample_rate} (got {speed_ratio}): the fast "
                "pathway samples every resample_rate // speed_ratio frames",
            )
        # MMAction2 replaces the whole default dict when a config gives one
        slow = dict(SLOW if slow_pathway is None else slow_pathway)
        fast = dict(FAST if fast_pathway is None else fast_pathway)
        if slow.get("lateral"):
            slow["speed_ratio"], slow["channel_ratio"] = speed_ratio, channel_ratio
        self.pretrained = pretrained
        self.resample_rate, self.speed_ratio, self.channel_ratio = (
            resample_rate,
            speed_ratio,
            channel_ratio,
        )
        self.slow_path = build_pathway(slow, "slow_pathway")
        self.fast_path = build_pathway(fast, "fast_pathway")
        self.out_channels = self.slow_path.feat_dim + self.fast_path.feat_dim
        if pretrained is not None:
            load_3d_weights(self, pretrained)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        slow, fast = self.slow_path, self.fast_path
        x_slow = nn.functional.interpolate(
            x, mode="nearest", scale_factor=(1.0 / self.resample_rate, 1.0, 1.0)
        )
        x_slow = slow.maxpool(slow.conv1(x_slow))
        x_fast = nn.functional.interpolate(
            x,
            mode="nearest",
            scale_factor=(1.0 / (self.resample_rate // self.speed_ratio), 1.0, 1.0),
        )
        x_fast = fast.maxpool(fast.conv1(x_fast))
        if slow.lateral:
            x_slow = torch.cat((x_slow, slow.conv1_lateral(x_fast)), dim=1)
        last = len(slow.res_layers) - 1
        for i, name in enumerate(slow.res_layers):
            x_slow = getattr(slow, name)(x_slow)
            x_fast = getattr(fast, name)(x_fast)
            if i != last and slow.lateral:
                lateral = getattr(slow, slow.lateral_connections[i])
                x_slow = torch.cat((x_slow, lateral(x_fast)), dim=1)
        return x_slow, x_fast
