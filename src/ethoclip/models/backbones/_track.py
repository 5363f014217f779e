"""Where the animal is, frame by frame: the densest small patch of foreground.

``series_of`` measures position as the centre of all the frame's foreground. That is the
animal's centre only when the animal is the only thing unlike the background. A fluttering
leaf margin, a swaying plant, the residue of camera-shake compensation along a strong edge or
a second object all add foreground far from the animal, and pull the centre towards the
middle of the frame. On insect_leaf (a beetle on a leaf whose margin flutters) the margin's
thin ring held most of a clip's foreground: the mean distance of the foreground's centre
from the frame's middle scored `edge` (the beetle on the margin band) at AP 0.43 over the
89 clips (prior 0.34), and the same distance of the tracked patch's centre at 0.69.

The track: the foreground averaged over a few neighbouring frames (a still animal that only
twitches keeps its place; where the frame's own foreground is larger, that: a fast animal is
not smeared thin), then per frame the ``side``-pixel square holding the most of it;
the animal's position is the centre of the frame's own foreground inside that square. A
compact animal fills a small square more densely than a thin ring or a scatter of noise does.
"""

from __future__ import annotations

import torch
from torch import nn

# Per step, beside series_of's: the tracked animal's position, its distance from the frame's
# middle (0 at the middle, 1 at a corner: a wall or a margin, in a centred arena or on a
# centred leaf) and how far it moves.
TRACK_SERIES = ("tx", "ty", "tmid", "tspeed")
SMOOTH_FRAMES = 5  # the foreground is averaged over this many sampled frames (±0.3 s at 24)
SIDE_SHARE = 1 / 6  # the square's side as a share of the frame's short side (16 px at 96)


