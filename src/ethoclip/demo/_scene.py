"""The synthetic world: a textured "dog" on a textured floor doing behaviours over time.

The world is simulated once on a fine clock, in a 192×144 reference frame; any stream renders
it at its own size and frame times, so two streams of one file show the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._framecode import band_height

REF_W, REF_H = 192, 144
SIM_HZ = 120
PRIMARY = ("walk", "run", "jump", "sit", "spin")
OVERLAY = ("wag",)  # happens on top of a primary behaviour: the multi-label case
BEHAVIOURS = PRIMARY + OVERLAY
_SPEED = {"walk": 22.0, "run": 65.0}  # reference pixels per second
_BODY_LEN, _BODY_WID, _SIT_LEN = 40.0, 16.0, 24.0
# The tail is long and thick enough to stay visible when clips are scaled to a 64-pixel short
# side (the demo trains at that size): 13 × 4 pixels there, swinging ±63°.
_WAG_HZ, _TAIL_LEN, _TAIL_HALF_WIDTH = 2.7, 30.0, 5.0


@dataclass(frozen=True)
class Bout:
    label: str
    start_sec: float
    end_sec: float


def plan_bouts(duration_sec: float, rng: np.random.Generator) -> list[Bout]:
    """Primary bouts back to back (with a few unlabeled pauses) plus overlapping wag bouts."""
    bouts: list[Bout] = []
    t, order = 0.0, list[str]()
    while t < duration_sec - 2.0:
        if not order:
            order = list(rng.permutation(PRIMARY))
        if bouts and rng.random() < 0.15:  # an unlabeled pause: the dog stands still
            t = min(duration_sec, t + float(rng.uniform(2.0, 3.5)))
            continue
        length = float(rng.uniform(5.0, 9.0))
        end = min(duration_sec, t + length)
        bouts.append(Bout(str(order.pop()), round(t, 5), round(end, 5)))
        t = end
    # Wagging over part of some bouts, so some windows carry two labels. It covers only part
    # of a bout, and not every bout, so that sitting (or walking) with and without wagging both
    # occur: otherwise "wag" is learnt as "sit" (they co-occurred in 80 % of sit bouts before).
    for bout in list(bouts):
        span = bout.end_sec - bout.start_sec
        if bout.label in ("sit", "walk", "spin") and span >= 5.0 and rng.random() < 0.6:
            length = float(rng.uniform(3.5, min(5.5, span - 1.0)))
            start = bout.start_sec + float(rng.uniform(0.0, span - length))
            bouts.append(Bout("wag", round(start, 5), round(start + length, 5)))
    return sorted(bouts, key=lambda b: (b.start_sec, b.label))


class Scene:
    """Simulated dog state on a fine clock; ``render`` draws any moment at any size."""

    def __init__(self, bouts: list[Bout], duration_sec: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.duration_sec = duration_sec
        n = int(duration_sec * SIM_HZ) + 2
        self.x, self.y = np.zeros(n), np.zeros(n)
        self.heading, self.lift = np.zeros(n), np.zeros(n)
        self.length, self.tail = np.full(n, _BODY_LEN), np.zeros(n)
        top = band_height(REF_H) + 36  # room for a 16 px jump below the frame-code band
        x, y, heading = REF_W / 2, (top + REF_H) / 2, float(rng.uniform(0, 2 * np.pi))
        dt = 1.0 / SIM_HZ
        primary = [b for b in bouts if b.label in PRIMARY]
        wags = [b for b in bouts if b.label == "wag"]
        for i in range(n):
            t = i * dt
            label = next((b.label for b in primary if b.start_sec <= t < b.end_sec), "stand")
            wag = any(b.start_sec <= t < b.end_sec for b in wags)
            if label in _SPEED:
                heading += float(rng.normal(0, 0.6)) * dt
                x += np.cos(heading) * _SPEED[label] * dt
                y += np.sin(heading) * _SPEED[label] * dt
                # Turn around at the walls instead of leaving the frame.
                if not 22 <= x <= REF_W - 22:
                    heading = np.pi - heading
                    x = float(np.clip(x, 22, REF_W - 22))
                if not top <= y <= REF_H - 14:
                    heading = -heading
                    y = float(np.clip(y, top, REF_H - 14))
            elif label == "spin":
                heading += 2 * np.pi / 1.2 * dt
            self.x[i], self.y[i], self.heading[i] = x, y, heading
            if label == "jump":
                self.lift[i] = 16.0 * abs(np.sin(np.pi * t / 0.8))
            if label == "sit":
                self.length[i] = _SIT_LEN
            if label == "run":
                self.lift[i] = 2.5 * abs(np.sin(2 * np.pi * t * 3))
            # 2.7 Hz: no simple fraction of common frame rates, so sampling every n-th frame
            # (MMAction2's frame_interval) never catches the tail in the same phase each time.
            self.tail[i] = 1.1 * np.sin(2 * np.pi * _WAG_HZ * t) if wag else 0.0
        self.floor = _floor_texture(rng)

    def render(self, index: int, time_sec: float, width: int, height: int) -> np.ndarray:
        """RGB frame of the moment ``time_sec`` at ``width``×``height``."""
        i = int(np.clip(round(time_sec * SIM_HZ), 0, self.x.size - 1))
        scale = width / REF_W
        ys = (np.arange(height) + 0.5) / scale
        xs = (np.arange(width) + 0.5) / scale
        floor_y = np.clip(ys.astype(int), 0, REF_H - 1)
        floor_x = np.clip(xs.astype(int), 0, REF_W - 1)
        frame = self.floor[floor_y][:, floor_x].copy()
        _draw_dog(
            frame,
            xs,
            ys,
            self.x[i],
            self.y[i],
            self.heading[i],
            self.lift[i],
            self.length[i],
            self.tail[i],
        )
        return frame


def _floor_texture(rng: np.random.Generator) -> np.ndarray:
    base = np.array([96, 128, 72], np.float32)  # grass
    noise = rng.normal(0, 14, (REF_H // 4 + 1, REF_W // 4 + 1, 1)).repeat(4, 0).repeat(4, 1)
    fine = rng.normal(0, 6, (REF_H, REF_W, 1))
    tex = base + noise[:REF_H, :REF_W] + fine
    return np.clip(tex, 0, 255).astype(np.uint8)


def _draw_dog(
    frame: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    cx: float,
    cy: float,
    heading: float,
    lift: float,
    length: float,
    tail: float,
) -> None:
    """Paint shadow, tail, body with a saddle stripe, and head, in reference coordinates."""
    gx, gy = np.meshgrid(xs, ys)
    cos, sin = np.cos(heading), np.sin(heading)
    # Shadow on the floor, smaller and fainter the higher the dog is.
    u, v = (gx - cx) * cos + (gy - cy) * sin, -(gx - cx) * sin + (gy - cy) * cos
    shadow = (u / (length / 2)) ** 2 + (v / (_BODY_WID / 2 + 1)) ** 2 <= 1
    frame[shadow] = (frame[shadow] * (0.55 + lift / 60)).astype(np.uint8)
    by = cy - lift  # the body is drawn raised by the jump height
    u, v = (gx - cx) * cos + (gy - by) * sin, -(gx - cx) * sin + (gy - by) * cos
    # Tail: a thick segment from the rump, swinging by ``tail`` radians.
    ta = heading + np.pi + tail
    tx0, ty0 = cx - cos * length / 2, by - sin * length / 2
    tx1, ty1 = tx0 + np.cos(ta) * _TAIL_LEN, ty0 + np.sin(ta) * _TAIL_LEN
    # A light tail: it stands out from the dark saddle and the grass, so wagging is visible.
    frame[_segment_distance(gx, gy, tx0, ty0, tx1, ty1) <= _TAIL_HALF_WIDTH] = (225, 190, 140)
    body = (u / (length / 2)) ** 2 + (v / (_BODY_WID / 2)) ** 2 <= 1
    frame[body] = (150, 100, 55)
    saddle = body & (np.abs(v) < 3.0) & (u < length / 4)
    frame[saddle] = (75, 50, 30)
    hx, hy = cx + cos * (length / 2 + 3), by + sin * (length / 2 + 3)
    frame[(gx - hx) ** 2 + (gy - hy) ** 2 <= 7.5**2] = (200, 160, 110)
    nx, ny = hx + cos * 6, hy + sin * 6
    frame[(gx - nx) ** 2 + (gy - ny) ** 2 <= 2.5**2] = (20, 20, 20)


def _segment_distance(
    gx: np.ndarray, gy: np.ndarray, x0: float, y0: float, x1: float, y1: float
) -> np.ndarray:
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((gx - x0) * dx + (gy - y0) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(gx - (x0 + t * dx), gy - (y0 + t * dy))
