"""A small beetle on a large leaf filmed from above with a hand-held camera (slow drift and
jitter; 30 fps at 320×240, one session at 25 fps, one at 384×288), a leaf margin that flutters
in the wind, flickering light: ``walk`` (translation), ``groom`` (front legs and antennae rubbed
fast, the body still), ``turn`` (rotation in place), ``still`` (no motion at all, antennae
included) and ``edge`` (on the leaf's margin band: position, on top of the others). Between
bouts it stands, antennae sweeping slowly, unlabelled."""

from __future__ import annotations

import math

import numpy as np

from .._scene import Bout
from ._common import (
    GRID_SEC,
    SIM_HZ,
    Timeline,
    ZooProject,
    ZooVideo,
    sim_index,
    snap,
)
from ._draw import Camera, Canvas, sample_background, texture

REF_W, REF_H = 320, 240
_PAD = 24  # world margin around the view, for the camera's drift and shake
PRIMARY = ("walk", "groom", "turn", "still")
LABELS = (*PRIMARY, "edge")
# The leaf: an ellipse (centre, semi-axes, tilt) in world units; "rho" is the normalised radius
# (0 at the centre, 1 on the resting margin).
LEAF_CX, LEAF_CY = (REF_W + _PAD) / 2, (REF_H + _PAD) / 2
LEAF_A, LEAF_B, LEAF_TILT = 138.0, 94.0, 0.12
EDGE_RHO = 0.84  # the insect's centre is at or beyond this exactly while on the margin band
ENTER_SEC = 1.5  # it walks out to the band over this long, just before an `edge` bout
EXIT_SEC = 1.0  # and back in over this long, right after one
_INNER_RHO = 0.6  # where a walk back from the margin ends
_WANDER_RHO = (0.35, 0.68)  # a free walk turns back into this ring
_STOP_RHO = 0.74  # and never goes beyond this (well inside the band)
_SPEED = 24.0  # world units a second on a free walk
_CAMERA = Camera(light=0.06, light_period_sec=1.7, noise=4.0)
_BODY = (70, 45, 25)


_LENGTHS: dict[str | None, tuple[float, float]] = {
    "walk": (2.0, 3.6),
    "groom": (1.5, 3.5),
    "turn": (1.1, 2.0),
    "still": (1.5, 3.5),
    None: (1.0, 2.5),  # standing, antennae sweeping: unlabelled
}


def plan(duration_sec: float, rng: np.random.Generator) -> list[Bout]:
    """Walks with one or two other things done (or an unlabelled pause) between them, the
    others in shuffled turns; `edge` on top, from one walk into the next."""
    others: tuple[str | None, ...] = ("groom", "turn", "still", None)
    bouts: list[Bout] = []
    order: list[str | None] = []
    previous: str | None = None
    t = snap(float(rng.uniform(0.5, 2.0)))
    while t < duration_sec - 1.5:
        episode: list[str | None] = ["walk"]
        for _ in range(1 + int(rng.random() < 0.4)):
            if not order:
                order = [others[j] for j in rng.permutation(len(others))]
                if order[-1] == previous:
                    # No two bouts of one label back to back: an annotator marks one bout.
                    order[0], order[-1] = order[-1], order[0]
            previous = order.pop()
            episode.append(previous)
        for label in episode:
            end = min(snap(duration_sec - 0.5), snap(t + float(rng.uniform(*_LENGTHS[label]))))
            if label is not None and end - t >= 1.1:
                bouts.append(Bout(label, t, end))
            t = end
    return sorted(bouts + _plan_edges(bouts, rng), key=lambda b: (b.start_sec, b.label))


