"""TSM on MobileNetV2: MMAction2's ``MobileNetV2TSM`` — the temporal shift before the first
conv of every inverted residual that has an expansion conv and a residual connection
(keys ``layer2.1.conv.0.net.conv.weight`` …)."""

from __future__ import annotations

from typing import Any

from torch import nn

from .._weights import state_dict_from
from .mobilenet_v2 import InvertedResidual, MobileNetV2
from .resnet import load_mmaction
from .resnet_tsm import TemporalShift


class MobileNetV2TSM(MobileNetV2):
    def __init__(
        self,
        num_segments: int = 8,
        is_shift: bool = True,
        shift_div: int = 8,
        pretrained2d: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_segments, self.is_shift, self.shift_div = num_segments, is_shift, shift_div
        self.pretrained2d = pretrained2d
        if is_shift:
            for m in self.modules():
                if isinstance(m, InvertedResidual) and len(m.conv) == 3 and m.use_res_connect:
                    m.conv[0] = TemporalShift(m.conv[0], num_segments, shift_div)
        self.init_pretrained()

    def init_pretrained(self) -> None:
        """``pretrained2d``: a 2D MobileNetV2 checkpoint (mmcls names, no ``.net``) is renamed
        into the shifted blocks, as MMAction2 does; otherwise the file has this model's names."""
        if not self.pretrained:
            return
        state = state_dict_from(self.pretrained)
        if self.pretrained2d:
            state = _into_wrappers(self, state)
        load_mmaction(self, state, source=self.pretrained)
        self.train(self.training)


def _into_wrappers(model: nn.Module, state: dict[str, Any]) -> dict[str, Any]:
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone.") :]: v for k, v in state.items() if k.startswith("backbone.")}
    # A shift at ``layer2.1.conv.0`` keeps the conv it wraps at ``layer2.1.conv.0.net``.
    wrapped = {
        name: f"{name}.{m.wrapped}"
        for name, m in model.named_modules()
        if isinstance(m, TemporalShift)
    }
    out = {}
    for key, value in state.items():
        for plain, name in wrapped.items():
            if key.startswith(plain + "."):
                key = name + key[len(plain) :]
                break
        out[key] = value
    return out
