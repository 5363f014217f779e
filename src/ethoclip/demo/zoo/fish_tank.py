"""A fish in a tank seen through the glass (30 fps, 320×240, a slightly swaying hand-held
camera, flickering light, a swaying plant): ``dart`` (a fast burst), ``hover`` (still, fins
fluttering), ``turn`` (turning round in place: rotation) and ``surface`` (at the water surface:
position, on top of the others). Between bouts it cruises slowly, unlabelled."""

from __future__ import annotations

import math

import numpy as np

from .._scene import Bout
from ._common import SIM_HZ, Timeline, ZooProject, ZooVideo, overlay, plan_sequence, sim_index
from ._draw import Camera, Canvas, sample_background, texture

REF_W, REF_H = 320, 240
PRIMARY = ("dart", "hover", "turn")
LABELS = (*PRIMARY, "surface")
SURFACE_Y = 34.0  # the fish's centre while at the surface
RISE_SEC = 1.0  # it rises (and sinks back) over this long, just outside the bout
_LEFT, _RIGHT = 28.0, REF_W - 28.0
_A, _B = 15.0, 6.0
_CAMERA = Camera(drift=3.0, light=0.07, light_period_sec=2.9, noise=5.0)


def plan(duration_sec: float, rng: np.random.Generator) -> list[Bout]:
    bouts = plan_sequence(
        duration_sec,
        rng,
        {"dart": (1.1, 1.6), "hover": (2.5, 5.0), "turn": (1.2, 2.0)},
        idle=(1.5, 3.0),
        p_idle=0.3,
    )
    return overlay(
        bouts,
        rng,
        "surface",
        over=(None, "hover", "turn"),
        length=(2.0, 4.0),
        chance=0.5,
        duration_sec=duration_sec,
        keep_clear_sec=RISE_SEC,  # no dart while rising or sinking
    )


