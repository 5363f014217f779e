"""The animal's tracked position (``_track``): the densest small patch of foreground, frame by
frame, where the centre of all the foreground is pulled away by a thin distractor."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ethoclip.cli import main
from ethoclip.config import Config
from ethoclip.errors import ConfigError
from ethoclip.models.backbones._track import (
    TRACK_SERIES,
    crop_frames,
    follow_corners,
    track,
    track_series,
)
from ethoclip.models.backbones.hybrid import HybridNet, _moments, series_names

from .learning_fixtures import assert_takes_a_training_step

H, W = 96, 128


def ring(t: int) -> torch.Tensor:
    """(1, t, H, W): a 1-px ellipse round the frame's middle (a fluttering leaf margin's
    foreground), the same in every frame."""
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    r = torch.hypot((xs - (W - 1) / 2) / 58, (ys - (H - 1) / 2) / 42)
    one = ((r - 1).abs() < 0.012).float()
    return one.expand(1, t, H, W).clone()


def blob(fg: torch.Tensor, frame: int, top: int, left: int) -> None:
    fg[0, frame, top : top + 6, left : left + 8] = 1.0  # a 6 × 8 px animal


def test_the_track_follows_a_compact_animal_where_the_centre_of_all_foreground_does_not() -> None:
    fg = ring(8)
    assert 60 < fg[0, 0].sum() < 400  # a thin ring, yet more pixels than the animal's 48
    for t in range(8):
        blob(fg, t, top=30, left=30 + 6 * t)  # walking right, 6 px a frame, inside the ring
    pos = track(fg)[0]  # (2, T)
    true_x = torch.tensor([(30 + 6 * t + 3.5) / (W - 1) for t in range(8)])
    true_y = (30 + 2.5) / (H - 1)
    # Within 2 px of the animal's centre: the square is placed by the smoothed foreground,
    # which holds the animal's neighbouring places too, so it can cut an edge of the animal.
    assert (pos[0] - true_x).abs().max() < 2 / (W - 1)
    assert (pos[1] - true_y).abs().max() < 2 / (H - 1)
    # What series_of's centre says: pulled to the ring's middle, 0.1 or more off in y.
    xs = torch.linspace(0, 1, W)[None, :]
    ys = torch.linspace(0, 1, H)[:, None]
    *_, cy, _, _ = _moments(fg, xs, ys, 1e-3)
    assert (cy[0] - true_y).abs().min() > 0.1


def test_a_still_animal_missing_from_a_frame_keeps_its_place_there() -> None:
    """A still animal is foreground only where it twitches, so now and then not at all. In
    such a frame the ring is all there is; the smoothing keeps the animal's place."""
    fg = ring(10)
    for t in range(10):
        if t % 5 != 2:
            blob(fg, t, top=60, left=90)
    pos = track(fg)[0]
    assert fg[0, 2, 60:66, 90:98].sum() == 0  # frame 2 holds only the ring
    assert (pos[0] - (93.5 / (W - 1))).abs().max() < 1.5 / (W - 1)
    assert (pos[1] - (62.5 / (H - 1))).abs().max() < 1.5 / (H - 1)


def test_frames_with_no_foreground_take_the_clip_mean_and_an_empty_clip_the_middle() -> None:
    fg = torch.zeros(2, 12, H, W)
    blob(fg[:1], 0, top=10, left=10)  # clip 0: the animal in frame 0 only, then nothing
    pos = track(fg)
    # Frames 0–2 see it (frame 0 itself, 1–2 through the 5-frame smoothing); the rest take
    # the mean of those, which is where it was.
    assert torch.allclose(pos[0], pos[0, :, :1].expand(2, 12))
    assert torch.allclose(pos[0, :, 0], torch.tensor([13.5 / (W - 1), 12.5 / (H - 1)]))
    assert torch.equal(pos[1], torch.full((2, 12), 0.5))


def test_the_series_are_position_distance_from_the_middle_and_speed_per_step() -> None:
    fg = torch.zeros(1, 3, H, W)
    fg[0, 0, 0, 0] = fg[0, 1, 0, 0] = fg[0, 2, 0, W - 1] = 1.0  # top left twice, then top right
    # Frame 2's smoothing (3 frames here, the clip being 3 long) leaves ½ at the top left,
    # its own pixel is 1 at the top right: it is there. Positions (0, 0), (0, 0), (1, 0).
    assert track(fg)[0].tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    s = track_series(fg)[0]  # (4 series, 2 steps)
    # Step 0 → 1: at the corner, not moving; a corner is √((½² + ½²) · 2) = 1 from the middle.
    # Step 1 → 2: the mean position (½, 0), both ends at a corner, 1 frame width moved.
    assert s.T.tolist() == [pytest.approx([0.0, 0.0, 1.0, 0.0]),
                            pytest.approx([0.5, 0.0, 1.0, 1.0])]  # fmt: skip
    assert dict(zip(TRACK_SERIES, range(4), strict=True)) == {"tx": 0, "ty": 1, "tmid": 2,
                                                              "tspeed": 3}  # fmt: skip


