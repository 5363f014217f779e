"""MMAction2's ``RandomErasing`` (arXiv:1708.04896): with probability ``erase_prob``, one
rectangle of random area and aspect, the same for every frame of the clip, is filled with a
constant colour or random pixels (fresh for each frame, as MMAction2 draws them)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np

from ..registry import config_error

Results = dict[str, Any]


def _ratio(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise config_error(name, f"must be a number in [0, 1] (got {value!r})")
    return float(value)


def _three(name: str, value: object) -> list[float]:
    if isinstance(value, Number) and not isinstance(value, bool):
        return [float(value)] * 3  # type: ignore[arg-type]
    if (
        isinstance(value, Sequence)
        and len(value) == 3
        and all(isinstance(v, Number) for v in value)
    ):
        return [float(v) for v in value]
    raise config_error(name, f"must be a number or three (R, G, B) numbers (got {value!r})")


class RandomErasing:
    """Erase one random rectangle of every frame of a sample."""

    def __init__(
        self,
        erase_prob: float = 0.5,
        min_area_ratio: float = 0.02,
        max_area_ratio: float = 1 / 3,
        aspect_range: float | Sequence[float] = (3 / 10, 10 / 3),
        mode: str = "const",
        fill_color: float | Sequence[float] = (128, 128, 128),
        fill_std: float | Sequence[float] | None = None,
    ) -> None:
        self.erase_prob = _ratio("erase_prob", erase_prob)
        self.min_area_ratio = _ratio("min_area_ratio", min_area_ratio)
        self.max_area_ratio = _ratio("max_area_ratio", max_area_ratio)
        if self.min_area_ratio > self.max_area_ratio:
            raise config_error("min_area_ratio", "must not be above max_area_ratio")
        if isinstance(aspect_range, int | float) and not isinstance(aspect_range, bool):
            low = min(aspect_range, 1 / aspect_range) if aspect_range > 0 else 0
            aspect_range = (low, 1 / low if low else 0)
        if (
            not isinstance(aspect_range, Sequence)
            or len(aspect_range) != 2
            or not 0 < aspect_range[0] <= aspect_range[1]
        ):
            raise config_error(
                "aspect_range",
                f"must be a ratio or (low, high) with 0 < low ≤ high ({aspect_range!r})",
            )
        if mode not in ("const", "rand"):
            raise config_error("mode", f"must be 'const' or 'rand', not {mode!r}")
        if fill_std is not None and mode == "const":
            raise config_error("fill_std", "is for mode='rand' (a constant fill has no spread)")
        self.aspect_range = (float(aspect_range[0]), float(aspect_range[1]))
        self.mode = mode
        self.fill_color = _three("fill_color", fill_color)
        self.fill_std = None if fill_std is None else _three("fill_std", fill_std)

    def _box(self, height: int, width: int) -> tuple[int, int, int, int]:
        # Aspect drawn in log space (float32 bounds, as MMAction2), area as a share of the frame.
        low, high = np.log(np.array(self.aspect_range, dtype=np.float32))
        aspect = np.exp(np.random.uniform(low, high))
        area = height * width * np.random.uniform(self.min_area_ratio, self.max_area_ratio)
        h = min(round(float(np.sqrt(area * aspect))), height)
        w = min(round(float(np.sqrt(area / aspect))), width)
        top = np.random.randint(0, height - h) if height > h else 0
        left = np.random.randint(0, width - w) if width > w else 0
        return int(top), int(left), h, w

    def _patch(self, h: int, w: int) -> np.ndarray:
        if self.mode == "const":
            return np.broadcast_to(np.array(self.fill_color).astype(np.uint8), (h, w, 3))
        if self.fill_std is None:
            return np.random.uniform(0, 256, (h, w, 3)).astype(np.uint8)
        patch = np.random.normal(self.fill_color, self.fill_std, (h, w, 3))
        return np.clip(patch.astype(np.int32), 0, 255).astype(np.uint8)

    def __call__(self, results: Results) -> Results:
        if np.random.rand() > self.erase_prob:
            return results
        imgs = np.array(results["imgs"])  # a copy: decoded frames may be shared views
        top, left, h, w = self._box(*imgs.shape[1:3])
        for img in imgs:
            img[top : top + h, left : left + w] = self._patch(h, w)
        results["imgs"] = imgs
        return results
