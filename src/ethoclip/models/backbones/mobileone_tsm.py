"""TSM on MobileOne: MMAction2's ``MobileOneTSM`` — a temporal shift before every block.

MMAction2 shifts the input of whole blocks (its ``'block'`` placement: ``stage0.net.…``,
``stage1.0.net.…`` — every depthwise and every pointwise block), never inside one, so the
branches still fuse into one conv (``switch_to_deploy``). ``pretrained2d=True`` with
``init_cfg=dict(type='Pretrained', …)`` reads a 2D mmpretrain MobileOne checkpoint and renames
it into the wrappers, as MMAction2 does; with ``pretrained2d=False`` the file has this model's
names. Without ``init_cfg`` the init is mmpretrain's default (MMAction2 would stop, asking
for one). The output is the one selected stage's tensor, not a tuple.
"""

from __future__ import annotations

from typing import Any

import torch

from ...registry import config_error
from .mobilenet_v2_tsm import _into_wrappers
from .mobileone import MobileOne
from .resnet_tsm import TemporalShift


class MobileOneTSM(MobileOne):
    def __init__(
        self,
        arch: Any,
        num_segments: int = 8,
        is_shift: bool = True,
        shift_div: int = 8,
        pretrained2d: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(arch, **kwargs)
        if len(self.out_indices) != 1:
            raise config_error(
                "out_indices", f"MobileOneTSM gives one stage's output (got {self.out_indices})"
            )
        if not isinstance(num_segments, int) or num_segments < 1:
            raise config_error("num_segments", f"must be a whole number ≥ 1 (got {num_segments!r})")
        self.num_segments, self.is_shift, self.shift_div = num_segments, is_shift, shift_div
        self.pretrained2d = pretrained2d
        if is_shift:
            self.stage0 = TemporalShift(self.stage0, num_segments, shift_div)
            for name in self.stages:
                stage = getattr(self, name)
                for i, block in enumerate(stage):
                    stage[i] = TemporalShift(block, num_segments, shift_div)
        self.init_pretrained()

    def checkpoint_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return _into_wrappers(self, state) if self.pretrained2d else state

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)[0]
