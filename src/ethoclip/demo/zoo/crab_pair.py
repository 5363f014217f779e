"""Two crabs on sand seen from above (60 fps, 256×192, a static camera, light that jumps
between two levels as clouds pass): ``approach`` (the red crab walks up to the grey one),
``contact`` (touching), ``chase`` (the grey one flees, the red one follows) and ``display``
(the red crab raises and waves its claws: posture and small fast movement, on top of the
others). Between episodes both wander back to their own side, unlabelled."""

from __future__ import annotations

import math

import numpy as np

from .._scene import Bout
from ._common import SIM_HZ, Timeline, ZooProject, ZooVideo, overlay, sim_index, snap
from ._draw import Camera, Canvas, sample_background, texture

REF_W, REF_H = 256, 192
PRIMARY = ("approach", "contact", "chase")
LABELS = (*PRIMARY, "display")
CONTACT_DIST = 22.0  # centre to centre while touching
_HOME = ((64.0, 96.0), (192.0, 96.0))
_MARGIN = 18.0
_CAMERA = Camera(steps=0.12, step_every_sec=7.3, noise=4.0)
_RED, _GREY = (200, 70, 45), (120, 125, 135)


def plan(duration_sec: float, rng: np.random.Generator) -> list[Bout]:
    """Episodes: wander apart → approach → contact → (chase) → wander apart …"""
    bouts: list[Bout] = []
    t = snap(float(rng.uniform(1.0, 2.5)))
    while t < duration_sec - 5.0:
        for label, (low, high) in (("approach", (2.0, 3.5)), ("contact", (2.0, 4.0))):
            end = snap(t + float(rng.uniform(low, high)))
            bouts.append(Bout(label, t, end))
            t = end
        if rng.random() < 0.6:
            end = snap(t + float(rng.uniform(2.0, 3.0)))
            bouts.append(Bout("chase", t, end))
            t = end
        t = snap(t + float(rng.uniform(3.0, 4.5)))  # time to get back home
    bouts = [b for b in bouts if b.end_sec <= duration_sec - 0.5]
    return overlay(
        bouts,
        rng,
        "display",
        over=(None, "approach", "contact"),
        length=(1.5, 3.0),
        chance=0.5,
        duration_sec=duration_sec,
    )


