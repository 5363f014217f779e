"""HybridNet: its clip statistics are right on synthetic clips, its shapes and options, and the
shipped config builds and backpropagates through both branches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ethoclip.config import Config
from ethoclip.errors import ConfigError
from ethoclip.media import VideoReader
from ethoclip.media._encode import ClipEncoder
from ethoclip.models import build_recognizer
from ethoclip.models.backbones._stabilise import STATIC_PX, camera_shifts
from ethoclip.models.backbones.hybrid import (
    POOLS,
    SERIES,
    HybridNet,
    clip_series,
    crop_at,
    crop_corners,
    foreground,
    grey_frames,
    motion_mask,
    pool_series,
    series_names,
    zoom_boxes,
)


def _moving_square(frames: int = 6, size: int = 32, step: int = 3) -> torch.Tensor:
    """A 4×4 bright square on a dark background, moving right by ``step`` pixels a frame."""
    x = torch.full((1, 3, frames, size, size), -1.0)
    for t in range(frames):
        x[:, :, t, 10:14, 4 + step * t : 8 + step * t] = 1.5
    return x


def _series(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return dict(zip(SERIES, clip_series(x)[0], strict=True))


def test_statistics_follow_a_moving_square() -> None:
    s = _series(_moving_square())
    grid = 1 / 31  # one pixel in the 0..1 coordinates of a 32-pixel frame
    # Centre of columns 4..7 at frame 0 is 5.5 px; each step moves 3 px; pairs average two frames.
    expected_cx = torch.tensor([(5.5 + 3 * t + 1.5) * grid for t in range(5)])
    assert torch.allclose(s["cx"], expected_cx, atol=1e-4)
    assert torch.allclose(s["cy"], torch.full((5,), 11.5 * grid), atol=1e-4)
    assert torch.allclose(s["speed"], torch.full((5,), 3 * grid), atol=1e-4)
    assert torch.allclose(s["area"], torch.full((5,), 16 / 32**2))
    # The extent of a 4-pixel side: the standard deviation of 0, 1, 2, 3 pixels.
    side = torch.tensor([0.0, 1, 2, 3]).std(unbiased=False) * grid
    assert torch.allclose(s["sx"], torch.full((5,), side.item()), atol=1e-4)
    assert (s["energy"] > 0).all() and (s["darea"] == 0).all()


def test_a_still_clip_and_a_global_light_change_are_neither_motion_nor_foreground() -> None:
    still = torch.full((2, 3, 5, 16, 16), 0.25)  # values exact in binary: no rounding noise
    still[:, :, :, 4:8, 4:8] = 1.0  # an object that never moves is background
    s = clip_series(still)
    assert s.shape == (2, len(SERIES), 4)
    assert s[:, SERIES.index("energy")].abs().max() == 0
    assert s[:, SERIES.index("area")].abs().max() == 0
    lit = still.clone()
    lit[:, :, 3:] += 0.75  # the light steps up (clouds): every pixel at once
    assert torch.equal(clip_series(lit), s)


def test_a_posture_change_shows_in_the_extent() -> None:
    """The same area, lying (wide) in the first half and upright (tall) in the second."""
    x = torch.full((1, 3, 8, 32, 32), -1.0)
    x[:, :, :4, 14:18, 8:24] = 1.5  # 4 × 16
    x[:, :, 4:, 8:24, 14:18] = 1.5  # 16 × 4
    s = _series(x)
    assert s["sx"][0] > 3 * s["sy"][0] and s["sy"][-1] > 3 * s["sx"][-1]


def _bar(angle: float, cx: float, cy: float, size: tuple[int, int]) -> torch.Tensor:
    """A bright 36 × 6 px bar at ``angle`` (radians, in pixels) centred on (cx, cy)."""
    ys, xs = torch.meshgrid(
        torch.arange(size[0], dtype=torch.float32),
        torch.arange(size[1], dtype=torch.float32),
        indexing="ij",
    )
    u = (xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle)
    v = -(xs - cx) * np.sin(angle) + (ys - cy) * np.cos(angle)
    return ((u.abs() <= 18) & (v.abs() <= 3)).float() * 2.5 - 1.0


def _orientation(frames: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    x = torch.stack(frames)[None, None].repeat(1, 3, 1, 1, 1)
    return dict(zip(series_names(True), clip_series(x, orientation=True)[0], strict=True))


def test_rotation_shows_in_spin_and_translation_does_not() -> None:
    """A bar turning 0.15 rad a step in place, and the same bar sliding (never overlapping
    itself, so the clip's median is the empty ground and the foreground is the bar), in a
    frame twice as wide as high: the turn must be measured in pixels, not in 0..1 units."""
    size, rate = (64, 128), 0.15
    turning = _orientation([_bar(0.3 + rate * k, 64, 32, size) for k in range(9)])
    # The bar's centre is in every frame, so it is background: what is left is two arms,
    # still a line through the centre at the bar's angle. elong of a 36 × 6 bar: ~0.94.
    assert (turning["elong"] > 0.8).all()
    # spin = the turn per step weighed by elong; a wrong aspect ratio would make it vary
    # with the angle (by up to 4× for a 2:1 frame), so the spread is checked too.
    assert torch.allclose(turning["spin"], rate * turning["elong"][1:].min(), rtol=0.15)
    assert turning["spin"].std() < 0.1 * turning["spin"].mean()
    sliding = _orientation([_bar(0.6, 20 + 12 * k, 32, (64, 160)) for k in range(9)])
    assert sliding["spin"].abs().max() < 0.01 and (sliding["elong"] > 0.8).all()
    # Half a turn is no turn at all for an axis: 180° later the bar looks the same.
    flipped = _orientation([_bar(0.3 + np.pi * (k % 2), 64, 32, size) for k in range(5)])
    assert flipped["spin"].abs().max() < 0.01


def test_orientation_adds_two_series_and_stays_off_by_default() -> None:
    clips = torch.randn(3, 3, 6, 32, 40)
    assert (
        series_names(True)[: len(SERIES)] == SERIES and len(series_names(True)) == len(SERIES) + 2
    )
    with_axis = HybridNet(widths=(4, 8), orientation=True, steps=True)
    pooled, steps = with_axis(clips)
    assert pooled.shape[1] == 8 + (len(SERIES) + 2) * len(POOLS)
    assert steps.shape[1] == 8 + len(SERIES) + 2
    assert HybridNet(widths=(4, 8)).orientation is False
    # The first series are the same with or without it.
    assert torch.equal(clip_series(clips, orientation=True)[:, : len(SERIES)], clip_series(clips))


def test_pooling_and_shapes() -> None:
    series = torch.arange(12.0).reshape(1, 2, 6)
    pooled = pool_series(series)
    assert pooled.shape == (1, 2 * len(POOLS))
    assert pooled[0].tolist()[:2] == [2.5, 8.5] and pooled[0, 4:].tolist() == [5, 11, 0, 6]
    clips = torch.randn(3, 3, 6, 32, 40)
    full = HybridNet(widths=(4, 8))
    assert full(clips).shape == (3, 8 + len(SERIES) * len(POOLS), 1, 1, 1)
    assert HybridNet(widths=(4, 8), pool="avgmax").out_channels == 16 + len(SERIES) * 4
    assert HybridNet(widths=(4, 8), stats=False).out_channels == 8
    assert HybridNet(widths=(4, 8), cnn=False)(clips).shape == (3, len(SERIES) * 4, 1, 1, 1)
    for bad in (
        dict(cnn=False, stats=False),
        dict(pool="max"),
        dict(branch_drop=1.0),
        dict(cnn_dropout=-0.1),
        dict(threshold=0),
    ):
        with pytest.raises(ConfigError):
            HybridNet(widths=(4, 8), **bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="2 or more frames"):
        clip_series(torch.zeros(1, 3, 1, 8, 8))


def test_the_crop_finds_the_densest_square_of_foreground_not_its_mean() -> None:
    fg = torch.zeros(2, 4, 40, 60)
    fg[0, :, 5:9, 44:50] = 1  # the animal
    fg[0, 1, 30:40, 0:2] = 1  # a flutter far from it, as much foreground as the animal's
    # The mean of the two would be near (0.5, 0.4) of the frame, on neither; the densest
    # 16-pixel square holds the animal whole.
    top, left = crop_corners(fg, 16)[0].tolist()
    assert top <= 5 and top + 16 >= 9 and left <= 44 and left + 16 >= 50
    assert crop_corners(fg, 16)[1].tolist() == [12, 22]  # no foreground: the middle
    # A side past the frame's is cut to its short side (40): the first 40-pixel square that
    # holds the whole animal (columns 44–49) starts at column 10.
    assert crop_corners(fg, 100)[0].tolist() == [0, 10]
    x = torch.arange(2 * 3 * 4 * 40 * 60.0).reshape(2, 3, 4, 40, 60)
    cut = crop_at(x, torch.tensor([[3, 7], [0, 44]]), 16)
    assert torch.equal(cut[0], x[0, ..., 3:19, 7:23])
    assert torch.equal(cut[1], x[1, ..., 0:16, 44:60])


def test_stats_pool_and_crop_see_the_small_animal_at_twice_the_resolution() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 96, 128) * 0.05
    for t in range(8):  # a bright 6-pixel animal walking right, in one corner
        x[0, :, t, 10:16, 100 + t : 106 + t] = 2.0
    pooled = torch.nn.functional.avg_pool3d(x, (1, 2, 2))
    zoomed = HybridNet(widths=(4, 8), steps=True, gate_motion=True, stats_pool=2, crop=0.5)
    plain = HybridNet(widths=(4, 8), steps=True, gate_motion=True)
    zoomed.eval(), plain.eval()
    (out, steps), (ref, ref_steps) = zoomed(x), plain(pooled)
    assert out.shape == ref.shape and steps.shape == ref_steps.shape
    # The statistics are those of the frames at half the size: the size they were made for.
    n = len(SERIES) * len(POOLS)
    assert torch.allclose(out[:, -n:], ref[:, -n:])
    # The CNN sees a 48-pixel square of the full-size frames, around the animal.
    seen: list[torch.Tensor] = []
    assert zoomed.cnn is not None
    hook = zoomed.cnn.register_forward_hook(lambda _m, args, _o: seen.append(args[0]))
    zoomed(x)
    hook.remove()
    assert seen[0].shape == (2, 3, 8, 48, 48)
    g, _ = grey_frames(pooled, False)
    top, left = (crop_corners(foreground(g, 0.31), 24)[0] * 2).tolist()
    assert torch.equal(seen[0][0], x[0, ..., top : top + 48, left : left + 48])
    assert top <= 10 and left <= 100 and left + 48 >= 114
    for bad in (dict(stats_pool=0), dict(stats_pool=1.5), dict(crop=0.0), dict(crop=1.2)):
        with pytest.raises(ConfigError):
            HybridNet(widths=(4, 8), **bad)  # type: ignore[arg-type]


def test_branch_drop_zeroes_whole_cnn_vectors_in_training_only() -> None:
    torch.manual_seed(0)
    net = HybridNet(widths=(4, 8), branch_drop=0.5)
    clips = torch.randn(16, 3, 4, 16, 16)
    cnn = net(clips)[:, :8, 0, 0, 0]
    dropped = (cnn.abs().sum(1) == 0).sum().item()
    assert 0 < dropped < 16
    assert (net.eval()(clips)[:, :8].abs().sum(dim=1) > 0).all()


def test_the_shipped_hybrid_config_builds_and_trains_a_step() -> None:
    cfg = Config.fromfile("ethoclip::_base_/models/hybrid.py")
    cfg.model.backbone.widths = (4, 8)
    model = build_recognizer(cfg.model, num_classes=3, multi_label=True)
    clips = torch.randint(0, 255, (2, 1, 3, 4, 32, 32), dtype=torch.uint8)
    model.loss(clips, torch.tensor([[1.0, 0, 0], [0, 1, 1]])).backward()
    backbone = model.backbone
    # The shipped config gates motion; HybridNet's own default does not, so a checkpoint
    # trained before the gate existed (its config lacks the key) is built as it was trained.
    assert backbone.gate_motion is True and HybridNet(widths=(4, 8)).gate_motion is False
    assert backbone.cnn.features[0].weight.grad is not None
    assert backbone.stats_norm.weight.grad is not None
    assert model.cls_head.fc_cls.in_features == 8 + len(SERIES) * len(POOLS)


def _shaken(shifts: list[tuple[int, int]], size: tuple[int, int] = (48, 64)) -> torch.Tensor:
    """Grey frames (1, T, H, W) cut from one smooth random texture, frame t showing it moved
    down by dy and right by dx: a hand-held camera over a textured ground."""
    torch.manual_seed(0)
    world = nn_smooth(torch.randn(1, 1, size[0] + 24, size[1] + 24))[0, 0] * 3
    h, w = size
    return torch.stack([world[12 - dy : 12 - dy + h, 12 - dx : 12 - dx + w] for dy, dx in shifts])[
        None
    ]


def nn_smooth(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.avg_pool2d(x, 3, 1, 1)


SHAKE = [(0, 0), (1, 2), (-2, 1), (3, -1), (0, 0), (2, 2), (-1, -3), (1, 0)]


def test_camera_shifts_are_found_to_the_pixel_and_below() -> None:
    g = _shaken(SHAKE)
    ref = SHAKE[len(SHAKE) // 2]
    expected = torch.tensor([[dy - ref[0], dx - ref[1]] for dy, dx in SHAKE], dtype=torch.float32)
    assert torch.allclose(camera_shifts(g)[0], expected, atol=0.05)
    # A sub-pixel move (a Fourier phase ramp of 0.4 px down, 0.3 px left) on top of the shake.
    spectrum = torch.fft.fft2(g[0, 1])
    ky = torch.fft.fftfreq(g.shape[2])[:, None]
    kx = torch.fft.fftfreq(g.shape[3])[None, :]
    ramp = torch.exp(-2j * torch.pi * (ky * 0.4 + kx * -0.3))
    moved = g.clone()
    moved[0, 1] = torch.fft.ifft2(spectrum * ramp).real
    found = camera_shifts(moved)[0, 1]
    assert torch.allclose(found, expected[1] + torch.tensor([0.4, -0.3]), atol=0.15), found


def test_stabilising_takes_the_camera_out_of_motion_and_foreground() -> None:
    """A still textured ground filmed shaking: without compensation most of it 'moves' and is
    'foreground'; with it, almost nothing; a square moving on it is still seen, in place."""
    g = _shaken(SHAKE)
    clip = g[:, None].repeat(1, 3, 1, 1, 1)
    shaky = dict(zip(SERIES, clip_series(clip)[0], strict=True))
    steady = dict(zip(SERIES, clip_series(clip, stabilise=True)[0], strict=True))
    assert shaky["energy"].mean() > 0.3 and shaky["area"].mean() > 0.2
    # What is left is the sub-pixel resampling's error (shifts found to ±0.05 px).
    assert steady["energy"].mean() < 0.05 * shaky["energy"].mean(), steady["energy"]
    assert steady["area"].max() == 0
    # A small animal (3 px, like a beetle at 96 px) drawn in the world, moving 2 px right a frame: in each frame it appears
    # where the camera puts it, and compensation brings it back to the world's coordinates.
    world = clip.clone()
    for t, (dy, dx) in enumerate(SHAKE):
        y, x = 20 + dy, 10 + 2 * t + dx
        world[:, :, t, y : y + 3, x : x + 3] = 2.0
    s = dict(zip(SERIES, clip_series(world, stabilise=True)[0], strict=True))
    ref_dx = SHAKE[len(SHAKE) // 2][1]
    grid_x = 1 / (g.shape[3] - 1)
    expected_cx = torch.tensor([(10 + 2 * t + 1 + 1 - ref_dx) * grid_x for t in range(7)])
    assert torch.allclose(s["cx"], expected_cx, atol=0.02), s["cx"]
    assert torch.allclose(s["speed"], torch.full((7,), 2 * grid_x), atol=0.01)
    # The CNN's motion gate: unaligned, the shaking ground is 'foreground' almost everywhere;
    # aligned, only the animal (9 px a frame, 18 over a pair) and nothing of the ground.
    shaky_mask = motion_mask(world, 0.31)
    steady_mask = motion_mask(world, 0.31, stabilise=True)
    assert float(shaky_mask.mean()) > 0.2
    per_frame = steady_mask[0, 0].sum(dim=(1, 2))
    assert float(per_frame.max()) <= 2 * 9 and float(per_frame[1:].min()) >= 9, per_frame


def test_a_static_camera_is_left_as_it_is() -> None:
    torch.manual_seed(1)
    still = _shaken([(0, 0)] * 6)[:, None].repeat(1, 3, 1, 1, 1)
    still = still + 0.05 * torch.randn_like(still)  # sensor noise, no shift
    still[:, :, 2:, 10:16, 10:16] = 3.0  # and an animal appearing
    assert torch.equal(clip_series(still, stabilise=True), clip_series(still))
    # An animal moving 3 px a frame over a still ground is the animal's motion, not the camera's.
    walking = _shaken([(0, 0)] * 6)[:, None].repeat(1, 3, 1, 1, 1)
    for t in range(6):
        walking[:, :, t, 15:27, 5 + 3 * t : 17 + 3 * t] = 4.0
    # A large bright animal pulls the estimate a little (0.19 px here), less than STATIC_PX,
    # so the clip counts as static and its series are untouched.
    assert camera_shifts(walking.mean(dim=1)).abs().max() < STATIC_PX
    assert torch.equal(clip_series(walking, stabilise=True), clip_series(walking))
    net = HybridNet(widths=(4, 8), stabilise=True, steps=True)
    pooled, steps = net.eval()(still)
    assert pooled.shape[1] == net.out_channels and steps.shape[2] == 6


# -- motion where the animal is: a clip and its source agree -------------------------------


def _noisy_scene(noise: float, scale: int, rng: np.random.Generator) -> np.ndarray:
    """(48, 96·scale, 128·scale, 3) uint8: a textured still ground with sensor noise of
    ``noise`` grey levels, and a dark 12 × 16 body (at scale 1) moving right 1.5 px a frame."""
    h, w = 96 * scale, 128 * scale
    yy, xx = np.mgrid[0:h, 0:w]
    ground = 150 + 30 * np.sin(xx / (7.0 * scale)) * np.cos(yy / (9.0 * scale))
    frames = []
    for t in range(48):
        f = ground + rng.normal(0, noise, size=(h, w)) if noise else ground.copy()
        x0 = int((20 + 1.5 * t) * scale)
        f[40 * scale : 52 * scale, x0 : x0 + 16 * scale] = 60
        frames.append(np.repeat(np.clip(f, 0, 255).astype(np.uint8)[..., None], 3, axis=2))
    return np.stack(frames)


def _as_model_sees(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) → a normalised (1, 3, T, 96, 128) clip, scaled as the pipeline
    scales (antialiased), with ImageNet's mean and std."""
    x = torch.from_numpy(frames).float().permute(0, 3, 1, 2)
    x = torch.nn.functional.interpolate(x, size=(96, 128), mode="bilinear", antialias=True)
    x = x.permute(1, 0, 2, 3)[None]
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1, 1)
    return (x - mean) / torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1, 1)