def track(fg: torch.Tensor, seen: torch.Tensor | None = None) -> torch.Tensor:
    """Foreground (N, T, H, W) → the tracked position per frame (N, 2, T): x and y, 0 to 1
    across the frame. Frames with no foreground near take the mean of the clip's others (the
    middle of the frame when no frame has any)."""
    n, t, h, w = fg.shape
    if seen is not None:
        fg = fg * seen
    side = max(1, min(h, w, round(min(h, w) * SIDE_SHARE)))
    flat = fg.permute(0, 2, 3, 1).reshape(-1, 1, t)
    k = min(SMOOTH_FRAMES, 2 * ((t - 1) // 2) + 1)  # odd and no longer than the clip
    smooth = nn.functional.avg_pool1d(flat, k, 1, k // 2, count_include_pad=False)
    # The larger of the frame's own foreground and the smoothed one: a still animal that only
    # twitches keeps its place, and a fast one is not smeared thin along its path.
    smooth = torch.maximum(smooth.reshape(n, h, w, t).permute(0, 3, 1, 2), fg)
    own = fg.reshape(n * t, h, w)
    smooth = smooth.reshape(n * t, h, w)
    top, left = densest_squares(smooth, side)
    # The frame's own foreground in the square says where the animal is (the smoothed one
    # would lag a moving animal); the smoothed one stands in where the frame's own is empty.
    offsets = torch.arange(side, device=fg.device)
    rows, columns = top[:, None] + offsets, left[:, None] + offsets  # (N·T, side) each
    inside = torch.arange(n * t, device=fg.device)[:, None, None]
    ys = (rows / max(1, h - 1)).to(fg.dtype)[:, :, None]
    xs = (columns / max(1, w - 1)).to(fg.dtype)[:, None, :]
    at = []
    for m in (smooth, own):
        square = m[inside, rows[:, :, None], columns[:, None, :]]  # (N·T, side, side)
        at.append(torch.stack([square.sum(dim=(1, 2)), (square * xs).sum(dim=(1, 2)),
                               (square * ys).sum(dim=(1, 2))], dim=1))  # fmt: skip
    smoothed, mine = at
    has_own = mine[:, :1] > 0.5  # the frame's own foreground is 0 or 1: a pixel or none
    centre = torch.where(
        has_own,
        mine[:, 1:] / mine[:, :1].clamp(min=1e-12),
        smoothed[:, 1:] / smoothed[:, :1].clamp(min=1e-12),
    )
    found = (smoothed[:, 0] > 0).reshape(n, t)
    pos = centre.reshape(n, t, 2).permute(0, 2, 1)
    pos = torch.where(found[:, None], pos, torch.zeros_like(pos))
    count = found.sum(dim=1, keepdim=True)  # (N, 1)
    middle = torch.full_like(pos[:, :, 0], 0.5)
    mean = torch.where(count > 0, pos.sum(dim=2) / count.clamp(min=1), middle)
    return torch.where(found[:, None], pos, mean[:, :, None])


def track_series(fg: torch.Tensor, seen: torch.Tensor | None = None) -> torch.Tensor:
    """Foreground (N, T, H, W) → (N, 4, T − 1), per step as ``series_of``'s (frames s → s + 1):
    ``TRACK_SERIES``."""
    pos = track(fg, seen)
    mid = ((pos - 0.5).square().sum(dim=1) * 2).sqrt()  # a corner: (¼ + ¼) · 2 = 1
    step = pos[:, :, 1:] - pos[:, :, :-1]
    speed = torch.hypot(step[:, 0], step[:, 1])
    both = (pos[:, :, 1:] + pos[:, :, :-1]) / 2
    return torch.stack([both[:, 0], both[:, 1], (mid[:, 1:] + mid[:, :-1]) / 2, speed], dim=1)


def densest_squares(m: torch.Tensor, side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, H, W) → the (top, left) pixel, (B,) each, of the ``side``-pixel square (inside the
    frame) holding the most of ``m``; ties (nothing at all) → the first square. The box filter
    runs as two 1-D passes: a direct 16-px one over the track's maps cost 1.7 s a batch of 8
    clips on one core, most of a training step."""
    w = m.shape[-1]
    first = nn.functional.avg_pool2d(m[:, None], (side, 1), stride=1)
    mass = nn.functional.avg_pool2d(first, (1, side), stride=1)
    best = mass.flatten(1).argmax(dim=1)
    cols = w - side + 1
    return best // cols, best % cols


# The follow crop's centre is the track averaged over this many sampled frames: the track
# moves by a pixel or two between frames where the animal does not (its foreground's edge
# flickers), and every such jump is a frame difference of the whole crop.
FOLLOW_SMOOTH = 3


def follow_corners(pos: torch.Tensor, size: tuple[int, int], side: int) -> torch.Tensor:
    """Tracked positions (N, 2, T), 0 to 1 across the frame → (N, T, 2): the (top, left)
    pixel, in a frame of ``size`` (H, W), of each frame's ``side``-pixel square centred on the
    animal, moved inside the frame where the animal is nearer an edge than half a side."""
    h, w = size
    r = FOLLOW_SMOOTH // 2
    if pos.shape[2] > r:
        # Each end is extended by its mirror image through the end point, so the mean is not
        # pulled towards the clip's inside there: a steady walk is followed without lag.
        first, last = pos[:, :, :1], pos[:, :, -1:]
        before = 2 * first - pos[:, :, 1 : r + 1].flip(2)
        after = 2 * last - pos[:, :, -r - 1 : -1].flip(2)
        pos = nn.functional.avg_pool1d(torch.cat([before, pos, after], dim=2), 2 * r + 1, 1)
    top = (pos[:, 1] * (h - 1) - (side - 1) / 2).round().clamp(0, h - side)
    left = (pos[:, 0] * (w - 1) - (side - 1) / 2).round().clamp(0, w - side)
    return torch.stack([top, left], dim=2).long()


def crop_frames(x: torch.Tensor, corners: torch.Tensor, side: int) -> torch.Tensor:
    """Clips (N, C, T, H, W) → (N, C, T, side, side): frame t of clip i cut at
    ``corners[i, t]`` (``follow_corners``)."""
    n, _, t = x.shape[:3]
    offsets = torch.arange(side, device=x.device)
    rows = corners[..., 0, None] + offsets  # (N, T, side)
    cols = corners[..., 1, None] + offsets
    clip = torch.arange(n, device=x.device)[:, None, None, None]
    frame = torch.arange(t, device=x.device)[None, :, None, None]
    # (N, T, C, H, W) indexed by four broadcast index tensors around the C slice: the indexed
    # dimensions come first, (N, T, side, side, C).
    cut = x.transpose(1, 2)[clip, frame, :, rows[:, :, :, None], cols[:, :, None, :]]
    return cut.permute(0, 4, 1, 2, 3)