def test_the_tracked_backbone_adds_four_series_and_refuses_to_track_without_statistics() -> None:
    assert series_names(False, False, True)[-4:] == TRACK_SERIES
    plain, tracked = HybridNet(steps=True), HybridNet(steps=True, track=True)
    assert tracked.step_channels == plain.step_channels + 4
    assert tracked.out_channels == plain.out_channels + 4 * 4  # four poolings each
    pooled, steps = tracked(torch.randn(2, 3, 8, H, W))
    assert pooled.shape[1] == tracked.out_channels and steps.shape[1:3] == (
        tracked.step_channels,
        8,
    )
    with pytest.raises(ConfigError, match="track"):
        HybridNet(stats=False, track=True)


def test_the_follow_view_keeps_a_walking_animal_in_the_middle_of_every_frame() -> None:
    """``follow``: the CNN's frames are cut around the tracked animal, at the input's size
    (twice the statistics' here), whatever else in the frame is foreground."""
    t, p = 8, 2
    torch.manual_seed(0)
    x = 0.5 + 0.01 * torch.randn(1, 3, t, H * p, W * p)
    margin = ring(t)[0].repeat_interleave(p, dim=1).repeat_interleave(p, dim=2)  # (T, 2H, 2W)
    # The margin flutters: it is there in every other frame only, so it is foreground too.
    x[0, :, 0::2] += margin[0::2] * 0.5
    for f in range(t):  # a 12 × 16 px animal walking right 8 px a frame inside the ring
        x[0, :, f, 60:72, 60 + 8 * f : 76 + 8 * f] = 1.0
    net = HybridNet(widths=(4, 8), steps=True, gate_motion=True, stats_pool=p, follow=0.25)
    seen: list[torch.Tensor] = []
    assert net.cnn is not None
    net.cnn.register_forward_pre_hook(lambda _module, args: seen.append(args[0]))
    net.eval()(x)  # eval: BatchNorm over a batch of one
    (view,) = seen
    side = round(0.25 * H * p)  # a quarter of the input's short side: 48 px
    assert view.shape == (1, 3, t, side, side)
    bright = (view[0, 0] > 0.9).float()  # (T, side, side): the animal
    rows, cols = torch.arange(side).float(), torch.arange(side).float()
    for f in range(t):
        mass = bright[f].sum()
        assert mass == 12 * 16, f"frame {f}: the animal is cut ({mass} of 192 px in view)"
        cy = (bright[f].sum(dim=1) * rows).sum() / mass
        cx = (bright[f].sum(dim=0) * cols).sum() / mass
        # Within 1.5 px of the view's middle, at the clip's ends too (the smoothing extends
        # them by their mirror image, so a steady walk is not lagged there by half a step).
        middle = (side - 1) / 2
        assert abs(cy - middle) < 1.5 and abs(cx - middle) < 1.5, (f, float(cy), float(cx))


def test_follow_corners_stay_inside_the_frame_and_crop_frames_cuts_each_frame_there() -> None:
    track_ = [0.0, 0.0, 0.5, 1.0, 1.0]
    pos = torch.tensor([[track_, track_]])  # (1, 2, T=5): x and y
    corners = follow_corners(pos, (40, 60), 10)
    # The ends are extended by their mirror image: frame 0's mean is (0 + 0 + 0) / 3, a corner
    # of the frame, and the view stays inside it.
    assert corners[0, 0].tolist() == [0, 0]
    assert corners[0, -1].tolist() == [30, 50]
    # Frame 2's centre is the mean of frames 1-3: (0 + 0.5 + 1) / 3 = 0.5 across the frame,
    # pixel 0.5 · 39 = 19.5 down and 0.5 · 59 = 29.5 across, less (10 - 1) / 2, rounded.
    assert corners[0, 2].tolist() == [15, 25]
    # Frame 1's: (0 + 0 + 0.5) / 3 = 1/6: 6.5 - 4.5 = 2 down, 9.83 - 4.5 → 5 across.
    assert corners[0, 1].tolist() == [2, 5]
    x = torch.randn(2, 3, 5, 40, 60)
    cut = crop_frames(x, corners.expand(2, -1, -1), 10)
    for i in range(2):
        for f in range(5):
            top, left = corners[0, f].tolist()
            assert torch.equal(cut[i, :, f], x[i, :, f, top : top + 10, left : left + 10])


def test_follow_is_one_view_among_crop_and_zoom_and_must_be_a_share() -> None:
    for bad in (dict(follow=0.0), dict(follow=1.5), dict(follow=0.3, zoom=0.9)):
        with pytest.raises(ConfigError, match="follow"):
            HybridNet(**bad)  # type: ignore[arg-type]


def test_config_new_hybrid_follow_follows_pairs_and_trains(
    demo_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "follow.py"
    assert main(["config", "new", "--data", str(demo_dataset), "--model", "hybrid_follow",
                 "--out", str(out)]) == 0  # fmt: skip
    cfg = Config.fromfile(out)
    types = [t.type for t in cfg.train_pipeline]
    assert types[types.index("SampleFrames") + 1] == "PairFrames"
    backbone = cfg.model.backbone
    assert (backbone.follow, backbone.zoom, backbone.track, backbone.stabilise) == (
        0.33,
        None,
        True,
        True,
    )
    assert backbone.pairs is True and backbone.stats_pool == 2
    assert_takes_a_training_step(cfg, frames=16, size=(192, 256))