def _reencoded(frames: np.ndarray, path: Path) -> np.ndarray:
    """The frames through prepare's clip encoder (x264, CRF 20) and back."""
    h, w = frames.shape[1:3]
    with ClipEncoder(path, width=w, height=h, fps=30) as encoder:
        for frame in frames:
            encoder.write(frame)
    with VideoReader(path) as reader:
        return np.stack([f for _, f in reader.iter_frames(np.arange(len(frames)))])


@pytest.mark.parametrize(
    ("noise", "scale", "tol"), [(5.0, 2, 0.02), (10.0, 2, 0.02), (2.0, 2, 0.02), (5.0, 1, 0.08)]
)
def test_motion_is_the_same_in_a_clip_and_in_the_video_it_was_cut_from(
    tmp_path: Path, noise: float, scale: int, tol: float
) -> None:
    """x264 takes part of the sensor noise out of a clip, so the raw frame differences of a
    still ground are smaller in the training clip than in the video predict reads (1.06–3.2×
    here), and 3.5–21× those of the same scene without noise. Counted only where the animal
    is, the motion energy of the source is that of its clip and of the noise-free scene within
    ``tol``. At scale 2 (the model's 96 px from 192 px, as from prepare's 256 px) the scaling
    averages the noise well under the foreground threshold, and where the motion is agrees
    too; at scale 1 with σ = 5 grey levels, noise pixels past the threshold spread it."""
    rng = np.random.default_rng(int(noise * 10 + scale))
    source = _noisy_scene(noise, scale, rng)
    clip = _reencoded(source, tmp_path / "clip.mp4")
    clean = _noisy_scene(0.0, scale, rng)
    motion = [SERIES.index(k) for k in ("energy", "spread")]

    def stats(frames: np.ndarray, gate: bool) -> torch.Tensor:
        return clip_series(_as_model_sees(frames), gate_motion=gate)[0, motion].mean(dim=1)

    s, c, n = stats(source, True), stats(clip, True), stats(clean, True)
    for ratio in (s[0] / c[0], s[0] / n[0]):
        assert abs(float(ratio) - 1) < tol, (noise, scale, float(ratio))
    if scale == 2:
        assert abs(float(s[1] / n[1]) - 1) < tol, (noise, scale, float(s[1] / n[1]))
    ungated = float(stats(source, False)[0] / stats(clean, False)[0])
    assert ungated > 3, ungated  # without the gate the noise is most of the "motion"
    # The CNN branch gets the same gate: its motion channels are 0 off the animal.
    mask = motion_mask(_as_model_sees(source), 0.31)
    assert mask.shape == (1, 1, 48, 96, 128)
    assert 0 < float(mask.mean()) < 0.1


