"""MMAction2's ResNet3dCSN: channel-separated ResNets (Tran et al. 2019), in plain PyTorch.

Each bottleneck's 3×3×3 conv is depthwise (``groups=planes``): 'ir' (interaction-reduced) has
only that, 'ip' (interaction-preserved) puts a 1×1×1 conv before it; both sit in ``conv2`` as
a Sequential (``conv2.0``, ``conv2.1``), as in MMAction2's checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from torch import nn

from ...registry import config_error
from ._bricks import ConvModule
from .resnet3d import BasicBlock3d, Bottleneck3d, ResNet3d, resnet3d_args


class CSNBottleneck3d(Bottleneck3d):
    def __init__(
        self, inplanes: int, planes: int, *, bottleneck_mode: str = "ir", **kwargs: Any
    ) -> None:
        super().__init__(inplanes, planes, **kwargs)
        old = self.conv2.conv
        assert isinstance(old, nn.Conv3d)
        norm_cfg, conv_cfg = kwargs.get("norm_cfg"), kwargs.get("conv_cfg")
        convs: list[nn.Module] = []
        if bottleneck_mode == "ip":
            convs.append(
                ConvModule(
                    planes, planes, 1, bias=False, dims=3, conv_cfg=conv_cfg, norm_cfg=norm_cfg
                )
            )
        convs.append(
            ConvModule(
                planes,
                planes,
                old.kernel_size,
                stride=old.stride,
                padding=old.padding,  # type: ignore[arg-type]
                dilation=old.dilation,
                groups=planes,
                bias=False,
                dims=3,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=kwargs.get("act_cfg"),
            )
        )
        self.conv2 = nn.Sequential(*convs)


class ResNet3dCSN(ResNet3d):
    """ir-CSN / ip-CSN at depth 50, 101 or 152. ``bn_frozen`` (with ``norm_eval``) also stops
    BN's affine parameters from learning."""

    arch_settings: ClassVar[dict[int, tuple[type[BasicBlock3d], tuple[int, ...]]]] = {
        50: (CSNBottleneck3d, (3, 4, 6, 3)),
        101: (CSNBottleneck3d, (3, 4, 23, 3)),
        152: (CSNBottleneck3d, (3, 8, 36, 3)),
    }
    defaults: ClassVar[Mapping[str, Any]] = {
        "temporal_strides": (1, 2, 2, 2),
        "conv1_kernel": (3, 7, 7),
        "conv1_stride_t": 1,
        "pool1_stride_t": 1,
        "norm_cfg": {"type": "BN3d", "requires_grad": True, "eps": 1e-3},
        "inflate_style": "3x3x3",
    }

    def __init__(
        self,
        depth: int,
        pretrained: str | None,
        bottleneck_mode: str = "ir",
        bn_frozen: bool = False,
        **kwargs: Any,
    ) -> None:
        nn.Module.__init__(self)
        if bottleneck_mode not in ("ip", "ir"):
            raise config_error("bottleneck_mode", f"must be 'ip' or 'ir' (got {bottleneck_mode!r})")
        self.bottleneck_mode, self.bn_frozen = bottleneck_mode, bn_frozen
        self._build(
            resnet3d_args({"depth": depth, "pretrained": pretrained, **kwargs}, self.defaults)
        )
        self.init_weights()

    def block_args_from(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"bottleneck_mode": self.bottleneck_mode}

    def train(self, mode: bool = True) -> ResNet3dCSN:
        super().train(mode)
        if mode and self.norm_eval and self.bn_frozen:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    for p in m.parameters():
                        p.requires_grad = False
        return self
