"""TPN: MMAction2's Temporal Pyramid Network neck, with its auxiliary head and loss.

It takes two or more backbone stages as (N, C, T, H, W), brings them to one spatial size
(spatial modulation) and one temporal rate (temporal modulation), fuses them top-down and
bottom-up, and returns (N, 2048, T', H', W'). While training, its auxiliary head classifies
the second-to-last stage; the recognizer adds ``loss_weight`` × that loss to the head's.
Keys are MMAction2's (``spatial_modulation.spatial_modulation.0.0.conv.weight``,
``temporal_modulation_ops.0.conv.conv.weight``, ``level_fusion_1.…``, ``aux_head.fc.weight`` …).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...registry import MODELS, config_error
from .._cpu3d import MaxPool3d
from ..backbones._bricks import ConvModule

BN3D = {"type": "BN3d", "requires_grad": True}
RELU = {"type": "ReLU", "inplace": True}


def _triple(v: int | Sequence[int]) -> tuple[int, int, int]:
    return (v, v, v) if isinstance(v, int) else (int(v[0]), int(v[1]), int(v[2]))


class DownSample(nn.Module):
    """A 3D conv and a max-pool by ``downsample_scale`` (before or after the conv)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int] = (3, 1, 1),
        stride: int | Sequence[int] = (1, 1, 1),
        padding: int | Sequence[int] = (1, 0, 0),
        groups: int = 1,
        bias: bool | str = False,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        downsample_position: str = "after",
        downsample_scale: int | Sequence[int] = (1, 2, 2),
        conv_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if downsample_position not in ("before", "after"):
            raise config_error(
                "downsample_position", f"must be 'before' or 'after' (got {downsample_position!r})"
            )
        self.conv = ConvModule(
            in_channels,
            out_channels,
            _triple(kernel_size),
            _triple(stride),
            _triple(padding),
            groups=groups,
            bias=bias,
            dims=3,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )
        self.downsample_position = downsample_position
        scale = _triple(downsample_scale)
        self.pool = MaxPool3d(scale, scale, (0, 0, 0), ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample_position == "before":
            return self.conv(self.pool(x))
        return self.pool(self.conv(x))


class LevelFusion(nn.Module):
    def __init__(
        self,
        in_channels: Sequence[int],
        mid_channels: Sequence[int],
        out_channels: int,
        downsample_scales: Sequence[Sequence[int]] = ((1, 1, 1), (1, 1, 1)),
    ) -> None:
        super().__init__()
        self.downsamples = nn.ModuleList(
            DownSample(
                cin,
                cmid,
                kernel_size=(1, 1, 1),
                stride=(1, 1, 1),
                bias=False,
                padding=(0, 0, 0),
                groups=32,
                norm_cfg=BN3D,
                act_cfg=RELU,
                downsample_position="before",
                downsample_scale=scale,
            )
            for cin, cmid, scale in zip(in_channels, mid_channels, downsample_scales, strict=False)
        )
        self.fusion_conv = ConvModule(
            sum(mid_channels), out_channels, 1, bias=False, dims=3, norm_cfg=BN3D, act_cfg=RELU
        )

    def forward(self, x: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.fusion_conv(
            torch.cat([d(f) for d, f in zip(self.downsamples, x, strict=False)], 1)
        )


class SpatialModulation(nn.Module):
    """Each stage strided (3×3, by 2, log2(out/in) times) to the channels of the last."""

    def __init__(self, in_channels: Sequence[int], out_channels: int) -> None:
        super().__init__()
        self.spatial_modulation = nn.ModuleList()
        for channels in in_channels:
            factor = int(math.log2(out_channels // channels)) if out_channels >= channels else 0
            if factor < 1:
                self.spatial_modulation.append(nn.Identity())
                continue
            self.spatial_modulation.append(
                nn.ModuleList(
                    ConvModule(
                        channels * 2**i,
                        channels * 2 ** (i + 1),
                        (1, 3, 3),
                        (1, 2, 2),
                        (0, 1, 1),
                        bias=False,
                        dims=3,
                        norm_cfg=BN3D,
                        act_cfg=RELU,
                    )
                    for i in range(factor)
                )
            )

    def forward(self, x: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for op, feature in zip(self.spatial_modulation, x, strict=False):
            if isinstance(op, nn.ModuleList):
                for conv in op:
                    feature = conv(feature)
            else:
                feature = op(feature)
            out.append(feature)
        return out


class AuxHead(nn.Module):
    """conv (1×3×3, by 2) → global average → dropout 0.5 → ``fc``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        loss_weight: float = 0.5,
        loss_cls: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.conv = ConvModule(
            in_channels, in_channels * 2, (1, 3, 3), (1, 2, 2), (0, 1, 1), bias=False, dims=3,
            norm_cfg=BN3D, act_cfg={"type": "ReLU"},
        )  # fmt: skip
        self.avg_pool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.loss_weight = loss_weight
        self.dropout = nn.Dropout(p=0.5)
        self.fc = nn.Linear(in_channels * 2, out_channels)
        # None: the same kind of loss as the classification head (CE or BCE, from the data).
        self.loss_cls = MODELS.build(loss_cls, key="loss_cls") if loss_cls is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avg_pool(self.conv(x)).flatten(1)
        return self.fc(self.dropout(x))


class TemporalModulation(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, downsample_scale: int = 8) -> None:
        super().__init__()
        self.conv = ConvModule(
            in_channels, out_channels, (3, 1, 1), (1, 1, 1), (1, 0, 0), bias=False, groups=32,
            dims=3, act_cfg=None,
        )  # fmt: skip
        scale = (downsample_scale, 1, 1)
        self.pool = MaxPool3d(scale, scale, (0, 0, 0), ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class TPN(nn.Module):
    output_channels = 2048  # MMAction2's pyramid fusion always gives 2048 channels

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int,
        spatial_modulation_cfg: Mapping[str, Any] | None = None,
        temporal_modulation_cfg: Mapping[str, Any] | None = None,
        upsample_cfg: Mapping[str, Any] | None = None,
        downsample_cfg: Mapping[str, Any] | None = None,
        level_fusion_cfg: Mapping[str, Any] | None = None,
        aux_head_cfg: Mapping[str, Any] | None = None,
        flow_type: str = "cascade",
    ) -> None:
        super().__init__()
        if flow_type not in ("cascade", "parallel"):
            raise config_error("flow_type", f"must be 'cascade' or 'parallel' (got {flow_type!r})")
        if level_fusion_cfg is None or spatial_modulation_cfg is None:
            raise config_error(
                "level_fusion_cfg", "TPN needs level_fusion_cfg and spatial_modulation_cfg"
            )
        self.in_channels, self.out_channels = tuple(in_channels), out_channels
        self.num_tpn_stages, self.flow_type = len(self.in_channels), flow_type
        self.temporal_modulation_ops = nn.ModuleList()
        self.upsample_ops = nn.ModuleList()
        self.downsample_ops = nn.ModuleList()
        self.level_fusion_1 = LevelFusion(**level_fusion_cfg)
        self.spatial_modulation = SpatialModulation(**spatial_modulation_cfg)
        for i in range(self.num_tpn_stages):
            if temporal_modulation_cfg is not None:
                scale = temporal_modulation_cfg["downsample_scales"][i]
                self.temporal_modulation_ops.append(
                    TemporalModulation(self.in_channels[-1], out_channels, scale)
                )
            if i < self.num_tpn_stages - 1:
                if upsample_cfg is not None:
                    self.upsample_ops.append(nn.Upsample(**upsample_cfg))
                if downsample_cfg is not None:
                    self.downsample_ops.append(
                        DownSample(out_channels, out_channels, **downsample_cfg)
                    )
        self.level_fusion_2 = LevelFusion(**level_fusion_cfg)
        self.pyramid_fusion = ConvModule(
            level_fusion_cfg["out_channels"] * 2, 2048, 1, bias=False, dims=3, norm_cfg=BN3D,
            act_cfg={"type": "ReLU"},
        )  # fmt: skip
        self.aux_head = AuxHead(self.in_channels[-2], **aux_head_cfg) if aux_head_cfg else None
        # MMAction2's init: Xavier (uniform) for the 3D convs, 1 for BN; the aux fc N(0, 0.01).
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.aux_head is not None:
            nn.init.normal_(self.aux_head.fc.weight, 0, 0.01)
            nn.init.zeros_(self.aux_head.fc.bias)

    def forward(
        self, x: Sequence[torch.Tensor], with_aux: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Stages (N, C_i, T, H_i, W_i) → (N, 2048, T', H', W') and, with ``with_aux`` and an
        aux head, its logits (N, K)."""
        aux = self.aux_head(x[-2]) if with_aux and self.aux_head is not None else None
        spatial = self.spatial_modulation(x)
        temporal = [op(spatial[i]) for i, op in enumerate(self.temporal_modulation_ops)]
        outs = [t.clone() for t in temporal]
        if len(self.upsample_ops):
            for i in range(self.num_tpn_stages - 1, 0, -1):
                outs[i - 1] = outs[i - 1] + self.upsample_ops[i - 1](outs[i])
        top_down = self.level_fusion_1(outs)
        if self.flow_type == "parallel":
            outs = [t.clone() for t in temporal]
        if len(self.downsample_ops):
            for i in range(self.num_tpn_stages - 1):
                outs[i + 1] = outs[i + 1] + self.downsample_ops[i](outs[i])
        bottom_up = self.level_fusion_2(outs)
        return self.pyramid_fusion(torch.cat([top_down, bottom_up], 1)), aux

    def aux_loss(
        self, logits: torch.Tensor, target: torch.Tensor, default: nn.Module
    ) -> torch.Tensor:
        """``loss_weight`` × the aux head's loss (``default``: the classification head's)."""
        assert self.aux_head is not None  # only called with aux logits, which need the head
        loss = self.aux_head.loss_cls if self.aux_head.loss_cls is not None else default
        return self.aux_head.loss_weight * loss(logits, target)
