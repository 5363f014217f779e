"""Video CNN backbones under MMAction2's names, built from torchvision's models.

Every backbone has ``out_channels`` (what the head receives). Arguments MMAction2 has but
torchvision's structure cannot honour are errors, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from ..registry import config_error
from ._cpu3d import Conv3d, MaxPool3d
from ._weights import load_into, state_dict_from


def _must_be(name: str, value: Any, allowed: Any, why: str) -> None:
    if value != allowed:
        raise config_error(name, f"must be {allowed!r} here (got {value!r}): {why}")


def _freeze(modules: Sequence[nn.Module]) -> None:
    for module in modules:
        module.eval()
        for param in module.parameters():
            param.requires_grad = False


def _bn_eval(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


class _TorchvisionVideoNet(nn.Module):
    """A torchvision video ResNet, no pooling or classifier: (B, 3, T, H, W) → (B, C, t, h, w)."""

    builder = ""

    def __init__(
        self,
        depth: int = 18,
        pretrained: str | None = None,
        norm_eval: bool = False,
        frozen_stages: int = -1,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        from torchvision.models import video

        _must_be("depth", depth, 18, f"torchvision has {self.builder} at depth 18 only")
        _must_be("in_channels", in_channels, 3, "torchvision's video models take RGB")
        net = getattr(video, self.builder)(weights=None)
        self.stem = net.stem
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            net.layer1,
            net.layer2,
            net.layer3,
            net.layer4,
        )
        self.out_channels = net.fc.in_features
        self.norm_eval, self.frozen_stages = norm_eval, frozen_stages
        if pretrained:
            load_into(self, state_dict_from(pretrained), source=pretrained, ignore=("fc.",))
        self.train()

    def train(self, mode: bool = True) -> _TorchvisionVideoNet:
        super().train(mode)
        if self.frozen_stages >= 0:
            _freeze(
                [self.stem, *[getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]]
            )
        if mode and self.norm_eval:
            _bn_eval(self)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class TVResNet2Plus1d18(_TorchvisionVideoNet):
    """torchvision's R(2+1)D-18 (Kinetics-400 weights: ``torchvision://R2Plus1D_18_Weights.KINETICS400_V1``);
    MMAction2's ResNet2Plus1d is models/backbones/resnet2plus1d.py."""

    builder = "r2plus1d_18"


class TVResNet3d18(_TorchvisionVideoNet):
    """torchvision's R3D-18 (Kinetics-400 weights: ``torchvision://R3D_18_Weights.KINETICS400_V1``);
    MMAction2's ResNet3d is models/backbones/resnet3d.py."""

    builder = "r3d_18"


class TVSwinTransformer3D(nn.Module):
    """Video Swin (torchvision's swin3d_t/s/b; ``pretrained='torchvision://Swin3D_T_Weights.KINETICS400_V1'``)."""

    ARCHS: ClassVar[dict[str, str]] = {"tiny": "swin3d_t", "small": "swin3d_s", "base": "swin3d_b"}

    def __init__(
        self,
        arch: str = "tiny",
        pretrained: str | None = None,
        drop_path_rate: float = 0.1,
        patch_size: Sequence[int] = (2, 4, 4),
        window_size: Sequence[int] = (8, 7, 7),
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        from torchvision.models import video

        if arch not in self.ARCHS:
            raise config_error("arch", f"must be one of {', '.join(self.ARCHS)} (got {arch!r})")
        _must_be("patch_size", tuple(patch_size), (2, 4, 4), "torchvision's Video Swin uses 2×4×4")
        _must_be(
            "window_size", tuple(window_size), (8, 7, 7), "torchvision's Video Swin uses 8×7×7"
        )
        _must_be("in_channels", in_channels, 3, "Video Swin takes RGB")
        net = getattr(video, self.ARCHS[arch])(weights=None)
        # torchvision builds every Video Swin with stochastic depth 0.1 (rising per block):
        # rescale it to the configured rate.
        from torchvision.ops import StochasticDepth

        for module in net.modules():
            if isinstance(module, StochasticDepth):
                module.p = module.p * drop_path_rate / 0.1
        self.patch_embed, self.pos_drop, self.features, self.norm = (
            net.patch_embed,
            net.pos_drop,
            net.features,
            net.norm,
        )
        self.out_channels = net.head.in_features
        if pretrained:
            load_into(
                self, state_dict_from(pretrained), source=pretrained, ignore=("head.", "avgpool.")
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) → (B, C, T/2, H/32, W/32)."""
        x = self.norm(self.features(self.pos_drop(self.patch_embed(x))))
        return x.permute(0, 4, 1, 2, 3)


class TinyVideoNet(nn.Module):
    """A small 3D CNN (conv–BN–ReLU–pool blocks): trains in minutes on a CPU. No weights.

    With ``motion`` (default), the frame-to-frame differences go in beside the frames: small,
    fast movements (a wagging tail) are then visible to the first layer instead of having to
    be discovered by it, which a CPU budget of a few minutes does not allow. A
    ``motion_mask`` (N, 1, T, H, W) given to ``forward`` keeps the differences only where it
    is 1 (``HybridNet``: where the animal is, so sensor noise is not motion).
    """

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 64, 128),
        in_channels: int = 3,
        motion: bool = True,
        pretrained: str | None = None,
    ) -> None:
        super().__init__()
        if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
            raise config_error("widths", f"must be positive whole numbers (got {widths!r})")
        self.motion = motion
        layers: list[nn.Module] = []
        channels = in_channels * (2 if motion else 1)
        for i, width in enumerate(widths):
            # The first block strides in space instead of pooling after a full-size convolution
            # (a quarter of the work); time is pooled from the second block on, so the early
            # layers see motion at the full sampled rate.
            layers += [
                Conv3d(
                    channels,
                    width,
                    kernel_size=3,
                    padding=1,
                    stride=(1, 2, 2) if i == 0 else 1,
                    bias=False,
                ),
                nn.BatchNorm3d(width),
                nn.ReLU(inplace=True),
            ]
            if i > 0:
                layers.append(MaxPool3d(2, ceil_mode=True))
            channels = width
        self.features = nn.Sequential(*layers)
        self.out_channels = channels
        if pretrained:
            load_into(self, state_dict_from(pretrained), source=pretrained)

    def forward(self, x: torch.Tensor, motion_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C, T, H, W) → (B, widths[-1], T', H', W')."""
        if self.motion:
            diff = torch.diff(x, dim=2, prepend=x[:, :, :1])  # first frame: no motion
            if motion_mask is not None:
                diff = diff * motion_mask
            x = torch.cat([x, diff], dim=1)
        return self.features(x)
