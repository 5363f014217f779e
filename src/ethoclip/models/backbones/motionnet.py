"""``MotionNet``: ethoclip's default model where there is no GPU or no pretrained weights.

Behaviour cameras are mostly static, so what tells behaviours apart is how the animal moves and
how it differs from the background. Learning that from RGB alone takes more data and CPU time
than a user has, so the network is given it (DeepEthogram feeds optical flow for the same
reason; flow itself is too slow on a CPU):

- the frames themselves (posture, colour, where things are);
- frame-to-frame differences (small, fast movements: a peck, a claw wave);
- the frames minus the clip's mean frame (the animal against its background).

A per-frame 2D stem brings the picture down cheaply, (2+1)D blocks then mix space and time,
and two coordinate channels let the features say *where* something is (position behaviours:
at the surface, by the wall). Pooling keeps the maximum beside the mean, over space and over
time, so a small animal (a few percent of the frame) or a short event in a long clip is not
averaged away. It outputs (N, C, 1, 1, 1), so MMAction2's ``I3DHead`` classifies it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...registry import config_error
from .._cpu3d import Conv3d
from .._weights import load_into, state_dict_from


def _conv_bn(
    cin: int, cout: int, kernel: tuple[int, ...], stride: tuple[int, ...], dims: int
) -> nn.Sequential:
    conv: nn.Module
    padding = tuple(k // 2 for k in kernel)
    if dims == 2:
        conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)  # type: ignore[arg-type]
        norm: nn.Module = nn.BatchNorm2d(cout)
    else:
        conv = Conv3d(cin, cout, kernel, stride, padding, bias=False)  # type: ignore[arg-type]
        norm = nn.BatchNorm3d(cout)
    return nn.Sequential(conv, norm, nn.ReLU(inplace=True))


class _Block(nn.Module):
    """(2+1)D: a spatial 3×3 convolution, then a temporal one, with a shortcut when shapes allow."""

    def __init__(self, cin: int, cout: int, spatial_stride: int, temporal_stride: int) -> None:
        super().__init__()
        self.spatial = _conv_bn(cin, cout, (1, 3, 3), (1, spatial_stride, spatial_stride), 3)
        self.temporal = _conv_bn(cout, cout, (3, 1, 1), (temporal_stride, 1, 1), 3)
        self.residual = cin == cout and spatial_stride == 1 and temporal_stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.temporal(self.spatial(x))
        return y + x if self.residual else y


class MotionNet(nn.Module):
    """Frames + motion + foreground → per-frame stem → (2+1)D blocks → mean and max pooling.

    ``widths``: the two stem layers' channels, then one (2+1)D block per further width (the
    first keeps the frame rate, later ones halve it). ``motion``/``foreground``/``coords``
    switch the derived inputs off (for ablations); ``pool`` is ``'avgmax'`` or ``'avg'``.
    """

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 48, 96, 128),
        in_channels: int = 3,
        motion: bool = True,
        foreground: bool = True,
        coords: bool = True,
        pool: str = "avgmax",
        pretrained: str | None = None,
    ) -> None:
        super().__init__()
        if len(widths) < 3 or any(not isinstance(w, int) or w < 1 for w in widths):
            raise config_error(
                "widths", f"must be 3 or more positive whole numbers (got {widths!r})"
            )
        if pool not in ("avgmax", "avg"):
            raise config_error("pool", f"must be 'avgmax' or 'avg' (got {pool!r})")
        self.motion, self.foreground, self.coords, self.pool = motion, foreground, coords, pool
        channels = in_channels * (1 + int(motion) + int(foreground))
        self.stem = nn.Sequential(
            _conv_bn(channels, widths[0], (3, 3), (2, 2), 2),
            _conv_bn(widths[0], widths[1], (3, 3), (2, 2), 2),
        )
        blocks = []
        cin = widths[1] + (2 if coords else 0)
        for k, width in enumerate(widths[2:]):
            blocks.append(_Block(cin, width, spatial_stride=2, temporal_stride=1 if k == 0 else 2))
            cin = width
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = widths[-1] * (4 if pool == "avgmax" else 1)
        if pretrained:
            load_into(self, state_dict_from(pretrained), source=pretrained)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) → the frames with their motion and foreground channels."""
        parts = [x]
        if self.motion:
            parts.append(torch.diff(x, dim=2, prepend=x[:, :, :1]))  # first frame: no motion
        if self.foreground:
            # The clip's mean frame is the background wherever the animal moves within it (the
            # median would be cleaner, but costs a fifth of a training step on a CPU).
            parts.append(x - x.mean(dim=2, keepdim=True))
        return torch.cat(parts, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) → (N, out_channels, 1, 1, 1)."""
        x = self.inputs(x)
        n, c, t, h, w = x.shape
        frames = self.stem(x.transpose(1, 2).reshape(n * t, c, h, w))
        _, c, h, w = frames.shape
        x = frames.reshape(n, t, c, h, w).transpose(1, 2)
        if self.coords:
            ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
            xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
            grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"))  # (2, h, w)
            x = torch.cat([x, grid[None, :, None].expand(n, 2, t, h, w)], dim=1)
        x = self.blocks(x)
        if self.pool == "avg":
            return x.mean(dim=(2, 3, 4), keepdim=True)
        space = torch.cat([x.mean(dim=(3, 4)), x.amax(dim=(3, 4))], dim=1)  # (N, 2C, T)
        pooled = torch.cat([space.mean(dim=2), space.amax(dim=2)], dim=1)  # (N, 4C)
        return pooled[:, :, None, None, None]