class FishScene:
    def __init__(self, bouts: list[Bout], duration_sec: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.seed = seed
        n = int(duration_sec * SIM_HZ) + 2
        timeline = Timeline(bouts)
        surfaces = [b for b in bouts if b.label == "surface"]
        # Free depth: a slow wander drawn up front (a bout changes nothing before it starts).
        knots = rng.uniform(95.0, 195.0, size=int(duration_sec / 4) + 3)
        free_y = np.interp(np.arange(n) / SIM_HZ / 4.0, np.arange(knots.size), knots)
        self.state = np.zeros((n, 6))  # x, y, facing, apparent length share, tail, fin
        x, facing, tail_phase = float(rng.uniform(80, 240)), 1.0, 0.0
        turned_in: Bout | None = None
        for i in range(n):
            t = i / SIM_HZ
            label = timeline.primary(t, PRIMARY)
            bout = timeline.bout(label, t) if label else None
            phase = t - bout.start_sec if bout else 0.0
            speed, beat, fin, length = 18.0, 2.0, 0.0, 1.0
            if label == "dart" and bout is not None:
                if phase == 0.0 or turned_in is not bout:
                    # An escape: head for the side with more room, then burst.
                    facing = 1.0 if (_RIGHT - x) >= (x - _LEFT) else -1.0
                    turned_in = bout
                speed, beat = 150.0, 8.0
            elif label == "hover":
                speed, beat = 0.0, 0.0
                fin = math.sin(2 * math.pi * 5.0 * phase)
            elif label == "turn" and bout is not None:
                speed, beat = 0.0, 1.0
                u = phase / (bout.end_sec - bout.start_sec)
                length = max(0.22, abs(math.cos(math.pi * u)))
                if u >= 0.5 and turned_in is not bout:
                    facing, turned_in = -facing, bout
            x = min(_RIGHT, max(_LEFT, x + facing * speed / SIM_HZ))
            tail_phase += 2 * math.pi * beat / SIM_HZ
            self.state[i] = (x, free_y[i], facing, length, math.sin(tail_phase), fin)
            for s in surfaces:
                w = _rise_weight(t, s)
                if w > 0:
                    self.state[i, 1] = free_y[i] + (SURFACE_Y - free_y[i]) * w
        self.background = _background(rng)

    def render(self, index: int, time_sec: float, width: int, height: int) -> np.ndarray:
        x, y, facing, length, tail, fin = self.state[sim_index(time_sec, self.state.shape[0])]
        scale = width / REF_W
        offset = _CAMERA.offset(time_sec)
        image = sample_background(self.background, width, height, scale, offset).copy()
        canvas = Canvas(image, scale, offset)
        _plant(canvas, time_sec)
        a = _A * length
        rear = x - facing * a
        swing = 5.0 * tail
        canvas.triangle(
            (
                (rear, y),
                (rear - facing * 10.0, y - 6.0 + swing),
                (rear - facing * 10.0, y + 6.0 + swing),
            ),
            (235, 120, 40),
        )
        canvas.ellipse(x, y, a, _B, 0.0, (245, 140, 45))
        canvas.ellipse(x, y - 2.5, a * 0.8, 1.6, 0.0, (250, 235, 220))  # a pale stripe
        if length > 0.5:
            canvas.disk(x + facing * a * 0.65, y - 1.5, 1.6, (15, 15, 25))
        # Pectoral fin: flutters while hovering.
        canvas.ellipse(
            x + facing * a * 0.2, y + 4.0 + 2.0 * fin, 3.5, 1.6, 0.6 * facing * fin, (255, 180, 90)
        )
        return _CAMERA.finish(image, time_sec, self.seed, index)


def _rise_weight(t: float, bout: Bout) -> float:
    """1 during the bout, ramping from 0 over the second before it and to 0 over the one after."""
    if bout.start_sec <= t < bout.end_sec:
        return 1.0
    if bout.start_sec - RISE_SEC < t < bout.start_sec:
        return (t - (bout.start_sec - RISE_SEC)) / RISE_SEC
    if bout.end_sec <= t < bout.end_sec + RISE_SEC:
        # One tick below the surface at the end itself: the bout is [start, end).
        return max(0.0, 1.0 - (t - bout.end_sec + 1.0 / SIM_HZ) / RISE_SEC)
    return 0.0


def _plant(canvas: Canvas, t: float) -> None:
    """A weed that sways with the water: motion that is not the fish."""
    sway = 6.0 * math.sin(2 * math.pi * t / 5.3)
    x, y = 60.0, 222.0
    for k in range(4):
        nx, ny = x + sway * (k + 1) / 4, y - 30.0
        canvas.segment(x, y, nx, ny, 2.5, (40, 120, 60))
        x, y = nx, ny


def _background(rng: np.random.Generator) -> np.ndarray:
    water = texture(rng, REF_W + 8, REF_H + 8, (40, 95, 130), coarse=4.0, fine=2.0, cell=16)
    water += np.linspace(25, -20, REF_H + 8, dtype=np.float32)[:, None, None]
    water[: int(SURFACE_Y) - 18] += 45.0  # the air above the water line
    gravel = texture(rng, REF_W + 8, 30, (150, 135, 110), coarse=18.0, fine=14.0, cell=3)
    water[REF_H - 22 : REF_H + 8] = gravel
    return water


PROJECT = ZooProject(
    name="fish_tank",
    about="a fish in a tank, side view: dart, hover, turn, surface",
    labels=LABELS,
    fps=30.0,
    width=REF_W,
    height=REF_H,
    videos=tuple(
        ZooVideo(f"{tank}/2024-03-{day}", f"{tank}_03{day}_{take}", 48.0)
        for tank, day, takes in (
            ("tankA", "04", "12"),
            ("tankA", "11", "12"),
            ("tankA", "18", "1"),
            ("tankB", "05", "12"),
            ("tankB", "12", "12"),
            ("tankB", "19", "1"),
        )
        for take in takes
    ),
    plan=plan,
    scene=FishScene,
    lead_sec={"surface": RISE_SEC},
)
