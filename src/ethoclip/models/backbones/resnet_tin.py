"""TIN: MMAction2's ``ResNetTIN`` — temporal interlace instead of a fixed shift.

Before each block's first conv, the first ``C/shift_div`` channels are shifted in time by a
*learned, fractional* offset per sample and channel group (two groups, shifted by +o and −o),
linearly interpolated between the two neighbouring whole shifts and weighted per segment by a
learned gate. MMAction2 uses mmcv's CUDA op ``tin_shift`` for the whole-frame shifts; here it
is plain torch with the same forward (``out[t + s] = in[t]``, zeros where ``t + s`` falls
outside) and its true gradient. (mmcv's backward kernel moves the gradient by +s as well, not
by −s; MMAction2 on a GPU therefore trains TIN with other gradients than these.)
Keys are MMAction2's: ``layer1.0.conv1.conv.net1.offset_net.…``, ``…conv.net2.weight``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...registry import config_error
from ._bricks import Wrapper
from .resnet_tsm import ResNetTSM


def tin_shift(data: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """(N, T, C, HW) data, (N, G) whole shifts: channel group g of sample n moves by
    ``shift[n, g]`` frames, ``out[:, t + s] = data[:, t]``; frames shifted in from outside are 0."""
    n, t, c, hw = data.shape
    groups = shift.shape[1]
    if c % groups:
        raise ValueError(f"{c} channels do not split into {groups} shift groups")
    # The source frame of each output frame: t - s, valid when inside [0, T).
    per_channel = shift.long().repeat_interleave(c // groups, dim=1)  # (N, C)
    source = torch.arange(t, device=data.device).view(1, t, 1) - per_channel.view(n, 1, c)
    valid = (source >= 0) & (source < t)
    index = source.clamp(0, t - 1).unsqueeze(-1).expand(n, t, c, hw)
    return torch.gather(data, 1, index) * valid.unsqueeze(-1).to(data.dtype)


def linear_sampler(data: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """(N, T, C, H, W) shifted by fractional (N, G) offsets: the two neighbouring whole shifts,
    mixed linearly."""
    n, t, c, h, w = data.shape
    floor = torch.floor(offset).int()
    flat = data.reshape(n, t, c, h * w)
    low, high = tin_shift(flat, floor), tin_shift(flat, floor + 1)
    w_low = 1 - (offset - floor.float())
    groups = offset.shape[1]
    w_low = w_low.repeat_interleave(c // groups, dim=1)[:, None, :, None]
    w_high = 1 - w_low
    return (w_low * low + w_high * high).view(n, t, c, h, w)


class WeightNet(nn.Module):
    """Per segment and group, a gate in (0, 2) from the pooled descriptor."""

    def __init__(self, in_channels: int, groups: int) -> None:
        super().__init__()
        self.groups = groups
        self.conv = nn.Conv1d(in_channels, groups, 3, padding=1)
        nn.init.zeros_(self.conv.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t = x.shape
        x = self.conv(x).view(n, self.groups, t).permute(0, 2, 1)
        return 2 * torch.sigmoid(x)


class OffsetNet(nn.Module):
    """Per group, a temporal offset in (−2, 2) from the pooled descriptor."""

    def __init__(self, in_channels: int, groups: int, num_segments: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, 1, 3, padding=1)
        self.fc1 = nn.Linear(num_segments, num_segments)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(num_segments, groups)
        # MMAction2's start: sigmoid(0.5108) − 0.5 ≈ 0.125, an offset of about 0.5 frames.
        nn.init.constant_(self.fc2.bias, 0.5108)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t = x.shape
        x = self.fc2(self.relu(self.fc1(self.conv(x).view(n, t))))
        return 4 * (torch.sigmoid(x.view(n, 1, -1)) - 0.5)


class TemporalInterlace(nn.Module):
    def __init__(self, in_channels: int, num_segments: int = 3, shift_div: int = 1) -> None:
        super().__init__()
        self.num_segments, self.shift_div, self.in_channels = num_segments, shift_div, in_channels
        self.deform_groups = 2
        self.offset_net = OffsetNet(in_channels // shift_div, self.deform_groups, num_segments)
        self.weight_net = WeightNet(in_channels // shift_div, self.deform_groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        batches, folds = n // self.num_segments, c // self.shift_div
        descriptor = x[:, :folds].reshape(batches, self.num_segments, folds, h, w)
        # Height, then width, as MMAction2 averages (the same rounding: training is chaotic
        # enough at random init that float noise shows in the gradients).
        pooled = descriptor.mean(3).mean(3).permute(0, 2, 1).contiguous()  # (B, folds, T)
        offset = self.offset_net(pooled).view(batches, -1)
        weight = self.weight_net(pooled)  # (B, T, groups)
        shifted = linear_sampler(descriptor, torch.cat([offset, -offset], 1))
        # MMAction2 repeats each group's gate over folds // 4 channels, twice: (B, T, folds).
        weight = (
            weight[:, :, :, None]
            .repeat(1, 1, 2, folds // 4)
            .reshape(batches, self.num_segments, -1)
        )
        shifted = (shifted * weight[:, :, :, None, None]).reshape(n, folds, h, w)
        return torch.cat([shifted, x[:, folds:]], dim=1)


class CombineNet(Wrapper):
    """``net1`` then ``net2`` (the interlace, then the block's conv)."""

    wrapped = "net2"

    def __init__(self, net1: nn.Module, net2: nn.Module) -> None:
        super().__init__()
        self.net1, self.net2 = net1, net2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net2(self.net1(x))


class ResNetTIN(ResNetTSM):
    def __init__(self, depth: int, is_tin: bool = True, **kwargs: Any) -> None:
        self.is_tin = is_tin
        if kwargs.get("temporal_pool"):
            raise config_error(
                "temporal_pool", "is not used by ResNetTIN (as in MMAction2); leave it out"
            )
        super().__init__(depth, **kwargs)

    def init_structure(self) -> None:
        if self.is_tin:
            for name in self.res_layers:
                for block in getattr(self, name):
                    interlace = TemporalInterlace(
                        block.conv1.conv.in_channels, self.num_segments, self.shift_div
                    )
                    block.conv1.conv = CombineNet(interlace, block.conv1.conv)
        if self.non_local_cfg:
            self.make_non_local()
