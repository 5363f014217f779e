"""MMAction2's ``PytorchVideoWrapper(op='RandAugment')``: pytorchvideo's video RandAugment,
written here on torchvision's functional ops (pytorchvideo is not a dependency; its
RandAugment is a thin layer over the same torchvision calls).

The definition (pytorchvideo 0.1.5 ``transforms/rand_augment.py`` and ``augmentations.py``):
``num_layers`` different ops out of 14, each applied with probability ``prob`` at a magnitude
drawn around ``magnitude`` (normal, std ``sampling_std``, clamped to 0..10; or uniform in
0..magnitude), the same for every frame of the clip. Magnitude m maps to the op's argument:
colour factors 1 ± 0.09·m, rotation ± 3·m degrees, shear ± 0.03·m, translation ± 0.045·m of
the size, posterize to 4 − int(0.4·m) bits, solarize at 1 − 0.1·m; the sign is a coin toss.

MMAction2 hands pytorchvideo uint8 frames, so pytorchvideo's fill of 0.5 for the geometric
ops becomes 0 (black) and its solarize threshold (≤ 1) inverts every pixel above 0; both are
kept. Random draws come from a generator seeded from numpy's (seeded per sample by the
dataset), so a sample is augmented the same way in every worker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torchvision.transforms.functional as F
from torchvision.transforms import _functional_tensor as F_t  # the raw-matrix affine

from ..registry import config_error

Results = dict[str, Any]
_MAX_LEVEL = 10.0
_FILL = [0.5, 0.5, 0.5]  # pytorchvideo's, in the frames' dtype (0 for uint8)


def _affine(video: torch.Tensor, matrix: list[float]) -> torch.Tensor:
    return F_t.affine(video, matrix, interpolation="bilinear", fill=_FILL)


# name → (op, magnitude → argument); None: the op takes no argument.
def _signed(scale: float, base: float = 0.0) -> Callable[[float, bool], float]:
    return lambda m, negate: base + (-1 if negate else 1) * m / _MAX_LEVEL * scale


OPS: dict[str, tuple[Callable[..., torch.Tensor], Callable[[float, bool], float] | None]] = {
    "AdjustBrightness": (F.adjust_brightness, _signed(0.9, 1.0)),
    "AdjustContrast": (F.adjust_contrast, _signed(0.9, 1.0)),
    "AdjustSaturation": (F.adjust_saturation, _signed(0.9, 1.0)),
    "AdjustSharpness": (F.adjust_sharpness, _signed(0.9, 1.0)),
    "AutoContrast": (F.autocontrast, None),
    "Equalize": (F.equalize, None),
    "Invert": (F.invert, None),
    "Rotate": (
        lambda v, a: F.rotate(v, a, interpolation=F.InterpolationMode.BILINEAR, fill=_FILL),
        _signed(30.0),
    ),
    "Posterize": (
        lambda v, bits: v if bits >= 8 else F.posterize(v, int(bits)),
        lambda m, _: 4 - int(m / _MAX_LEVEL * 4),
    ),
    "Solarize": (F.solarize, lambda m, _: 1 - m / _MAX_LEVEL * 1),
    "ShearX": (lambda v, f: _affine(v, [1, f, v.shape[-2] * f / 2, 0, 1, 0]), _signed(0.3)),
    "ShearY": (lambda v, f: _affine(v, [1, 0, 0, f, 1, v.shape[-1] * f / 2]), _signed(0.3)),
    "TranslateX": (lambda v, f: _affine(v, [1, 0, f * v.shape[-1], 0, 1, 0]), _signed(0.45)),
    "TranslateY": (lambda v, f: _affine(v, [1, 0, 0, 0, 1, f * v.shape[-2]]), _signed(0.45)),
}
# Ops whose level function negates at random (pytorchvideo draws the coin after the level).
_NEGATED = {
    n for n in OPS if n not in ("AutoContrast", "Equalize", "Invert", "Posterize", "Solarize")
}


class RandAugment:
    """pytorchvideo's ``RandAugment`` on a (T, C, H, W) uint8 clip."""

    def __init__(
        self,
        magnitude: int = 9,
        num_layers: int = 2,
        prob: float = 0.5,
        sampling_type: str = "gaussian",
        sampling_hparas: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(magnitude, int | float) or not 0 <= magnitude <= _MAX_LEVEL:
            raise config_error("magnitude", f"must be a number in [0, 10] (got {magnitude!r})")
        if not isinstance(num_layers, int) or not 1 <= num_layers <= len(OPS):
            raise config_error("num_layers", f"must be 1 to {len(OPS)} (got {num_layers!r})")
        if not 0 <= prob <= 1:
            raise config_error("prob", f"must be in [0, 1] (got {prob!r})")
        if sampling_type not in ("gaussian", "uniform"):
            raise config_error(
                "sampling_type", f"must be 'gaussian' or 'uniform', not {sampling_type!r}"
            )
        hparas = dict(sampling_hparas or {"sampling_std": 0.5})
        if sampling_type == "gaussian" and "sampling_std" not in hparas:
            raise config_error("sampling_hparas", "needs 'sampling_std' for gaussian sampling")
        self.magnitude = magnitude
        self.num_layers = num_layers
        self.prob = prob
        self.sampling_type = sampling_type
        self.sampling_std = float(hparas.get("sampling_std", 0.5))

    def _level(self, generator: torch.Generator) -> float:
        if self.sampling_type == "gaussian":
            draw = torch.normal(
                float(self.magnitude), self.sampling_std, size=(1,), generator=generator
            )
            return max(0.0, min(_MAX_LEVEL, float(draw)))
        return float(torch.randint(0, int(self.magnitude) + 1, (1,), generator=generator))

    def __call__(self, video: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        names = list(OPS)
        chosen = torch.multinomial(torch.ones(len(names)), self.num_layers, generator=generator)
        for index in chosen.tolist():
            if float(torch.rand(1, generator=generator)) > self.prob:
                continue
            op, level = OPS[names[index]]
            magnitude = self._level(generator)  # drawn for every op, as pytorchvideo does
            if level is None:
                video = op(video)
                continue
            negate = names[index] in _NEGATED and float(torch.rand(1, generator=generator)) <= 0.5
            video = op(video, level(magnitude, negate))
        return video


class PytorchVideoWrapper:
    """MMAction2's wrapper of pytorchvideo transforms; ``op='RandAugment'`` is implemented
    (the only one MMAction2 1.2.0's configs use), the others are refused by name."""

    def __init__(self, op: str, **kwargs: Any) -> None:
        if op != "RandAugment":
            raise config_error(
                "op",
                f"{op!r} is not implemented (ethoclip has no pytorchvideo): only 'RandAugment'; "
                "for the crops and scales use RandomResizedCrop / RandomRescale instead",
            )
        self.transform = RandAugment(**kwargs)

    def __call__(self, results: Results) -> Results:
        imgs = (
            np.stack(results["imgs"])
            if not isinstance(results["imgs"], np.ndarray)
            else results["imgs"]
        )
        generator = torch.Generator()
        generator.manual_seed(int(np.random.randint(0, 2**31 - 1)))
        clip = torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1, 2)  # T, C, H, W
        out = self.transform(clip, generator)
        results["imgs"] = out.permute(0, 2, 3, 1).contiguous().numpy()
        return results