def _plan_edges(bouts: list[Bout], rng: np.random.Generator) -> list[Bout]:
    """`edge` bouts that start inside a walk with `ENTER_SEC` of it before (the walk out to
    the margin) and end inside the next walk with `EXIT_SEC` of it after (the walk back in),
    so the insect only ever moves while walking, and does what comes between on the margin."""
    walks = [b for b in bouts if b.label == "walk"]
    edges: list[Bout] = []
    free_from = 0.0
    for k, walk in enumerate(walks):
        # The walk out's last step falls on the bout's first tick: start before the walk ends.
        lo, hi = max(walk.start_sec, free_from) + ENTER_SEC, walk.end_sec - GRID_SEC
        draw, want = float(rng.random()), float(rng.uniform(1.5, 5.5))
        start = _grid_between(lo + float(rng.uniform(0.0, 1.0)) * max(0.0, hi - lo), lo, hi)
        if start is None or draw >= 0.7:
            continue
        # Where it may end: inside the next walk (this one if it is the last), 1.1–6 s on.
        ends = []
        for later in walks[k + 1 : k + 2] or [walk]:
            low = max(later.start_sec, start + 1.1)
            high = min(later.end_sec - EXIT_SEC, start + 6.0)
            end = _grid_between(start + want, low, high)
            if end is not None:
                ends.append(end)
        if ends:
            edges.append(Bout("edge", start, ends[0]))
            free_from = ends[0] + EXIT_SEC
    return edges


def _grid_between(t: float, low: float, high: float) -> float | None:
    """``t`` clipped to [low, high] and put on the bout grid inside it (None: no grid point)."""
    first, last = math.ceil(low / GRID_SEC - 1e-6), math.floor(high / GRID_SEC + 1e-6)
    if first > last:
        return None
    return snap(min(last, max(first, round(t / GRID_SEC))) * GRID_SEC)


def _to_leaf(x: float, y: float) -> tuple[float, float]:
    """World point → the leaf's normalised coordinates (its margin at radius 1)."""
    dx, dy = x - LEAF_CX, y - LEAF_CY
    cos, sin = math.cos(LEAF_TILT), math.sin(LEAF_TILT)
    return (dx * cos + dy * sin) / LEAF_A, (-dx * sin + dy * cos) / LEAF_B


def _from_leaf(u: float, v: float) -> tuple[float, float]:
    cos, sin = math.cos(LEAF_TILT), math.sin(LEAF_TILT)
    a, b = u * LEAF_A, v * LEAF_B
    return LEAF_CX + a * cos - b * sin, LEAF_CY + a * sin + b * cos


def leaf_rho(x: float, y: float) -> float:
    """How far out on the leaf a world point is (1: the resting margin)."""
    return math.hypot(*_to_leaf(x, y))


