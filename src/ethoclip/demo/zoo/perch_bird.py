"""A finch seen from the side on three perches (25 fps, 320×240, a static camera, slow light
drift): ``hop`` (small fast jumps), ``peck`` (quick head dips), ``preen`` (head turned back into
the body: posture), ``switch`` (flying to another perch) and ``fluffed`` (feathers raised, the
body rounder: posture, on top of the others)."""

from __future__ import annotations

import math

import numpy as np

from .._scene import Bout
from ._common import SIM_HZ, Timeline, ZooProject, ZooVideo, overlay, plan_sequence, sim_index
from ._draw import Camera, Canvas, sample_background, texture

REF_W, REF_H = 320, 240
PRIMARY = ("hop", "peck", "preen", "switch")
LABELS = (*PRIMARY, "fluffed")
# (y of the perch top, x from, x to): the bird stands on one of them.
PERCHES = ((92.0, 40.0, 150.0), (150.0, 175.0, 290.0), (205.0, 60.0, 260.0))
_BODY_A, _BODY_B, _HEAD_R = 11.0, 7.0, 5.0
_CAMERA = Camera(light=0.12, light_period_sec=23.0, noise=3.0)


def plan(duration_sec: float, rng: np.random.Generator) -> list[Bout]:
    bouts = plan_sequence(
        duration_sec,
        rng,
        {"hop": (2.0, 4.0), "peck": (2.0, 4.5), "preen": (2.5, 5.0), "switch": (1.5, 2.5)},
        idle=(1.0, 2.5),
        p_idle=0.25,
    )
    return overlay(
        bouts,
        rng,
        "fluffed",
        over=(None, "peck", "preen"),
        length=(2.0, 4.0),
        chance=0.45,
        duration_sec=duration_sec,
    )


