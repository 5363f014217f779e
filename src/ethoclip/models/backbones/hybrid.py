"""``HybridNet``: a small 3D CNN beside explicit motion and foreground statistics of the clip.

With a few hundred training clips, a network trained from scratch memorises them: it learns
"moving vs not moving" and little else on a project it was not tuned to, while ~20 hand-made
statistics of the clip (how much moves, how much of the frame differs from the clip's
background, where that is, how big and how fast) and a logistic regression do far better
(issue 15: 0.80 vs 0.46 mAP). Those statistics need few examples because they are already the
quantities behaviour differs in; the CNN adds what they cannot say (posture, shape).

So this backbone computes the statistics itself, in torch, from the frames it is given (per
time step, then pooled over the clip: mean, spread, extremes), normalises them with batch
norm (the baseline's standardisation), and concatenates them with the CNN's pooled features.
The head (``I3DHead``) is the linear classifier over both. Optional branch dropout
(``branch_drop``, off in the shipped config: the whole CNN vector zeroed for a share of the
training clips) is there to keep the classifier from leaning on the CNN alone once it has
memorised the training clips; it was not measured.

With ``steps=True`` it also keeps time: per sampled frame, the normalised series and the CNN's
features (spatially pooled, interpolated back to every frame), for ``StepHead`` to say which
behaviour is on at each step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...registry import config_error
from .._backbones import TinyVideoNet
from .._weights import load_into, state_dict_from
from ._stabilise import aligned
from ._track import (
    TRACK_SERIES,
    crop_frames,
    densest_squares,
    follow_corners,
    track_series,
)
from ._track import track as tracked_positions  # `track` is also HybridNet's switch

# Per-step series (see clip_series) and the four ways each is pooled over the clip.
SERIES = (
    "energy",  # mean absolute frame difference: how much moves
    "area",  # share of pixels unlike the clip's background: how big the animal looks
    "cx",  # where the foreground is (0 left, 1 right)
    "cy",  # (0 top, 1 bottom)
    "sx",  # its horizontal extent (standard deviation of its pixels' x): posture
    "sy",  # its vertical extent
    "speed",  # how far its centre moves per step
    "spread",  # how spread the moving pixels are
    "mdx",  # where the motion is relative to the foreground's centre, in its extents:
    "mdy",  # a head dipping moves below and in front of the body's centre
    "darea",  # how fast the foreground area changes (a body turning, fluffing)
)
# With ``orientation=True``, two more: the foreground's shape as an ellipse (its second moments).
ORIENTATION_SERIES = (
    "elong",  # how elongated it is, 0 (round) to 1 (a line): a body stretched or curled
    "spin",  # how far its long axis turns per step, in radians, weighed by elong: rotation
)
# With ``pairs=True`` (frames come as pairs one video frame apart, ``data/_pairs.py``), four more:
# the motion between the two frames of each pair, which a fast small movement (legs rubbed,
# a tremor) fills and the sampled frames' spacing aliases away, and where it is.
PAIR_SERIES = (
    "flick",  # mean absolute difference between a sampled frame and the next video frame
    "fshare",  # its share of all the motion (within pairs and between sampled frames)
    "fdx",  # where that motion is relative to the foreground's centre, in its extents
    "fdy",
)
POOLS = ("mean", "std", "max", "min")

# Frame differences count as motion only where the animal is (a pixel unlike the clip's
# background in either frame): elsewhere they are sensor noise, and x264 removes part of that,
# so a training clip carries less of it than the video it was cut from. On crab_pair a 4 s
# window's mean difference was 1.44x as large in the source video as in its CRF-20 clip, and
# the model's `approach` (0.70 on the clip) became `chase` (0.83) at prediction. Gated, the two
# agreed within 2 %, as the source, its clip and a noise-free rendering do in
# tests/test_hybrid.py.


def series_names(orientation: bool, pairs: bool = False, tracked: bool = False) -> tuple[str, ...]:
    """The per-step series ``HybridNet`` computes, in order (``series_of``, then
    ``pair_series``, then ``track_series``)."""
    return (
        SERIES
        + (ORIENTATION_SERIES if orientation else ())
        + (PAIR_SERIES if pairs else ())
        + (TRACK_SERIES if tracked else ())
    )


def clip_series(
    x: torch.Tensor,
    threshold: float = 0.31,
    stabilise: bool = False,
    gate_motion: bool = False,
    orientation: bool = False,
) -> torch.Tensor:
    """Clips (N, C, T, H, W), normalised → per-step statistics (N, len(series_names), T - 1).

    ``threshold``: how far (in normalised units; 0.31 ≈ 18 grey levels at ImageNet's std) a
    pixel must be from the clip's per-pixel median to count as foreground. Each frame's mean
    grey level is subtracted first, so a global light change is neither motion nor
    foreground. Series defined per frame are averaged over consecutive pairs to align with the
    per-step ones. ``stabilise``: undo a moving camera's shift first (``_stabilise``), and
    leave out the border the shifts did not see. ``gate_motion``: frame differences count
    only where either frame is foreground (``motion_mask``), so noise is not motion.
    ``orientation``: also the foreground's elongation and the turning of its long axis.
    """
    g, seen = grey_frames(x, stabilise)
    return series_of(g, foreground(g, threshold), seen, gate_motion, orientation)


def grey_frames(x: torch.Tensor, stabilise: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Clips (N, C, T, H, W) → grey frames (N, T, H, W), each less its mean brightness, and
    the mask of pixels every frame saw (``stabilise``: moved onto the middle frame; None when
    nothing was moved)."""
    g = x.float().mean(dim=1)
    if g.shape[1] < 2:
        raise config_error("clip_len", f"the statistics need 2 or more frames (got {g.shape[1]})")
    seen = None
    if stabilise:
        g, seen = aligned(g)
    return g - g.mean(dim=(2, 3), keepdim=True), seen


def foreground(g: torch.Tensor, threshold: float) -> torch.Tensor:
    """Grey frames (N, T, H, W), each less its mean → 1 where a pixel is more than
    ``threshold`` from the clip's per-pixel median (the background), else 0."""
    background = g.median(dim=1, keepdim=True).values
    return ((g - background).abs() > threshold).to(g.dtype)


def _pairs(fg: torch.Tensor) -> torch.Tensor:
    """(N, T, H, W) foreground → (N, T - 1, H, W): foreground in frame t or frame t + 1."""
    return torch.maximum(fg[:, 1:], fg[:, :-1])


def _moments(
    fg: torch.Tensor, xs: torch.Tensor, ys: torch.Tensor, eps: float
) -> tuple[torch.Tensor, ...]:
    """Foreground (N, T, H, W) → per frame (N, T): its mass (+ ``eps``), centre (cx, cy) and
    extents (sx, sy: the standard deviations of its pixels' x and y)."""
    mass = fg.sum(dim=(2, 3)) + eps
    cx = (fg * xs).sum(dim=(2, 3)) / mass
    cy = (fg * ys).sum(dim=(2, 3)) / mass
    sx = ((fg * (xs - cx[..., None, None]) ** 2).sum(dim=(2, 3)) / mass).sqrt()
    sy = ((fg * (ys - cy[..., None, None]) ** 2).sum(dim=(2, 3)) / mass).sqrt()
    return mass, cx, cy, sx, sy


def _per_step(s: torch.Tensor) -> torch.Tensor:
    """A series per frame (N, T) → per step (N, T - 1): the mean of each consecutive pair."""
    return (s[:, 1:] + s[:, :-1]) / 2


def series_of(
    g: torch.Tensor,
    fg: torch.Tensor,
    seen: torch.Tensor | None,
    gate_motion: bool,
    orientation: bool = False,
) -> torch.Tensor:
    """``clip_series`` from its grey frames, their foreground and the seen mask."""
    _, _, h, w = g.shape
    ys = torch.linspace(0, 1, h, device=g.device, dtype=g.dtype)[:, None]
    xs = torch.linspace(0, 1, w, device=g.device, dtype=g.dtype)[None, :]
    eps = 1e-3

    diff = (g[:, 1:] - g[:, :-1]).abs()  # (N, T-1, H, W)
    if gate_motion:
        diff = diff * _pairs(fg)
    if seen is None:
        energy, area = diff.mean(dim=(2, 3)), fg.mean(dim=(2, 3))
    else:  # only the pixels every aligned frame saw
        diff, fg = diff * seen, fg * seen
        pixels = seen.sum(dim=(2, 3)).clamp(min=1)
        energy, area = diff.sum(dim=(2, 3)) / pixels, fg.sum(dim=(2, 3)) / pixels
    mass, cx, cy, sx, sy = _moments(fg, xs, ys, eps)
    speed = torch.hypot(cx[:, 1:] - cx[:, :-1], cy[:, 1:] - cy[:, :-1])
    dmass = diff.sum(dim=(2, 3)) + eps
    mx = (diff * xs).sum(dim=(2, 3)) / dmass
    my = (diff * ys).sum(dim=(2, 3)) / dmass
    spread = (
        (diff * ((xs - mx[..., None, None]) ** 2 + (ys - my[..., None, None]) ** 2)).sum(dim=(2, 3))
        / dmass
    ).sqrt()

    mdx = (mx - _per_step(cx)) / (_per_step(sx) + 0.02)
    mdy = (my - _per_step(cy)) / (_per_step(sy) + 0.02)
    darea = (area[:, 1:] - area[:, :-1]).abs()
    framed = (_per_step(v) for v in (area, cx, cy, sx, sy))
    series = (energy, *framed, speed, spread)
    aspect = (w - 1) / max(1, h - 1)  # one x unit in y units: a pixel is a pixel both ways
    extra = _orientation(fg, xs, ys, cx, cy, sx, sy, mass, aspect) if orientation else ()
    return torch.stack([*series, mdx, mdy, darea, *extra], dim=1)


def pair_series(
    g: torch.Tensor, fg: torch.Tensor, seen: torch.Tensor | None, gate_motion: bool
) -> torch.Tensor:
    """Grey frames and foreground of interleaved pairs (N, 2K, H, W) → (N, 4, K - 1): per
    step (as ``series_of``'s, frames k → k + 1 of the sampled ones), in the square of half the
    frame's short side that holds the most foreground (``crop_corners``; a fluttering leaf or
    the sensor's noise elsewhere would drown a small animal's legs): the mean absolute
    difference within the two pairs (``flick``), its share of all the motion there, within
    pairs and between sampled frames (``fshare``: ½ or more for a fast movement, small for a
    slow one), and where it is relative to the foreground's centre, in the foreground's
    extents (``fdx``, ``fdy``)."""
    side = max(1, min(g.shape[-2:]) // 2)
    main = fg[:, 0::2] if seen is None else fg[:, 0::2] * seen
    corners = crop_corners(main, side)
    g, fg = crop_at(g[:, None], corners, side)[:, 0], crop_at(fg[:, None], corners, side)[:, 0]
    if seen is not None:
        seen = crop_at(seen[:, None], corners, side)[:, 0]
    ys = torch.linspace(0, 1, side, device=g.device, dtype=g.dtype)[:, None]
    xs = ys.T
    eps = 1e-3
    first, second = g[:, 0::2], g[:, 1::2]
    within = (second - first).abs()  # (N, K, H, W)
    between = (first[:, 1:] - first[:, :-1]).abs()  # (N, K - 1, H, W)
    if gate_motion:
        within = within * torch.maximum(fg[:, 0::2], fg[:, 1::2])
        between = between * _pairs(fg[:, 0::2])
    fgm = fg[:, 0::2]
    if seen is not None:
        within, between, fgm = within * seen, between * seen, fgm * seen
    pixels = float(side * side) if seen is None else seen.sum(dim=(2, 3)).clamp(min=1)
    flick = within.sum(dim=(2, 3)) / pixels
    _, cx, cy, sx, sy = _moments(fgm, xs, ys, eps)
    dmass = within.sum(dim=(2, 3)) + eps
    fdx = ((within * xs).sum(dim=(2, 3)) / dmass - cx) / (sx + 0.02)
    fdy = ((within * ys).sum(dim=(2, 3)) / dmass - cy) / (sy + 0.02)
    moved = between.sum(dim=(2, 3)) / pixels
    fshare = _per_step(flick) / (_per_step(flick) + moved + eps)
    return torch.stack([_per_step(flick), fshare, _per_step(fdx), _per_step(fdy)], dim=1)


def _orientation(
    fg: torch.Tensor,
    xs: torch.Tensor,
    ys: torch.Tensor,
    cx: torch.Tensor,
    cy: torch.Tensor,
    sx: torch.Tensor,
    sy: torch.Tensor,
    mass: torch.Tensor,
    aspect: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The foreground's elongation per step and how far its long axis turns per step.

    Its covariance is taken in units of the frame's height (x is scaled by the aspect ratio,
    or a wide frame would tilt every axis towards the horizontal). The long axis is at half the
    angle atan2(2 cxy, cxx − cyy); that doubled angle has no 180° ambiguity, so the turn per
    step is the wrapped change of it, halved. A round blob has no axis to speak of: the turn is
    weighed by the smaller elongation of the two frames.
    """
    cxy = (fg * (xs - cx[..., None, None]) * (ys - cy[..., None, None])).sum(dim=(2, 3)) / mass
    cxx, cyy, cxy = (sx * aspect) ** 2, sy**2, cxy * aspect
    along = cxx - cyy
    elong = torch.hypot(along, 2 * cxy) / (cxx + cyy + 1e-6)
    doubled = torch.atan2(2 * cxy, along)
    turned = torch.remainder(doubled[:, 1:] - doubled[:, :-1] + torch.pi, 2 * torch.pi) - torch.pi
    spin = turned.abs() / 2 * torch.minimum(elong[:, 1:], elong[:, :-1])
    return (elong[:, 1:] + elong[:, :-1]) / 2, spin


def mask_of(fg: torch.Tensor, seen: torch.Tensor | None) -> torch.Tensor:
    """(N, T, H, W) foreground → (N, 1, T, H, W): 1 where frame t or frame t − 1 is
    foreground (frame 0: frame 0) and every frame saw the pixel."""
    pair = torch.cat([fg[:, :1], _pairs(fg)], dim=1)
    if seen is not None:
        pair = pair * seen
    return pair[:, None]


def motion_mask(x: torch.Tensor, threshold: float, stabilise: bool = False) -> torch.Tensor:
    """Clips (N, C, T, H, W) → (N, 1, T, H, W): where a frame difference is the animal's
    (``mask_of``), the mask the CNN's difference channels are gated by. ``stabilise``: the
    foreground is found on the frames moved onto the middle one, so a moving textured ground
    is background."""
    g, seen = grey_frames(x, stabilise)
    return mask_of(foreground(g, threshold), seen).to(x.dtype)


def crop_corners(fg: torch.Tensor, side: int) -> torch.Tensor:
    """(N, T, H, W) foreground → (N, 2): the (top, left) pixel of each clip's ``side``-pixel
    square (inside the frame) that holds the most of its foreground over all frames.

    The densest square, not the foreground's centre of mass: a fluttering margin or a
    distractor far from the animal would pull a mean between the two, onto neither."""
    h, w = fg.shape[-2:]
    side = min(side, h, w)
    top, left = densest_squares(fg.sum(dim=1), side)
    empty = fg.flatten(1).sum(dim=1) == 0  # no foreground: the middle of the frame
    top = torch.where(empty, (h - side) // 2, top)
    left = torch.where(empty, (w - side) // 2, left)
    return torch.stack([top, left], dim=1)


# The views ``zoom_boxes`` tries, as shares of the frame's height and width, smallest first.
ZOOM_SCALES = (0.5, 0.625, 0.75, 0.875)


def zoom_boxes(fg: torch.Tensor, keep: float, smallest: float) -> torch.Tensor:
    """(N, T, H, W) foreground → (N, 4): each clip's (top, left, height, width) view, of the
    frame's own shape: the smallest of ``ZOOM_SCALES`` (not below ``smallest``) whose densest
    placement holds ``keep`` of the clip's foreground over all frames, else the whole frame.

    An animal that stays in a small part of the frame is seen up close; one that ranges over
    it (or two far apart, or a frame of noise) keeps the whole frame, as without a zoom."""
    n, _, h, w = fg.shape
    mass = fg.sum(dim=1, keepdim=True)  # (N, 1, H, W)
    total = mass.flatten(1).sum(dim=1)
    boxes = torch.tensor([0, 0, h, w], device=fg.device).repeat(n, 1)
    chosen = total == 0  # no foreground: nothing to zoom to
    for scale in (s for s in ZOOM_SCALES if s >= smallest):
        bh, bw = max(1, round(scale * h)), max(1, round(scale * w))
        held = nn.functional.avg_pool2d(mass, (bh, bw), stride=1).flatten(1) * (bh * bw)
        best, where = held.max(dim=1)
        take = ~chosen & (best >= keep * total)
        cols = w - bw + 1
        found = torch.stack([where // cols, where % cols, torch.full_like(where, bh),
                             torch.full_like(where, bw)], dim=1)  # fmt: skip
        boxes = torch.where(take[:, None], found, boxes)
        chosen |= take
    return boxes


def zoom_at(x: torch.Tensor, boxes: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """Clips (N, C, T, H, W) → (N, C, T, *size): clip i's box ``boxes[i]`` resampled to
    ``size`` (``mode`` 'area' for frames: a box larger than ``size`` is averaged, not aliased;
    'nearest' for masks)."""
    views = []
    for clip, (y, x_, bh, bw) in zip(x, boxes.tolist(), strict=True):
        view = clip[..., y : y + bh, x_ : x_ + bw]  # (C, T, bh, bw): C as batch, T as channels
        if (bh, bw) != size:
            view = nn.functional.interpolate(view, size=size, mode=mode)
        views.append(view)
    return torch.stack(views)


def crop_at(x: torch.Tensor, corners: torch.Tensor, side: int) -> torch.Tensor:
    """Clips (N, C, T, H, W) → (N, C, T, side, side): clip i's square at ``corners[i]``."""
    return torch.stack(
        [
            clip[..., y : y + side, x_ : x_ + side]
            for clip, (y, x_) in zip(x, corners.tolist(), strict=True)
        ]
    )


def pool_series(series: torch.Tensor) -> torch.Tensor:
    """(N, K, S) → (N, K · 4): each series' mean, standard deviation, maximum and minimum."""
    std = series.std(dim=2) if series.shape[2] > 1 else torch.zeros_like(series[:, :, 0])
    return torch.cat([series.mean(dim=2), std, series.amax(dim=2), series.amin(dim=2)], dim=1)


class HybridNet(nn.Module):
    """TinyVideoNet's pooled features beside the clip's pooled motion/foreground statistics.

    ``widths``/``motion``: the CNN's (``TinyVideoNet``); ``cnn=False`` or ``stats=False``
    drops a branch (ablations). ``pool``: the CNN's pooling over time and space, ``'avg'`` or
    ``'avgmax'`` (mean and maximum, so a short event or a small animal is not averaged away).
    ``cnn_dropout``: dropout on the CNN's features; ``branch_drop``: the share of training
    clips whose whole CNN vector is zeroed. ``threshold``: the foreground threshold of
    ``clip_series``; ``stabilise``: its camera-shake compensation; ``gate_motion``: frame
    differences count only where the animal is, in both branches (``motion_mask``);
    ``orientation``: two more series, the foreground's elongation and its rotation.

    ``stats_pool`` and ``crop`` (opt-in, together: an animal-centred view at a higher
    resolution, for an animal a few pixels long). The frames come in at ``stats_pool`` times
    the size the statistics were designed at (the pipeline's Resize says so); the statistics
    see them averaged over ``stats_pool``² blocks, and the CNN sees a square of ``crop`` times
    the frame's short side at the full input size: the square holding the most of the clip's
    foreground (``crop_corners``). ``zoom`` (opt-in, instead of ``crop``): the CNN's view is the
    smallest box of the frame's shape, down to 1/``stats_pool`` of it, that holds ``zoom`` of the
    clip's foreground (``zoom_boxes``), shown at the statistics' size: an animal that stays in a
    small area is seen up close, one that ranges over the frame keeps the whole frame.

    ``pairs`` (opt-in; the pipeline must have ``PairFrames``): the frames come as pairs one
    video frame apart. The CNN and the series see the first of each pair, as without; four
    more series (``pair_series``) measure the motion within the pairs. The per-step features
    are given to both frames of a pair, one per input frame as the per-step targets are.

    ``track`` (opt-in): four more series, the position of the densest small patch of
    foreground frame by frame (``_track``): where the animal is when other things move too.
    ``follow`` (opt-in, instead of ``crop`` and ``zoom``): the CNN sees, frame by frame, a
    square of ``follow`` times the input's short side centred on that tracked position
    (``follow_corners``): the animal's posture and its limbs at the input's full resolution,
    its own travel taken out (the statistics keep it).

    Outputs (N, out_channels, 1, 1, 1), which ``I3DHead`` classifies.
    """

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 64, 128),
        in_channels: int = 3,
        motion: bool = True,
        cnn: bool = True,
        stats: bool = True,
        pool: str = "avg",
        cnn_dropout: float = 0.0,
        branch_drop: float = 0.0,
        threshold: float = 0.31,
        steps: bool = False,
        stabilise: bool = False,
        # Off unless the config says so: a checkpoint trained before the gate existed was
        # trained without it and must be built as it was trained.
        gate_motion: bool = False,
        # Off unless the config says so, for the same reason: two more statistics per step.
        orientation: bool = False,
        stats_pool: int = 1,
        crop: float | None = None,
        zoom: float | None = None,
        follow: float | None = None,
        pairs: bool = False,
        track: bool = False,
        pretrained: str | None = None,
    ) -> None:
        super().__init__()
        if not (cnn or stats):
            raise config_error("cnn", "and stats are both False: the model would see nothing")
        if pool not in ("avg", "avgmax"):
            raise config_error("pool", f"must be 'avg' or 'avgmax' (got {pool!r})")
        for name, value in (("cnn_dropout", cnn_dropout), ("branch_drop", branch_drop)):
            if not 0 <= value < 1:
                raise config_error(name, f"must be in [0, 1) (got {value!r})")
        if not threshold > 0:
            raise config_error("threshold", f"must be > 0 (got {threshold!r})")
        if not (isinstance(stats_pool, int) and stats_pool >= 1):
            raise config_error("stats_pool", f"must be a whole number >= 1 (got {stats_pool!r})")
        if crop is not None and not 0 < crop <= 1:
            raise config_error("crop", f"must be in (0, 1] or None (got {crop!r})")
        if zoom is not None and not 0 < zoom <= 1:
            raise config_error("zoom", f"must be in (0, 1] or None (got {zoom!r})")
        if follow is not None and not 0 < follow <= 1:
            raise config_error("follow", f"must be in (0, 1] or None (got {follow!r})")
        chosen = (("crop", crop), ("zoom", zoom), ("follow", follow))
        views = [name for name, value in chosen if value is not None]
        if len(views) > 1:
            raise config_error(
                views[1], f"and {views[0]} are two ways to choose the CNN's view; set one"
            )
        self.stats_pool, self.crop, self.zoom, self.follow = stats_pool, crop, zoom, follow
        self.gate_motion = bool(gate_motion)
        self.pool, self.branch_drop, self.threshold = pool, branch_drop, threshold
        self.stabilise = stabilise
        self.cnn = TinyVideoNet(widths, in_channels, motion) if cnn else None
        self.cnn_dropout = nn.Dropout(cnn_dropout) if cnn_dropout > 0 else nn.Identity()
        cnn_channels = 0
        if self.cnn is not None:
            cnn_channels = self.cnn.out_channels * (2 if pool == "avgmax" else 1)
        self.orientation, self.pairs, self.track = bool(orientation), bool(pairs), bool(track)
        for name, on in (("pairs", self.pairs), ("track", self.track)):
            if on and not stats:
                raise config_error(name, "feeds the statistics: it needs stats=True")
        n_series = len(series_names(self.orientation, self.pairs, self.track))
        n_stats = n_series * len(POOLS) if stats else 0
        self.stats_norm = nn.BatchNorm1d(n_stats) if stats else None
        self.out_channels = cnn_channels + n_stats
        # Per step: the series (normalised on their own) and the CNN's features; 0: no steps.
        self.step_norm = nn.BatchNorm1d(n_series) if steps and stats else None
        self.step_channels = (cnn_channels + (n_series if stats else 0)) if steps else 0
        if pretrained:
            load_into(self, state_dict_from(pretrained), source=pretrained)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """(N, C, T, H, W) → (N, out_channels, 1, 1, 1); with ``steps``, also the per-step
        features (N, step_channels, T, 1, 1)."""
        parts, step_parts = [], []
        full = x
        if self.pairs:
            if x.shape[2] % 2:
                raise config_error(
                    "pairs", f"needs frames in pairs (PairFrames); got {x.shape[2]} frames"
                )
            x = x[:, :, 0::2]  # the sampled frames; their neighbours only feed pair_series
        t = x.shape[2]
        series, mask = None, None
        # One frame has no differences to gate.
        gate_cnn = self.cnn is not None and self.cnn.motion and self.gate_motion and t > 1
        cropping = self.cnn is not None and self.crop is not None
        zooming = self.cnn is not None and self.zoom is not None
        following = self.cnn is not None and self.follow is not None
        cnn_x = x
        if self.stats_norm is not None or gate_cnn or cropping or zooming or following:
            with torch.no_grad():  # functions of the input only: nothing to learn through them
                small = full
                if self.stats_pool > 1:
                    p = self.stats_pool
                    small = nn.functional.avg_pool3d(full, (1, p, p), ceil_mode=True)
                g, seen = grey_frames(small, self.stabilise)  # once: both branches use them
                fg = foreground(g, self.threshold)
                paired = (g, fg) if self.pairs else None
                if paired is not None:
                    g, fg = g[:, 0::2], fg[:, 0::2]
                if self.stats_norm is not None:
                    series = series_of(g, fg, seen, self.gate_motion, self.orientation)
                    if paired is not None:
                        extra = pair_series(*paired, seen, self.gate_motion)
                        series = torch.cat([series, extra], dim=1)
                    if self.track:
                        series = torch.cat([series, track_series(fg, seen)], dim=1)
                if gate_cnn:
                    mask = mask_of(fg, seen).to(x.dtype)
                if zooming:
                    assert self.zoom is not None
                    # Chosen and shown at the statistics' size, cut from the input's: a view
                    # of half the frame at stats_pool 2 is the input's own pixels.
                    p = self.stats_pool
                    boxes = zoom_boxes(fg if seen is None else fg * seen[:, 0:1], self.zoom, 1 / p)
                    size = (g.shape[-2], g.shape[-1])
                    cnn_x = zoom_at(x, boxes * p, size, "area")
                    if mask is not None:
                        mask = zoom_at(mask, boxes, size, "nearest")
                elif mask is not None and mask.shape[-2:] != x.shape[-2:]:
                    mask = nn.functional.interpolate(mask, size=x.shape[2:], mode="nearest")
                if following:
                    assert self.follow is not None
                    # Tracked at the statistics' size, cut at the input's, frame by frame.
                    side = max(1, min(round(self.follow * min(x.shape[-2:])), *x.shape[-2:]))
                    corners = follow_corners(
                        tracked_positions(fg, seen), (x.shape[-2], x.shape[-1]), side
                    )
                    cnn_x = crop_frames(x, corners, side)
                    if mask is not None:
                        mask = crop_frames(mask, corners, side)
                if cropping:
                    assert self.crop is not None
                    # Found at the statistics' size, cut at the input's.
                    p = self.stats_pool
                    small_side = max(1, round(self.crop * min(fg.shape[-2:])))
                    corners = crop_corners(fg if seen is None else fg * seen[:, 0:1], small_side)
                    side = min(small_side * p, *x.shape[-2:])
                    corners = torch.minimum(
                        corners * p,
                        torch.tensor([x.shape[-2] - side, x.shape[-1] - side], device=x.device),
                    )
                    cnn_x = crop_at(x, corners, side)
                    if mask is not None:
                        mask = crop_at(mask, corners, side)
        if self.cnn is not None:
            f = self.cnn(cnn_x, motion_mask=mask)
            pooled = f.mean(dim=(2, 3, 4))
            per_step = f.mean(dim=(3, 4))
            if self.pool == "avgmax":
                pooled = torch.cat([pooled, f.amax(dim=(2, 3, 4))], dim=1)
                per_step = torch.cat([per_step, f.amax(dim=(3, 4))], dim=1)
            pooled = self.cnn_dropout(pooled)
            if self.training and self.branch_drop > 0:
                keep = torch.rand(pooled.shape[0], 1, device=pooled.device) >= self.branch_drop
                scale = keep.to(pooled.dtype) / (1 - self.branch_drop)
                pooled, per_step = pooled * scale, per_step * scale[:, :, None]
            parts.append(pooled)
            if self.step_channels:
                step_parts.append(
                    nn.functional.interpolate(per_step, size=t, mode="linear", align_corners=False)
                )
        if series is not None and self.stats_norm is not None:
            parts.append(self.stats_norm(pool_series(series).to(x.dtype)))
            if self.step_norm is not None:
                # Step s of the series is frames s → s+1; frame 0 takes the first step's.
                framed = torch.cat([series[:, :, :1], series], dim=2).to(x.dtype)
                step_parts.insert(0, self.step_norm(framed))
        pooled_all = torch.cat(parts, dim=1)[:, :, None, None, None]
        if not self.step_channels:
            return pooled_all
        per_frame = torch.cat(step_parts, dim=1)
        if self.pairs:  # one step per input frame: a pair's two frames share theirs
            per_frame = per_frame.repeat_interleave(2, dim=2)
        return pooled_all, per_frame[:, :, :, None, None]
