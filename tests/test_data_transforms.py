"""MMAction2's transforms: sizes, crops and layouts checked against numbers worked out by hand
from MMAction2's definitions (not by calling the code under test twice). Frame indices are
compared with MMAction2's own samplers in tests/test_data_sampling.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ethoclip.data import (
    CenterCrop,
    Compose,
    Flip,
    FormatShape,
    MultiScaleCrop,
    PackActionInputs,
    RandomCrop,
    RandomResizedCrop,
    Resize,
    SampleFrames,
    TenCrop,
    ThreeCrop,
    rescale_size,
    resize_frames,
)
from ethoclip.errors import ConfigError
from ethoclip.registry import building


def test_bad_sampling_arguments_name_their_key() -> None:
    with (
        building("train_dataloader.dataset.pipeline.1"),
        pytest.raises(
            ConfigError,
            match=r"^train_dataloader\.dataset\.pipeline\.1\.clip_len: must be a whole number ≥ 1",
        ),
    ):
        SampleFrames(clip_len=0)
    with (
        building("train_dataloader.dataset.pipeline"),
        pytest.raises(
            ConfigError,
            match=r"train_dataloader\.dataset\.pipeline\.0\.clip_lenn: SampleFrames takes no "
            r"argument 'clip_lenn'; did you mean 'clip_len'",
        ),
    ):
        Compose([{"type": "SampleFrames", "clip_lenn": 8}])
    with pytest.raises(ConfigError, match=r"'Decimate'; see 'ethoclip list transforms'"):
        Compose([{"type": "Decimate"}])


def frames(n: int = 2, h: int = 256, w: int = 342) -> dict:
    imgs = np.zeros((n, h, w, 3), np.uint8)
    imgs[:, :, :, 0] = np.arange(w, dtype=np.uint16)[None, None, :] % 256  # x in red
    imgs[:, :, :, 1] = np.arange(h, dtype=np.uint16)[None, :, None] % 256  # y in green
    return {"imgs": imgs}


def test_resize_frames_is_half_pixel_bilinear() -> None:
    """Hand-computed: halving averages 2×2 blocks; doubling [0, 200] gives [0, 50, 150, 200]
    (source x = (x' + 0.5) / 2 - 0.5, clamped at the edges, as cv2 and mmcv do)."""
    block = np.array([[0, 40, 100, 100], [80, 120, 100, 100], [0, 0, 10, 30], [0, 0, 50, 70]])
    imgs = np.repeat(block.astype(np.uint8)[None, :, :, None], 3, axis=3)
    halved = resize_frames(imgs, 2, 2)[0, :, :, 0].astype(int)
    assert np.abs(halved - [[60, 100], [0, 40]]).max() <= 1
    ramp = np.zeros((1, 1, 2, 3), np.uint8)
    ramp[0, 0, 1] = 200
    assert np.abs(resize_frames(ramp, 4, 1)[0, 0, :, 1].astype(int) - [0, 50, 150, 200]).max() <= 1
    # A crop is a strided view: resized as it is, without a copy first.
    big = np.zeros((1, 6, 8, 3), np.uint8)
    big[0, 1:5, 2:6] = imgs[0]
    assert np.array_equal(resize_frames(big[:, 1:5, 2:6], 2, 2), resize_frames(imgs, 2, 2))


def test_resize_follows_mmcv_rescale_size() -> None:
    assert rescale_size(342, 256, (np.inf, 128)) == (171, 128)  # 342 · 0.5 = 171
    assert rescale_size(342, 256, (400, 300)) == (400, 299)  # min(400/342, 300/256) · 256 = 299.4
    out = Resize((-1, 128))(frames())
    assert out["imgs"].shape == (2, 128, 171, 3) and out["img_shape"] == (128, 171)
    assert Resize((224, 224), keep_ratio=False)(frames())["imgs"].shape == (2, 224, 224, 3)
    assert Resize(0.5)(frames())["imgs"].shape == (2, 128, 171, 3)
    with pytest.raises(ConfigError, match="keep_ratio=False needs an exact"):
        Resize((-1, 256), keep_ratio=False)


def test_crops_take_the_places_mmaction2_defines() -> None:
    out = CenterCrop(224)(frames())
    assert out["crop_bbox"].tolist() == [59, 16, 283, 240]  # (342 − 224) // 2, (256 − 224) // 2
    assert out["imgs"][0, 0, 0, 0] == 59 and out["imgs"][0, 0, 0, 1] == 16
    three = ThreeCrop(256)(frames())  # height matches: steps along the width, 43 apart
    assert three["imgs"].shape == (6, 256, 256, 3)
    assert three["crop_bbox"][:, 0].tolist() == [0, 86, 43]
    ten = TenCrop(224)(frames(n=1))
    assert ten["imgs"].shape == (10, 224, 224, 3)
    assert ten["imgs"][0, 0, 0, 0] == 0 and ten["imgs"][1, 0, -1, 0] == 0  # the second is mirrored
    assert ten["imgs"][2, 0, 0, 0] == 4 * ((342 - 224) // 4)  # upper right: 4 steps of 29
    np.random.seed(1)
    for _ in range(20):
        rc = RandomCrop(112)(frames())
        left, top, right, bottom = rc["crop_bbox"].tolist()
        assert right - left == bottom - top == 112 and 0 <= left <= 230 and 0 <= top <= 144
        rr = RandomResizedCrop(area_range=(0.5, 1.0))(frames())
        h, w = rr["imgs"].shape[1:3]
        assert (
            0.5 * 342 * 256 * 0.98 <= h * w <= 342 * 256 and 3 / 4 * 0.95 <= w / h <= 4 / 3 * 1.05
        ) or (h, w) == (256, 256)
    msc = MultiScaleCrop(224, scales=(1, 0.875, 0.75, 0.66), random_crop=False, max_wh_scale_gap=1)
    import random as pyrandom

    pyrandom.seed(0)
    for _ in range(20):
        out = msc(frames())
        left, top, right, bottom = out["crop_bbox"].tolist()
        sizes = {256, 224, 192, 168}  # 256 × scale; within 3 of 224 → 224
        assert right - left in sizes and bottom - top in sizes
        w_step, h_step = (342 - (right - left)) // 4, (256 - (bottom - top)) // 4
        assert (left, top) in {
            (0, 0),
            (4 * w_step, 0),
            (0, 4 * h_step),
            (4 * w_step, 4 * h_step),
            (2 * w_step, 2 * h_step),
        }


def test_flip_mirrors_every_frame_or_none() -> None:
    assert Flip(flip_ratio=1.0)(frames())["imgs"][:, 0, 0, 0].tolist() == [341 % 256] * 2
    assert Flip(flip_ratio=0.0)(frames())["imgs"][:, 0, 0, 0].tolist() == [0, 0]


def test_format_shape_orders_views_as_mmaction2() -> None:
    # 2 crops × 3 clips × 4 frames, each frame filled with its (crop, clip, t) code.
    crops, clips, t = 2, 3, 4
    imgs = np.zeros((crops * clips * t, 2, 2, 3), np.uint8)
    for c in range(crops):
        for k in range(clips):
            for i in range(t):
                imgs[(c * clips + k) * t + i] = 100 * c + 10 * k + i
    out = FormatShape("NCTHW")({"imgs": imgs, "num_clips": clips, "clip_len": t})["imgs"]
    assert out.shape == (6, 3, 4, 2, 2)  # (crops·clips, C, T, H, W)
    assert out[:, 0, :, 0, 0].tolist() == [
        [100 * c + 10 * k + i for i in range(t)] for c in range(crops) for k in range(clips)
    ]
    assert FormatShape("NCHW")({"imgs": imgs})["imgs"].shape == (24, 3, 2, 2)
    packed = PackActionInputs()({"imgs": out, "label": torch.tensor([0.0, 1.0])})
    assert packed["inputs"].dtype == torch.uint8 and packed["label"].tolist() == [0.0, 1.0]
