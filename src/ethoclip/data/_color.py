"""MMAction2's ``ColorJitter``: brightness, contrast, saturation and hue factors drawn once per
sample, applied to every frame in one order fixed when the transform is built.

Hue works in OpenCV's 8-bit HSV (hue 0..179, as MMAction2 converts with ``cv2``); the
conversion here is written from OpenCV's documented definition in numpy (no OpenCV
dependency): RGB→HSV in OpenCV's 12-bit fixed point, HSV→RGB in single precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..registry import config_error

Results = dict[str, Any]
_SHIFT = 12  # OpenCV's hsv_shift: fixed point for the 8-bit divisions
_ROUND = 1 << (_SHIFT - 1)


def _div_table(numerator: float) -> np.ndarray:
    table = np.zeros(256, np.int64)
    table[1:] = np.rint(numerator / np.arange(1, 256, dtype=np.float64))
    return table


_SDIV = _div_table(float(255 << _SHIFT))
_HDIV = _div_table(float(180 << _SHIFT) / 6.0)


def rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    """(…, 3) uint8 RGB → uint8 HSV with H in 0..179, S and V in 0..255 (OpenCV's)."""
    rgb = img.astype(np.int64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = np.maximum(np.maximum(r, g), b)
    diff = v - np.minimum(np.minimum(r, g), b)
    s = (diff * _SDIV[v] + _ROUND) >> _SHIFT
    h = np.where(v == r, g - b, np.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    h = (h * _HDIV[diff] + _ROUND) >> _SHIFT
    h = np.where(h < 0, h + 180, h)
    return np.stack([h, s, v], axis=-1).astype(np.uint8)


# For each sextant of hue, which of (v, v(1-s), v(1-sf), v(1-s(1-f))) is blue, green, red.
_SECTORS = np.array([[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]])


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """uint8 HSV (H 0..179) → uint8 RGB, in float32 as OpenCV computes it."""
    f32 = np.float32
    h = hsv[..., 0].astype(f32) * f32(6.0 / 180.0)
    s = hsv[..., 1].astype(f32) * f32(1.0 / 255.0)
    v = hsv[..., 2].astype(f32) * f32(1.0 / 255.0)
    h = np.where(h >= 6, h - f32(6), h)
    sector = np.floor(h).astype(np.int64)
    frac = h - sector.astype(f32)
    sector = np.clip(sector, 0, 5)
    one = f32(1)
    tab = np.stack([v, v * (one - s), v * (one - s * frac), v * (one - s * (one - frac))], -1)
    pick = _SECTORS[sector]  # (…, 3): blue, green, red
    bgr = np.take_along_axis(tab, pick, axis=-1)
    bgr = np.where((s == 0)[..., None], v[..., None], bgr)
    rgb = bgr[..., ::-1] * f32(255)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _range(
    value: float | Sequence[float], name: str, limit: float, base: float
) -> tuple[float, float]:
    """MMAction2's ``check_input``: a number means base ± value, a pair is the range itself."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2 or not base - limit <= value[0] <= value[1] <= base + limit:
            raise config_error(
                name,
                f"must be (low, high) with {base - limit} ≤ low ≤ high ≤ {base + limit} "
                f"(got {value!r})",
            )
        return float(value[0]), float(value[1])
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= limit:
        raise config_error(
            name, f"must be a number in [0, {limit}] or a (low, high) pair (got {value!r})"
        )
    return base - float(value), base + float(value)


def _gray(img: np.ndarray) -> np.ndarray:
    return 0.2989 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]


class ColorJitter:
    """Random brightness, contrast, saturation and hue, the same for every frame of a sample.

    A number ``x`` means factors in (1 − x, 1 + x) (hue: shifts in (−x, x) of the hue circle,
    at most 0.5); a pair is the range. The order of the four is drawn once, when the
    transform is built, as MMAction2 does.
    """

    def __init__(
        self,
        brightness: float | Sequence[float] = 0.5,
        contrast: float | Sequence[float] = 0.5,
        saturation: float | Sequence[float] = 0.5,
        hue: float | Sequence[float] = 0.1,
    ) -> None:
        self.brightness = _range(brightness, "brightness", 1, 1)
        self.contrast = _range(contrast, "contrast", 1, 1)
        self.saturation = _range(saturation, "saturation", 1, 1)
        self.hue = _range(hue, "hue", 0.5, 0)
        self.fn_idx = np.random.permutation(4)

    def jitter(self, img: np.ndarray, factors: tuple[float, float, float, float]) -> np.ndarray:
        """One (H, W, 3) uint8 frame with the given brightness, contrast, saturation, hue."""
        b, c, s, h = factors
        out: np.ndarray = img.astype(np.float32)
        for fn in self.fn_idx:
            if fn == 0 and b != 1:
                out *= b
            elif fn == 1 and c != 1:
                out = c * out + (1 - c) * np.mean(_gray(out))
            elif fn == 2 and s != 1:
                out = s * out + (1 - s) * np.stack([_gray(out)] * 3, axis=-1)
            elif fn == 3 and h != 0:
                hsv = rgb_to_hsv(np.clip(out, 0, 255).astype(np.uint8))
                # A rotation of the hue circle (MMAction2 adds in uint8, which wraps at 256
                # for large shifts and fails for negative ones under numpy 2).
                shifted = (hsv[..., 0].astype(np.int64) + int(h * 255)) % 180
                hsv[..., 0] = shifted.astype(np.uint8)
                out = hsv_to_rgb(hsv).astype(np.float32)
        return np.clip(out, 0, 255).astype(np.uint8)

    def __call__(self, results: Results) -> Results:
        factors = (
            float(np.random.uniform(low=self.brightness[0], high=self.brightness[1])),
            float(np.random.uniform(low=self.contrast[0], high=self.contrast[1])),
            float(np.random.uniform(low=self.saturation[0], high=self.saturation[1])),
            float(np.random.uniform(low=self.hue[0], high=self.hue[1])),
        )
        imgs = results["imgs"]
        results["imgs"] = np.stack([self.jitter(img, factors) for img in imgs])
        return results