class BirdScene:
    def __init__(self, bouts: list[Bout], duration_sec: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.seed = seed
        n = int(duration_sec * SIM_HZ) + 2
        timeline = Timeline(bouts)
        # Drawn before the simulation, so a bout changes nothing before it starts.
        perch_draws = rng.integers(0, 2, size=64)
        spots = rng.uniform(0.15, 0.85, size=64)
        face_flips = set(rng.choice(n, size=max(1, n // (SIM_HZ * 6)), replace=False).tolist())
        self.state = np.zeros((n, 8))  # x, y, facing, head dx, head dy, fluff, wing, beak back
        perch, spot = 2, 0.5
        x, y, facing = self._stand(perch, spot)
        switches = 0
        flight_of: Bout | None = None
        flight = ((x, y), (x, y), 1.0)
        for i in range(n):
            t = i / SIM_HZ
            label = timeline.primary(t, PRIMARY)
            bout = timeline.bout(label, t) if label else None
            phase = t - bout.start_sec if bout else 0.0
            head_dx, head_dy, wing, beak_back = 7.0, -7.0, 0.0, 0.0
            lift = 0.0
            if label is None and i in face_flips:
                facing = -facing
            if label == "hop":
                lift = 9.0 * abs(math.sin(math.pi * phase / 0.4))
            elif label == "peck":
                dip = 0.5 * (1.0 - math.cos(2 * math.pi * 3.0 * phase))  # 3 dips a second
                head_dx, head_dy = 7.0 + 3.0 * dip, -7.0 + 11.0 * dip
            elif label == "preen":
                wobble = math.sin(2 * math.pi * 2.2 * phase)
                head_dx, head_dy, beak_back = -4.0 + wobble, -6.0 + 0.8 * wobble, 1.0
            elif label == "switch" and bout is not None:
                if flight_of is not bout:
                    # A new flight: from here to a spot on one of the other perches.
                    start_xy = (x, y)
                    others = [p for p in range(len(PERCHES)) if p != perch]
                    perch = others[int(perch_draws[switches % 64])]
                    spot = float(spots[switches % 64])
                    switches += 1
                    target = self._stand(perch, spot)[:2]
                    facing = 1.0 if target[0] >= start_xy[0] else -1.0
                    flight = (start_xy, target, bout.end_sec - bout.start_sec)
                    flight_of = bout
                (x0, y0), (x1, y1), length = flight
                u = min(1.0, phase / length)
                x = x0 + (x1 - x0) * u
                y = y0 + (y1 - y0) * u - 35.0 * math.sin(math.pi * u)
                wing = 1.0 + 0.999 * math.sin(2 * math.pi * 8.0 * phase)  # never 0 in flight
            if label != "switch":
                x, y, _ = self._stand(perch, spot)
            fluff = 1.0 if timeline.on("fluffed", t) else 0.0
            self.state[i] = (x, y - lift, facing, head_dx, head_dy, fluff, wing, beak_back)
        self.background = _background(rng)

    @staticmethod
    def _stand(perch: int, spot: float) -> tuple[float, float, float]:
        top, x0, x1 = PERCHES[perch]
        return x0 + (x1 - x0) * spot, top - _BODY_B - 3.0, 1.0

    def render(self, index: int, time_sec: float, width: int, height: int) -> np.ndarray:
        x, y, facing, hdx, hdy, fluff, wing, beak_back = self.state[
            sim_index(time_sec, self.state.shape[0])
        ]
        scale = width / REF_W
        image = sample_background(self.background, width, height, scale, (0.0, 0.0)).copy()
        canvas = Canvas(image, scale, (0.0, 0.0))
        grow = 1.35 if fluff else 1.0
        a, b = _BODY_A * grow, _BODY_B * grow
        tilt = -0.25 * facing
        # Tail: a thin wedge down and back from the rump.
        canvas.segment(x, y, x - facing * 16.0, y + 8.0, 2.2, (70, 55, 40))
        canvas.ellipse(x, y, a, b, tilt, (150, 105, 60))
        canvas.ellipse(x + facing * 2.0, y + 3.0, a * 0.6, b * 0.55, tilt, (215, 190, 150))
        if wing:
            up = wing - 1.0  # -1…1: the wing beat
            canvas.ellipse(x, y - 6.0 * up, 12.0, 4.0, -0.6 * up * facing, (95, 70, 45))
        hx, hy = x + facing * hdx, y + hdy + (1.5 if fluff else 0.0)
        canvas.disk(hx, hy, _HEAD_R, (65, 50, 45))
        beak = -facing if beak_back else facing
        canvas.segment(hx + beak * 4.0, hy + 1.0, hx + beak * 9.0, hy + 2.0, 1.3, (235, 175, 40))
        canvas.disk(hx + facing * 2.0, hy - 1.5, 1.2, (250, 250, 250))
        if not wing:  # feet on the perch
            for dx in (-3.0, 3.0):
                canvas.segment(x + dx, y + b - 1, x + dx, y + b + 4.0, 0.8, (60, 45, 35))
        return _CAMERA.finish(image, time_sec, self.seed, index)


def _background(rng: np.random.Generator) -> np.ndarray:
    wall = texture(rng, REF_W, REF_H, (190, 200, 205), coarse=8.0, fine=3.0, cell=16)
    wall += np.linspace(12, -12, REF_H, dtype=np.float32)[:, None, None]  # lit from above
    canvas = Canvas(wall, 1.0, (0.0, 0.0))
    for top, x0, x1 in PERCHES:
        canvas.segment(x0 - 12, top + 3, x1 + 12, top + 3, 3.2, (110, 80, 50))
    # A few leaves: still, but they share the bird's colours.
    for _ in range(6):
        lx, ly = float(rng.uniform(10, REF_W - 10)), float(rng.uniform(30, REF_H - 10))
        canvas.ellipse(lx, ly, 9.0, 4.0, float(rng.uniform(0, math.pi)), (95, 125, 70))
    return wall


PROJECT = ZooProject(
    name="perch_bird",
    about="a finch on perches, side view: hop, peck, preen, switch perch, fluffed",
    labels=LABELS,
    fps=25.0,
    width=REF_W,
    height=REF_H,
    videos=tuple(
        ZooVideo(f"{month}/{session}_aviary", f"aviary_{code}_{take}", 48.0)
        for month, session, code in (
            ("May", "5_02", "0502"),
            ("May", "5_09", "0509"),
            ("Jun", "6_01", "0601"),
            ("Jun", "6_08", "0608"),
            ("Jun", "6_15", "0615"),
        )
        for take in "ab"
    ),
    plan=plan,
    scene=BirdScene,
)