def test_zoom_views_a_small_animal_up_close_and_keeps_the_whole_frame_for_a_ranging_one() -> None:
    """``zoom_boxes``: the smallest box of the frame's shape holding ``keep`` of the foreground.
    A 6×6 animal in one corner: the half-frame box (24 × 32 of 48 × 64) around it. An animal
    that crosses the frame: no box under the whole frame holds 90 % of it. No foreground at all:
    the whole frame."""
    fg = torch.zeros(3, 8, 48, 64)
    fg[0, :, 3:9, 50:56] = 1.0
    for t in range(8):
        fg[1, t, 20:26, t * 8 : t * 8 + 6] = 1.0  # 0 → 61: the whole width
    boxes = zoom_boxes(fg, 0.9, 0.5).tolist()
    top, left, bh, bw = boxes[0]
    assert (bh, bw) == (24, 32) and top <= 3 and top + bh >= 9 and left <= 50 and left + bw >= 56
    assert boxes[1] == [0, 0, 48, 64] and boxes[2] == [0, 0, 48, 64]
    # A mid-sized range: the smallest scale that holds it, no larger.
    fg2 = torch.zeros(1, 2, 48, 64)
    fg2[0, 0, 10:14, 5:9] = fg2[0, 1, 10:14, 46:50] = 1.0  # 45 px: over 0.625 · 64, under 0.75 · 64
    assert zoom_boxes(fg2, 0.9, 0.5).tolist()[0][2:] == [round(0.75 * 48), round(0.75 * 64)]
    assert zoom_boxes(fg2, 0.9, 0.8).tolist()[0][2:] == [round(0.875 * 48), round(0.875 * 64)]


