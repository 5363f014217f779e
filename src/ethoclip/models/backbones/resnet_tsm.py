"""TSM: MMAction2's ``ResNetTSM`` — a 2D ResNet whose blocks shift channels along time.

Frames of a sample arrive stacked, (N·segments, C, H, W). A temporal shift moves the first
``C/shift_div`` channels one segment back in time and the next ``C/shift_div`` one segment
forward (zeros at the ends), so a 2D convolution mixes neighbouring frames at no cost.
``shift_place='blockres'`` shifts the input of each block's first conv (every second block in
ResNets with 23+ blocks in stage 3), ``'block'`` the input of whole blocks. ``temporal_pool``
halves the segments before stage 2; ``non_local`` adds 3D non-local blocks after the chosen
blocks. Keys are MMAction2's (``layer1.0.conv1.conv.net.weight``, ``layer2.0.block.…``,
``layer2.0.non_local_block.…``); ``pretrained`` with ``pretrained2d=True`` reads torchvision
ResNet weights as MMAction2 does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...registry import config_error
from .._cpu3d import MaxPool3d
from .._weights import state_dict_from
from ._bricks import NonLocal3d, Wrapper
from .resnet import ResNet, load_mmaction, load_torchvision_resnet


def temporal_shift(x: torch.Tensor, num_segments: int, shift_div: int) -> torch.Tensor:
    """(N·T, C, H, W): channels [0, C/d) take the next frame's values, [C/d, 2C/d) the previous
    frame's; the rest stay."""
    n, c, h, w = x.shape
    x = x.view(-1, num_segments, c, h * w)
    fold = c // shift_div
    # Each element written once: the three moved parts, then zeros only in the two end
    # frames the shift leaves empty (not a zero-filled copy overwritten almost whole).
    out = torch.empty_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]
    out[:, -1:, :fold] = 0
    out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]
    out[:, :1, fold : 2 * fold] = 0
    out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
    return out.view(n, c, h, w)


class TemporalShift(Wrapper):
    wrapped = "net"

    def __init__(self, net: nn.Module, num_segments: int = 3, shift_div: int = 8) -> None:
        super().__init__()
        self.net, self.num_segments, self.shift_div = net, num_segments, shift_div

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(temporal_shift(x, self.num_segments, self.shift_div))


class NL3DWrapper(Wrapper):
    """A block followed by a 3D non-local block over (segments, H, W)."""

    wrapped = "block"

    def __init__(
        self, block: nn.Module, num_segments: int, non_local_cfg: Mapping[str, Any]
    ) -> None:
        super().__init__()
        self.block, self.num_segments = block, num_segments
        channels = int(block.conv3.bn.num_features)  # type: ignore[union-attr, arg-type]
        self.non_local_block = NonLocal3d(channels, **non_local_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        n, c, h, w = x.shape
        x = x.view(n // self.num_segments, self.num_segments, c, h, w).transpose(1, 2)
        x = self.non_local_block(x.contiguous())
        return x.transpose(1, 2).contiguous().view(n, c, h, w)


class TemporalPool(Wrapper):
    """Max-pool the segments by 2 (kernel 3, stride 2, padding 1) before ``net``."""

    wrapped = "net"

    def __init__(self, net: nn.Module, num_segments: int) -> None:
        super().__init__()
        self.net, self.num_segments = net, num_segments
        self.max_pool3d = MaxPool3d(kernel_size=(3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        x = x.view(n // self.num_segments, self.num_segments, c, h, w).transpose(1, 2)
        x = self.max_pool3d(x).transpose(1, 2).contiguous().view(n // 2, c, h, w)
        return self.net(x)


class ResNetTSM(ResNet):
    def __init__(
        self,
        depth: int,
        num_segments: int = 8,
        is_shift: bool = True,
        non_local: Sequence[Any] = (0, 0, 0, 0),
        non_local_cfg: Mapping[str, Any] | None = None,
        shift_div: int = 8,
        shift_place: str = "blockres",
        temporal_pool: bool = False,
        pretrained2d: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(depth, **kwargs)
        if not isinstance(num_segments, int) or num_segments < 1:
            raise config_error("num_segments", f"must be a whole number ≥ 1 (got {num_segments!r})")
        if shift_place not in ("block", "blockres"):
            raise config_error(
                "shift_place", f"must be 'block' or 'blockres' (got {shift_place!r})"
            )
        self.num_segments, self.is_shift, self.shift_div = num_segments, is_shift, shift_div
        self.shift_place, self.temporal_pool = shift_place, temporal_pool
        self.non_local_cfg = dict(non_local_cfg or {})
        # MMAction2's _ntuple: one value repeats for every stage.
        stages = (
            non_local if isinstance(non_local, (list, tuple)) else [non_local] * self.num_stages
        )
        self.non_local_stages = [s if isinstance(s, (list, tuple)) else [s] for s in stages]
        self.pretrained2d = pretrained2d
        self.init_structure()
        self.init_pretrained()

    def init_structure(self) -> None:
        if self.is_shift:
            self.make_temporal_shift()
        if self.non_local_cfg:
            self.make_non_local()
        if self.temporal_pool:
            self.add_module("layer2", TemporalPool(self.get_submodule("layer2"), self.num_segments))

    def _segments_per_stage(self) -> list[int]:
        half = self.num_segments // 2
        segments = (
            [self.num_segments, half, half, half] if self.temporal_pool else [self.num_segments] * 4
        )
        if segments[-1] <= 0:
            raise config_error("num_segments", f"is {self.num_segments}: too few to pool in time")
        return segments

    def make_temporal_shift(self) -> None:
        segments = self._segments_per_stage()
        # ResNet-101/152 shift every second block (MMAction2's n_round).
        every = 2 if len(list(self.get_submodule("layer3").children())) >= 23 else 1
        for i, name in enumerate(self.res_layers):
            stage = getattr(self, name)
            for j, block in enumerate(stage):
                if self.shift_place == "block":
                    stage[j] = TemporalShift(block, segments[i], self.shift_div)
                elif j % every == 0:
                    block.conv1.conv = TemporalShift(block.conv1.conv, segments[i], self.shift_div)

    def make_non_local(self) -> None:
        for i, name in enumerate(self.res_layers):
            flags = self.non_local_stages[i] if i < len(self.non_local_stages) else [0]
            stage = getattr(self, name)
            for j, flag in enumerate(flags):
                if flag:
                    stage[j] = NL3DWrapper(stage[j], self.num_segments, self.non_local_cfg)

    def init_pretrained(self) -> None:
        if not self.pretrained:
            return
        state = state_dict_from(self.pretrained)
        if self.pretrained2d:
            load_torchvision_resnet(self, state, source=self.pretrained)
        else:
            load_mmaction(self, state, source=self.pretrained)
        self.train(self.training)
