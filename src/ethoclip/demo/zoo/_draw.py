"""Drawing for the zoo's scenes: shapes in world (reference-frame) coordinates on a frame of
any size, and what a real camera adds (drift, light changes, sensor noise).

Shapes are drawn inside their bounding box only, so a frame costs what its animals cover, not
what the whole picture does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Colour = tuple[float, float, float]


class Canvas:
    """One frame being drawn: float32 RGB at the output size, addressed in world coordinates.

    ``scale`` is output pixels per world unit; ``offset`` is the world point at the frame's top
    left corner (a drifting camera moves it).
    """

    def __init__(self, image: np.ndarray, scale: float, offset: tuple[float, float]) -> None:
        self.image = image
        self.scale = scale
        self.ox, self.oy = offset

    def _grid(
        self, x0: float, y0: float, x1: float, y1: float
    ) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray] | None:
        """The pixels whose centres may lie in the world box, and their world coordinates."""
        height, width = self.image.shape[:2]
        px0 = max(0, math.floor((x0 - self.ox) * self.scale))
        px1 = min(width, math.ceil((x1 - self.ox) * self.scale) + 1)
        py0 = max(0, math.floor((y0 - self.oy) * self.scale))
        py1 = min(height, math.ceil((y1 - self.oy) * self.scale) + 1)
        if px0 >= px1 or py0 >= py1:
            return None
        xs = (np.arange(px0, px1) + 0.5) / self.scale + self.ox
        ys = (np.arange(py0, py1) + 0.5) / self.scale + self.oy
        gx, gy = np.meshgrid(xs, ys)
        return (slice(py0, py1), slice(px0, px1)), gx, gy

    def _paint(
        self,
        box: tuple[float, float, float, float],
        inside: Callable[[np.ndarray, np.ndarray], np.ndarray],
        colour: Colour,
        alpha: float,
    ) -> None:
        grid = self._grid(*box)
        if grid is None:
            return
        where, gx, gy = grid
        mask = inside(gx, gy)
        patch = self.image[where]
        if alpha >= 1.0:
            patch[mask] = colour
        else:
            patch[mask] = patch[mask] * (1 - alpha) + np.asarray(colour, np.float32) * alpha

    def ellipse(
        self,
        cx: float,
        cy: float,
        a: float,
        b: float,
        angle: float,
        colour: Colour,
        alpha: float = 1.0,
    ) -> None:
        """Semi-axes ``a`` (along ``angle``, radians from +x) and ``b``."""
        cos, sin = math.cos(angle), math.sin(angle)
        r = max(a, b)

        def inside(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
            u = (gx - cx) * cos + (gy - cy) * sin
            v = -(gx - cx) * sin + (gy - cy) * cos
            return (u / a) ** 2 + (v / b) ** 2 <= 1.0

        self._paint((cx - r, cy - r, cx + r, cy + r), inside, colour, alpha)

    def disk(self, cx: float, cy: float, r: float, colour: Colour, alpha: float = 1.0) -> None:
        self.ellipse(cx, cy, r, r, 0.0, colour, alpha)

    def segment(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        half_width: float,
        colour: Colour,
        alpha: float = 1.0,
    ) -> None:
        """A thick line with round ends."""
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy or 1e-9

        def inside(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
            t = np.clip(((gx - x0) * dx + (gy - y0) * dy) / length2, 0.0, 1.0)
            return np.hypot(gx - (x0 + t * dx), gy - (y0 + t * dy)) <= half_width

        h = half_width
        box = (min(x0, x1) - h, min(y0, y1) - h, max(x0, x1) + h, max(y0, y1) + h)
        self._paint(box, inside, colour, alpha)

    def triangle(
        self, points: tuple[tuple[float, float], ...], colour: Colour, alpha: float = 1.0
    ) -> None:
        (ax, ay), (bx, by), (qx, qy) = points

        def inside(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
            d1 = (gx - bx) * (ay - by) - (ax - bx) * (gy - by)
            d2 = (gx - qx) * (by - qy) - (bx - qx) * (gy - qy)
            d3 = (gx - ax) * (qy - ay) - (qx - ax) * (gy - ay)
            negative = (d1 < 0) | (d2 < 0) | (d3 < 0)
            positive = (d1 > 0) | (d2 > 0) | (d3 > 0)
            return ~(negative & positive)

        xs, ys = (ax, bx, qx), (ay, by, qy)
        self._paint((min(xs), min(ys), max(xs), max(ys)), inside, colour, alpha)


def texture(
    rng: np.random.Generator,
    width: int,
    height: int,
    base: Colour,
    coarse: float,
    fine: float,
    cell: int = 8,
) -> np.ndarray:
    """A (height, width, 3) float32 surface: a base colour with blotches and grain."""
    blotch = rng.normal(0, coarse, (height // cell + 1, width // cell + 1, 1))
    blotch = blotch.repeat(cell, 0).repeat(cell, 1)[:height, :width]
    grain = rng.normal(0, fine, (height, width, 1))
    return (np.asarray(base, np.float32) + blotch + grain).astype(np.float32)


@dataclass(frozen=True)
class Camera:
    """What the camera adds: ``drift`` world units of slow sway (0: a static camera), a
    brightness swing of ± ``light`` (a share) every ``light_period_sec``, brightness steps of
    ``steps`` (clouds, a lamp) at ``step_times``, and sensor noise of ``noise`` grey levels."""

    drift: float = 0.0
    light: float = 0.0
    light_period_sec: float = 20.0
    noise: float = 3.0
    steps: float = 0.0
    step_every_sec: float = 0.0

    def offset(self, t: float) -> tuple[float, float]:
        if not self.drift:
            return 0.0, 0.0
        # Incommensurate periods: the sway never repeats within a video.
        return (
            self.drift * (1 + math.sin(2 * math.pi * t / 11.3)),
            self.drift * (1 + math.sin(2 * math.pi * t / 7.1 + 1.0)),
        )

    def gain(self, t: float) -> float:
        g = 1.0 + self.light * math.sin(2 * math.pi * t / self.light_period_sec)
        if self.steps and self.step_every_sec:
            # A square wave of brightness: the light jumps between two levels.
            g *= 1.0 - self.steps * (int(t // self.step_every_sec) % 2)
        return g

    def finish(self, image: np.ndarray, t: float, seed: int, index: int) -> np.ndarray:
        """Light and noise (seeded per frame, so any frame can be re-rendered alone) → uint8."""
        out = image * self.gain(t)
        if self.noise:
            rng = np.random.default_rng((seed, index))
            out += rng.normal(0, self.noise, (*image.shape[:2], 1)).astype(np.float32)
        return np.clip(out, 0, 255).astype(np.uint8)


def sample_background(
    background: np.ndarray, width: int, height: int, scale: float, offset: tuple[float, float]
) -> np.ndarray:
    """The part of a world-sized background that a ``width``×``height`` view shows."""
    ref_h, ref_w = background.shape[:2]
    xs = ((np.arange(width) + 0.5) / scale + offset[0]).astype(int).clip(0, ref_w - 1)
    ys = ((np.arange(height) + 0.5) / scale + offset[1]).astype(int).clip(0, ref_h - 1)
    return background[ys][:, xs]