def test_the_zoomed_cnn_sees_the_animal_at_full_size_and_a_ranging_one_as_without_zoom() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 96, 128) * 0.05
    for t in range(8):
        x[0, :, t, 10:16, 100 + t : 106 + t] = 2.0  # stays in a corner
        x[1, :, t, 40:52, t * 16 : t * 16 + 12] = 2.0  # crosses the frame
    net = HybridNet(widths=(4, 8), steps=True, gate_motion=True, stats_pool=2, zoom=0.9).eval()
    plain = HybridNet(widths=(4, 8), steps=True, gate_motion=True).eval()
    pooled = torch.nn.functional.avg_pool3d(x, (1, 2, 2))
    seen: list[torch.Tensor] = []
    assert net.cnn is not None
    hook = net.cnn.register_forward_hook(lambda _m, args, _o: seen.append(args[0]))
    (out, steps), (ref, ref_steps) = net(x), plain(pooled)
    hook.remove()
    assert out.shape == ref.shape and steps.shape == ref_steps.shape
    n = len(SERIES) * len(POOLS)
    assert torch.allclose(out[:, -n:], ref[:, -n:])  # the statistics: as without the zoom
    assert seen[0].shape == (2, 3, 8, 48, 64)  # always the statistics' size
    g, _ = grey_frames(pooled, False)
    top, left, bh, bw = (zoom_boxes(foreground(g, 0.31), 0.9, 0.5)[0] * 2).tolist()
    assert (bh, bw) == (48, 64)  # half the frame, its own pixels: the animal at twice the size
    assert torch.equal(seen[0][0], x[0, ..., top : top + 48, left : left + 64])
    assert torch.allclose(seen[0][1], pooled[1])  # the whole frame, averaged as the statistics'
    for bad in (dict(zoom=0.0), dict(zoom=1.5), dict(zoom=0.9, crop=0.5)):
        with pytest.raises(ConfigError):
            HybridNet(widths=(4, 8), stats_pool=2, **bad)  # type: ignore[arg-type]