class InsectScene:
    def __init__(self, bouts: list[Bout], duration_sec: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.seed = seed
        n = int(duration_sec * SIM_HZ) + 2
        timeline = Timeline(bouts)
        edges = sorted((b for b in bouts if b.label == "edge"), key=lambda b: b.start_sec)
        # Drawn before the simulation, so a bout changes nothing before it starts.
        wander = rng.normal(0.0, 2.0, size=n)  # heading changes on a free walk, rad/s
        turns = rng.choice((-1.0, 1.0), size=64) * rng.uniform(0.6, 1.2, size=64) * math.pi
        along = rng.choice((-1.0, 1.0), size=64)  # which way it walks along the margin
        # Hand shake: a random walk less its half-second running mean (small, fast, around 0).
        shake = np.cumsum(rng.normal(0.0, 0.35, size=(n, 2)), axis=0)
        padded = np.pad(shake, ((30, 30), (0, 0)), mode="edge")
        mean = np.stack([np.convolve(padded[:, k], np.ones(61) / 61, "valid") for k in (0, 1)])
        self.jitter = np.clip(shake - mean.T, -2.5, 2.5)
        self.gust_phase = float(rng.uniform(0, 2 * math.pi))
        # x, y, heading, leg phase, groom phase, antenna phase.
        self.state = np.zeros((n, 6))
        r0, a0 = float(rng.uniform(0.4, 0.6)), float(rng.uniform(-math.pi, math.pi))
        x, y = _from_leaf(r0 * math.cos(a0), r0 * math.sin(a0))
        heading = float(rng.uniform(-math.pi, math.pi))
        legs = groom = antenna = 0.0
        turn_of: Bout | None = None
        turn_rate, turned = 0.0, 0
        walk_of: tuple[str, Bout] | None = None  # the walk out or back in being walked
        step = (0.0, 0.0)
        angle, walked, steps = 0.0, 0, 1  # the walk back in: where, how far along, how long
        ticks = [(round(e.start_sec * SIM_HZ), round(e.end_sec * SIM_HZ), e) for e in edges]
        enter, leave = round(ENTER_SEC * SIM_HZ), round(EXIT_SEC * SIM_HZ)
        for i in range(n):
            t = i / SIM_HZ
            label = timeline.primary(t, PRIMARY)
            bout = timeline.bout(label, t) if label else None
            edge = timeline.bout("edge", t)
            # The walk out takes its last step on the bout's first tick; the walk back in its
            # first step on the tick the bout ends.
            coming = next((e for s, _, e in ticks if s - enter < i <= s), None)
            left = next((e for _, f, e in ticks if f <= i < f + leave), None)
            moved = 0.0
            if coming is not None:
                if walk_of != ("in", coming):
                    # Out to the band, in a straight line, crossing EDGE_RHO exactly between
                    # the last tick before the bout and its first one.
                    walk_of = ("in", coming)
                    steps = round(coming.start_sec * SIM_HZ) - i + 1
                    direction = _outwards(x, y, heading)
                    reach = _reach(x, y, direction, EDGE_RHO)
                    d = reach / (steps - 0.5)
                    step = (d * math.cos(direction), d * math.sin(direction))
                    heading = direction
                x, y = x + step[0], y + step[1]
                moved = math.hypot(*step)
            elif left is not None:
                if walk_of != ("out", left):
                    # Back in towards the middle: below EDGE_RHO from the bout's end on.
                    walk_of = ("out", left)
                    u, v = _to_leaf(x, y)
                    angle, walked, steps = (
                        math.atan2(v, u),
                        0,
                        round(left.end_sec * SIM_HZ) + leave - i,
                    )
                    tx, ty = _from_leaf(_INNER_RHO * math.cos(angle), _INNER_RHO * math.sin(angle))
                    heading = math.atan2(ty - y, tx - x)
                walked += 1
                r = EDGE_RHO - (EDGE_RHO - _INNER_RHO) * walked / steps
                nx, ny = _from_leaf(r * math.cos(angle), r * math.sin(angle))
                moved = math.hypot(nx - x, ny - y)
                x, y = nx, ny
            elif label == "walk" and edge is not None:
                u, v = _to_leaf(x, y)
                rho, angle = math.hypot(u, v), math.atan2(v, u)
                way = along[edges.index(edge) % 64]
                # Along the margin at the same rho: the band it is on never changes.
                angle += way * _SPEED / (rho * (LEAF_A + LEAF_B) / 2) / SIM_HZ
                nx, ny = _from_leaf(rho * math.cos(angle), rho * math.sin(angle))
                moved = math.hypot(nx - x, ny - y)
                heading = math.atan2(ny - y, nx - x)
                x, y = nx, ny
            elif label == "walk":
                heading += wander[i] / SIM_HZ
                rho = leaf_rho(x, y)
                if not _WANDER_RHO[0] <= rho <= _WANDER_RHO[1]:
                    # Turn back into the ring between the leaf's middle and its margin, where
                    # the walk out to the margin is never a dash.
                    home = math.atan2(LEAF_CY - y, LEAF_CX - x) + math.pi * (rho < 0.5)
                    gap = (home - heading + math.pi) % (2 * math.pi) - math.pi
                    heading += math.copysign(min(abs(gap), 3.0 / SIM_HZ), gap)
                nx = x + _SPEED * math.cos(heading) / SIM_HZ
                ny = y + _SPEED * math.sin(heading) / SIM_HZ
                if leaf_rho(nx, ny) <= _STOP_RHO:
                    moved = math.hypot(nx - x, ny - y)
                    x, y = nx, ny
            elif label == "turn" and bout is not None:
                if turn_of is not bout:
                    turn_of = bout
                    turn_rate = turns[turned % 64] / (bout.end_sec - bout.start_sec)
                    turned += 1
                heading += turn_rate / SIM_HZ
                moved = abs(turn_rate) * 4.0 / SIM_HZ  # legs step as it pivots
            if label in ("walk", "turn"):
                # A stride every 6 world units (the walks out to the margin and back in are
                # walks in every plan; only the legs say so: a plan without the walk glides).
                legs += 2 * math.pi * moved / 6.0
            if label == "groom":
                groom += 2 * math.pi * 7.0 / SIM_HZ
            elif label != "still":
                antenna += 2 * math.pi * 0.6 / SIM_HZ  # slow sweeps, unless still
            self.state[i] = (x, y, heading, legs, groom if label == "groom" else 0.0, antenna)
        self.leaf = _Leaf(rng)

    def offset(self, t: float, i: int) -> tuple[float, float]:
        """A hand-held camera: a slow drift and a small shake, around the world's middle."""
        jx, jy = self.jitter[i]
        return (
            _PAD / 2 + 6.0 * math.sin(2 * math.pi * t / 13.7) + jx,
            _PAD / 2 + 5.0 * math.sin(2 * math.pi * t / 9.1 + 1.3) + jy,
        )

    def render(self, index: int, time_sec: float, width: int, height: int) -> np.ndarray:
        i = sim_index(time_sec, self.state.shape[0])
        scale = width / REF_W
        offset = self.offset(time_sec, i)
        world = self.leaf.world(*self._sway(time_sec))
        image = sample_background(world, width, height, scale, offset)
        draw_insect(Canvas(image, scale, offset), self.state[i])
        return _CAMERA.finish(image, time_sec, self.seed, index)

    def _sway(self, t: float) -> tuple[float, float]:
        """The wind: how far the margin flutters now (gusts come and go) and its phase."""
        gust = 0.5 + 0.5 * math.sin(2 * math.pi * t / 6.1 + self.gust_phase)
        return 0.005 + 0.035 * gust, 2 * math.pi * t / 0.9


def _outwards(x: float, y: float, heading: float) -> float:
    """A direction between the insect's heading and straight out from the leaf's middle."""
    out = math.atan2(y - LEAF_CY, x - LEAF_CX)
    bx = math.cos(heading) + 1.5 * math.cos(out)
    by = math.sin(heading) + 1.5 * math.sin(out)
    if math.hypot(bx, by) < 1e-6:
        return out
    return math.atan2(by, bx)


def _reach(x: float, y: float, direction: float, rho: float) -> float:
    """How far from (x, y) along ``direction`` the leaf's radius reaches ``rho``."""
    u, v = _to_leaf(x, y)
    du, dv = _to_leaf(x + math.cos(direction), y + math.sin(direction))
    du, dv = du - u, dv - v
    # |(u, v) + s (du, dv)| = rho: the positive root (the start is inside).
    a, b, c = du * du + dv * dv, 2 * (u * du + v * dv), u * u + v * v - rho * rho
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


def draw_insect(canvas: Canvas, state: np.ndarray) -> None:
    """A beetle about 20 world units long (antennae included: 25): everything it shows comes
    from ``state``, so an unchanged state draws unchanged pixels."""
    x, y, heading, legs, groom, antenna = (float(s) for s in state)
    cos, sin = math.cos(heading), math.sin(heading)

    def at(along: float, side: float) -> tuple[float, float]:
        return x + cos * along - sin * side, y + sin * along + cos * side

    rub = math.sin(groom) if groom else 0.0
    for k, along in enumerate((3.0, 0.5, -2.5)):  # three pairs of legs
        for side in (-1.0, 1.0):
            swing = 1.8 * math.sin(legs + k * 2.1 + (side > 0) * math.pi)
            reach_along, reach_side = along + 2.5 + swing, 6.0
            if k == 0 and groom:
                # Front legs drawn in to the head and rubbed: small, fast, the body still.
                reach_along, reach_side = 7.5 + 1.5 * rub, 1.5 + 1.5 * abs(rub)
            elif k == 2:
                reach_along -= 5.0
            bx, by = at(along, side * 2.5)
            ex, ey = at(reach_along, side * reach_side)
            canvas.segment(bx, by, ex, ey, 0.6, (40, 28, 18))
    canvas.ellipse(x - 3.5, y + 1.0, 7.0, 4.8, heading, (0, 0, 0), alpha=0.2)  # shadow
    ax, ay = at(-3.5, 0.0)
    canvas.ellipse(ax, ay, 7.0, 4.6, heading, _BODY)  # abdomen under the wing cases
    canvas.segment(*at(-10.0, 0.0), *at(2.0, 0.0), 0.4, (25, 15, 10))  # where they meet
    tx, ty = at(3.2, 0.0)
    canvas.ellipse(tx, ty, 2.8, 3.4, heading, (55, 35, 20))
    hx, hy = at(6.6, 0.0)
    canvas.disk(hx, hy, 2.0, (35, 22, 14))
    for side in (-1.0, 1.0):
        sweep = 0.55 + 0.3 * math.sin(antenna + (side > 0) * 0.8)
        if groom:
            sweep = 0.25 + 0.35 * abs(math.sin(groom * 0.5 + side))
        tip_x = hx + 6.0 * math.cos(heading + side * sweep)
        tip_y = hy + 6.0 * math.sin(heading + side * sweep)
        canvas.segment(hx, hy, tip_x, tip_y, 0.45, (30, 20, 12))


_SWAY_MAX = 0.07  # the margin flutters within this of rho 1, its dark rim just inside


class _Leaf:
    """The leaf on the ground in world pixels; each frame redraws only the band its margin
    flutters in (the wind: motion that is not the insect)."""

    def __init__(self, rng: np.random.Generator) -> None:
        soil, face = _background(rng), _leaf_surface(rng)
        height, width = soil.shape[:2]
        gx, gy = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
        cos, sin = math.cos(LEAF_TILT), math.sin(LEAF_TILT)
        dx, dy = gx - LEAF_CX, gy - LEAF_CY
        u, v = (dx * cos + dy * sin) / LEAF_A, (-dx * sin + dy * cos) / LEAF_B
        rho = np.hypot(u, v)
        self.rest = np.where((rho < 1.0 - _SWAY_MAX - 0.03)[..., None], face, soil)
        band = np.abs(rho - 1.0) <= _SWAY_MAX + 0.03
        self.band = np.flatnonzero(band)
        self.rho, self.angle = rho[band], np.arctan2(v, u)[band]
        self.face, self.soil = face[band], soil[band]

    def world(self, amount: float, phase: float) -> np.ndarray:
        a = self.angle
        margin = 1.0 + amount * (np.sin(3 * a + phase) + 0.6 * np.sin(7 * a - 1.7 * phase))
        on = self.rho <= margin
        pixels = np.where(on[:, None], self.face, self.soil)
        pixels[on & (self.rho > margin - 0.025)] *= 0.7  # the rim
        out = self.rest.copy()
        out.reshape(-1, 3)[self.band] = pixels
        return out


def _background(rng: np.random.Generator) -> np.ndarray:
    """The ground under the leaf: dark soil with litter."""
    soil = texture(rng, REF_W + _PAD, REF_H + _PAD, (75, 60, 45), coarse=12.0, fine=8.0, cell=5)
    canvas = Canvas(soil, 1.0, (0.0, 0.0))
    for _ in range(12):
        canvas.ellipse(
            float(rng.uniform(0, REF_W + _PAD)),
            float(rng.uniform(0, REF_H + _PAD)),
            float(rng.uniform(4, 12)),
            float(rng.uniform(1.5, 4)),
            float(rng.uniform(0, math.pi)),
            (110, 95, 60),
        )
    return soil


def _leaf_surface(rng: np.random.Generator) -> np.ndarray:
    """The leaf's face in world coordinates: green with a midrib and side veins."""
    leaf = texture(rng, REF_W + _PAD, REF_H + _PAD, (70, 140, 55), coarse=6.0, fine=3.0, cell=12)
    canvas = Canvas(leaf, 1.0, (0.0, 0.0))
    pale = (120, 175, 95)
    canvas.segment(*_from_leaf(-1.0, 0.0), *_from_leaf(1.0, 0.0), 1.6, pale)
    for k in range(-6, 7):
        u = k / 7.5
        for side in (-1.0, 1.0):
            tip = math.sqrt(max(0.0, 1.0 - (u + 0.25) ** 2)) * 0.92
            canvas.segment(
                *_from_leaf(u, 0.0), *_from_leaf(min(1.0, u + 0.25), side * tip), 0.7, pale
            )
    return leaf


PROJECT = ZooProject(
    name="insect_leaf",
    about="a beetle on a leaf, top view, hand-held camera: walk, groom, turn, still, edge",
    labels=LABELS,
    fps=30.0,
    width=REF_W,
    height=REF_H,
    videos=tuple(
        ZooVideo(f"{site}/{day}", f"{site}_{day}_{take}", 40.0, fps, size)
        for site, day, fps, size in (
            ("garden", "0702", None, None),
            ("garden", "0709", 25.0, None),  # an older camera
            ("garden", "0716", None, None),
            ("meadow", "0704", None, (384, 288)),  # a phone
            ("meadow", "0711", None, None),
        )
        for take in ("t1", "t2")
    ),
    plan=plan,
    scene=InsectScene,
    lead_sec={"edge": ENTER_SEC},
)
