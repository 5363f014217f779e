"""MMCV's NonLocal3d (Wang et al. 2018) as MMAction2's ResNet3d uses it, in plain PyTorch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from ._conv import ConvModule, constant, normal


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