class CrabScene:
    def __init__(self, bouts: list[Bout], duration_sec: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.seed = seed
        n = int(duration_sec * SIM_HZ) + 2
        timeline = Timeline(bouts)
        jitter = rng.normal(0, 1.0, size=(n, 2))  # drawn up front: causal scenes
        flee_turns = rng.normal(0, 1.5, size=n)
        # Per crab: x, y, heading, walking phase; then red claw raise.
        self.state = np.zeros((n, 9))
        pos = [np.array(_HOME[0]) + rng.uniform(-10, 10, 2), np.array(_HOME[1])]
        heading = [0.0, math.pi]
        walk = [0.0, 0.0]
        approach_of: Bout | None = None
        velocity = np.zeros(2)
        flee = 0.0
        for i in range(n):
            t = i / SIM_HZ
            label = timeline.primary(t, PRIMARY)
            bout = timeline.bout(label, t) if label else None
            speeds = [0.0, 0.0]
            if label == "approach" and bout is not None:
                if approach_of is not bout:
                    # Walk straight so as to touch exactly when the bout ends.
                    gap = pos[1] - pos[0]
                    dist = float(np.hypot(*gap))
                    velocity = gap / dist * (dist - CONTACT_DIST) / (bout.end_sec - t)
                    approach_of = bout
                pos[0] = pos[0] + velocity / SIM_HZ
                heading[0] = math.atan2(velocity[1], velocity[0])
                speeds[0] = float(np.hypot(*velocity))
            elif label == "contact":
                gap = pos[1] - pos[0]
                heading[0] = math.atan2(gap[1], gap[0])
                heading[1] += 0.6 * math.sin(2 * math.pi * 0.7 * t) / SIM_HZ
            elif label == "chase":
                if flee == 0.0:
                    gap = pos[1] - pos[0]
                    flee = math.atan2(gap[1], gap[0]) or 1e-3
                flee += flee_turns[i] / SIM_HZ
                step = np.array([math.cos(flee), math.sin(flee)]) * 60.0 / SIM_HZ
                new = pos[1] + step
                if not (_MARGIN <= new[0] <= REF_W - _MARGIN):
                    flee = math.pi - flee
                if not (_MARGIN <= new[1] <= REF_H - _MARGIN):
                    flee = -flee
                pos[1] = np.clip(pos[1] + step, _MARGIN, [REF_W - _MARGIN, REF_H - _MARGIN])
                heading[1], speeds[1] = flee, 60.0
                gap = pos[1] - pos[0]
                dist = float(np.hypot(*gap))
                heading[0] = math.atan2(gap[1], gap[0])
                if dist > CONTACT_DIST + 12.0:
                    pos[0] = pos[0] + gap / dist * 62.0 / SIM_HZ
                    speeds[0] = 62.0
            else:
                flee = 0.0
                for k in range(2):  # wander home, slowly, with small steps
                    home = np.array(_HOME[k]) - pos[k]
                    dist = float(np.hypot(*home))
                    if dist > 6.0:
                        heading[k] = math.atan2(home[1], home[0])
                        pos[k] = pos[k] + home / dist * 14.0 / SIM_HZ
                        speeds[k] = 14.0
                    pos[k] = pos[k] + jitter[i] * 0.02 * (1 if k == 0 else -1)
            for k in range(2):
                walk[k] += 2 * math.pi * speeds[k] / 20.0 / SIM_HZ
            raise_ = 0.0
            if timeline.on("display", t):
                raise_ = 1.0 + 0.999 * math.sin(2 * math.pi * 4.0 * t)  # never 0 while on
            self.state[i] = (*pos[0], heading[0], walk[0], *pos[1], heading[1], walk[1], raise_)
        self.background = _background(rng)

    def render(self, index: int, time_sec: float, width: int, height: int) -> np.ndarray:
        s = self.state[sim_index(time_sec, self.state.shape[0])]
        scale = width / REF_W
        image = sample_background(self.background, width, height, scale, (0.0, 0.0)).copy()
        canvas = Canvas(image, scale, (0.0, 0.0))
        _crab(canvas, s[4], s[5], s[6], s[7], 0.0, _GREY)
        _crab(canvas, s[0], s[1], s[2], s[3], s[8], _RED)
        return _CAMERA.finish(image, time_sec, self.seed, index)


def _crab(
    canvas: Canvas, x: float, y: float, heading: float, walk: float, raise_: float, colour: tuple
) -> None:
    cos, sin = math.cos(heading), math.sin(heading)
    canvas.ellipse(x + 1.5, y + 2.0, 10.0, 8.0, heading, (0, 0, 0), alpha=0.25)  # shadow
    for side in (-1.0, 1.0):
        for k, along in enumerate((-4.0, 0.0, 4.0)):
            swing = 2.0 * math.sin(walk + k * 2.1 + (side > 0) * math.pi)
            bx, by = x + cos * along - sin * side * 6.0, y + sin * along + cos * side * 6.0
            ex = bx + cos * swing - sin * side * 8.0
            ey = by + sin * swing + cos * side * 8.0
            canvas.segment(bx, by, ex, ey, 1.0, tuple(c * 0.7 for c in colour))
    canvas.ellipse(x, y, 9.0, 7.0, heading, colour)
    reach = 10.0 + 5.0 * raise_
    size = 3.2 + 1.2 * (raise_ > 0)
    for side in (-1.0, 1.0):
        spread = 0.45 + 0.25 * raise_
        cx = x + reach * math.cos(heading + side * spread)
        cy = y + reach * math.sin(heading + side * spread)
        canvas.segment(x + cos * 6, y + sin * 6, cx, cy, 1.2, colour)
        canvas.disk(cx, cy, size, tuple(min(255.0, c * 1.2) for c in colour))


def _background(rng: np.random.Generator) -> np.ndarray:
    sand = texture(rng, REF_W, REF_H, (200, 180, 140), coarse=10.0, fine=9.0, cell=6)
    canvas = Canvas(sand, 1.0, (0.0, 0.0))
    for _ in range(7):  # pebbles: still things of the crabs' size
        px, py = float(rng.uniform(10, REF_W - 10)), float(rng.uniform(10, REF_H - 10))
        canvas.ellipse(
            px,
            py,
            float(rng.uniform(3, 7)),
            float(rng.uniform(2, 5)),
            float(rng.uniform(0, math.pi)),
            (150, 140, 125),
        )
    return sand


PROJECT = ZooProject(
    name="crab_pair",
    about="two crabs on sand, top view: approach, contact, chase, display",
    labels=LABELS,
    fps=60.0,
    width=REF_W,
    height=REF_H,
    videos=tuple(
        ZooVideo(f"beach{1 + (k >= 5)}/day{1 + k // 3}", f"pair{k + 1:02d}", 36.0)
        for k in range(10)
    ),
    plan=plan,
    scene=CrabScene,
)
