"""MMAction2's C3D (Tran et al. 2015), in plain PyTorch, with its names (``conv1a.conv``…,
``fc6``, ``fc7``): eight 3×3×3 convs, five max-pools, two 4096-wide linear layers.

``out_dim`` is the flattened size after pool5: 8192 for 16×112×112 clips (MMAction2's);
other clip sizes need their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._cpu3d import MaxPool3d
from ._bricks import ConvModule
from ._conv import constant, kaiming
from ._inflate import load_3d_weights


class C3D(nn.Module):
    """C3D: (B, 3, T, H, W) → (B, 4096), fc7's output (the head adds no pooling)."""

    def __init__(
        self,
        pretrained: str | None = None,
        style: str = "pytorch",
        conv_cfg: Mapping[str, Any] | None = None,
        norm_cfg: Mapping[str, Any] | None = None,
        act_cfg: Mapping[str, Any] | None = None,
        out_dim: int = 8192,
        dropout_ratio: float = 0.5,
        init_std: float = 0.005,
    ) -> None:
        super().__init__()
        if style not in ("pytorch", "caffe"):
            raise config_error("style", f"must be 'pytorch' or 'caffe' (got {style!r})")
        conv: dict[str, Any] = {
            "kernel_size": 3,
            "padding": 1,
            "dims": 3,
            "conv_cfg": conv_cfg or {"type": "Conv3d"},
            "norm_cfg": norm_cfg,
            "act_cfg": act_cfg or {"type": "ReLU"},
        }
        self.conv1a = ConvModule(3, 64, **conv)
        self.pool1 = MaxPool3d((1, 2, 2), stride=(1, 2, 2))
        self.conv2a = ConvModule(64, 128, **conv)
        self.pool2 = MaxPool3d(2, stride=2)
        self.conv3a = ConvModule(128, 256, **conv)
        self.conv3b = ConvModule(256, 256, **conv)
        self.pool3 = MaxPool3d(2, stride=2)
        self.conv4a = ConvModule(256, 512, **conv)
        self.conv4b = ConvModule(512, 512, **conv)
        self.pool4 = MaxPool3d(2, stride=2)
        self.conv5a = ConvModule(512, 512, **conv)
        self.conv5b = ConvModule(512, 512, **conv)
        self.pool5 = MaxPool3d(2, stride=2, padding=(0, 1, 1))
        self.fc6 = nn.Linear(out_dim, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout_ratio)
        self.out_dim, self.out_channels = out_dim, 4096
        if pretrained is None:
            for m in self.modules():
                if isinstance(m, nn.Conv3d):
                    kaiming(m)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, init_std)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                    constant(m, 1.0)
        else:
            load_3d_weights(self, pretrained)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) → (B, 4096)."""
        x = self.pool1(self.conv1a(x))
        x = self.pool2(self.conv2a(x))
        x = self.pool3(self.conv3b(self.conv3a(x)))
        x = self.pool4(self.conv4b(self.conv4a(x)))
        x = self.pool5(self.conv5b(self.conv5a(x))).flatten(1)
        if x.shape[1] != self.out_dim:
            raise ValueError(
                f"C3D: the clips give {x.shape[1]} features after pool5 but out_dim is "
                f"{self.out_dim}; set backbone.out_dim={x.shape[1]} for clips of this size"
            )
        x = self.dropout(self.relu(self.fc6(x)))
        return self.relu(self.fc7(x))
