"""Crops, flips and ColorJitter against MMAction2 1.2.0 run for real (the oracle venv,
tests/oracle/scripts/mmadata.py): the same random state in, the same boxes and pixels out."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ethoclip.data._color import ColorJitter, rgb_to_hsv
from ethoclip.registry import TRANSFORMS

CROPS: list[tuple[str, dict[str, Any], tuple[int, int]]] = [
    ("center", {"type": "CenterCrop", "crop_size": 32}, (48, 64)),
    ("center_wh", {"type": "CenterCrop", "crop_size": (40, 24)}, (48, 63)),
    ("three_h", {"type": "ThreeCrop", "crop_size": 48}, (48, 64)),
    ("three_w", {"type": "ThreeCrop", "crop_size": 40}, (57, 40)),
    ("ten", {"type": "TenCrop", "crop_size": 32}, (48, 66)),
    ("rrc", {"type": "RandomResizedCrop"}, (48, 64)),
    ("rrc_narrow", {"type": "RandomResizedCrop", "area_range": (0.5, 0.6)}, (30, 80)),
    (
        "msc",
        {
            "type": "MultiScaleCrop",
            "input_size": 32,
            "scales": (1, 0.875, 0.75, 0.66),
            "random_crop": False,
            "max_wh_scale_gap": 1,
        },
        (48, 64),
    ),
    (
        "msc13",
        {
            "type": "MultiScaleCrop",
            "input_size": (40, 30),
            "scales": (1, 0.8),
            "num_fixed_crops": 13,
        },
        (48, 64),
    ),
    (
        "msc_random",
        {"type": "MultiScaleCrop", "input_size": 24, "scales": (1, 0.5), "random_crop": True},
        (40, 64),
    ),
    ("random_crop", {"type": "RandomCrop", "size": 24}, (40, 64)),
    ("flip", {"type": "Flip", "flip_ratio": 0.5}, (8, 12)),
    ("flip_v", {"type": "Flip", "flip_ratio": 0.5, "direction": "vertical"}, (8, 12)),
]
SEEDS = range(12)
# (name, ColorJitter arguments, order of the four, injected brightness, contrast, sat., hue)
JITTER: list[tuple[str, dict[str, Any], list[int], tuple[float, float, float, float]]] = [
    ("bright", {}, [0, 1, 2, 3], (1.3, 1.0, 1.0, 0.0)),
    ("contrast", {}, [1, 0, 2, 3], (1.0, 0.6, 1.0, 0.0)),
    ("saturation", {}, [2, 1, 0, 3], (1.0, 1.0, 1.4, 0.0)),
    ("bcs", {}, [3, 2, 1, 0], (0.8, 1.3, 0.7, 0.0)),
    ("hue_small", {}, [3, 0, 1, 2], (1.0, 1.0, 1.0, 0.03)),
    ("hue_after", {}, [0, 1, 2, 3], (1.2, 0.9, 1.1, 0.05)),
    ("hue_large", {"hue": 0.5}, [3, 0, 1, 2], (1.0, 1.0, 1.0, 0.4)),
    ("hue_negative", {}, [3, 0, 1, 2], (1.0, 1.0, 1.0, -0.05)),
]


def frames(height: int, width: int, count: int = 2) -> np.ndarray:
    """The oracle script's input frames (it saves them; the test checks they agree)."""
    rng = np.random.RandomState(height * 1000 + width)
    return rng.randint(0, 256, (count, height, width, 3)).astype(np.uint8)


# (type, arguments, total_frames, seed): the samplers as installed in MMAction2's venv.
SAMPLING: list[tuple[str, dict[str, Any], int, int]] = [
    (kind, {"clip_len": clip_len, "num_clips": clips, "test_mode": test, **extra}, total, seed)
    for seed, (kind, extra) in enumerate(
        [
            ("SampleFrames", {"frame_interval": 2}),
            ("SampleFrames", {"frame_interval": 1, "twice_sample": True}),
            ("UniformSample", {}),
            ("DenseSampleFrames", {"frame_interval": 2, "num_sample_positions": 3}),
        ]
    )
    for clip_len in (1, 8)
    for clips in (1, 3)
    for test in (False, True)
    for total in (5, 40, 301)
    if not (kind == "UniformSample" and clips > 1 and not test)
    and not (extra.get("twice_sample") and test and clip_len > 1 and clips == 1)
]
# (list file text, RawframeDataset arguments)
RAWFRAMES: list[tuple[str, dict[str, Any]]] = [
    ("a 10 1\nsub/b 7 0\n", {}),
    ("a 3 12 2\nb 0 5 1\n", {"with_offset": True}),
    ("a 10 1 3\nb 7 0\n", {"multi_class": True, "num_classes": 4}),
]


@pytest.fixture(scope="module")
def oracle(mmaction2_oracle: Any) -> Path:
    params = {
        "crops": CROPS,
        "jitter": JITTER,
        "seeds": len(SEEDS),
        "sampling": SAMPLING,
        "rawframes": RAWFRAMES,
    }
    out = mmaction2_oracle("mmadata", params)
    for _, _, (height, width) in CROPS:
        assert np.array_equal(np.load(out / f"input-{height}-{width}.npy"), frames(height, width))
    assert np.array_equal(np.load(out / "input-16-20.npy"), frames(16, 20, 3))
    return out


@pytest.fixture(scope="module")
def cases(oracle: Path) -> dict[str, Any]:
    return json.loads((oracle / "cases.json").read_text())


@pytest.mark.parametrize("case", CROPS, ids=lambda c: c[0])
def test_crops_and_flips_equal_mmaction2s(
    case: tuple[str, dict[str, Any], tuple[int, int]], oracle: Path, cases: dict[str, Any]
) -> None:
    name, cfg, (height, width) = case
    for seed in SEEDS:
        key = f"{name}-{seed}"
        random.seed(seed)
        np.random.seed(seed)
        ours = TRANSFORMS.build(dict(cfg))({"imgs": frames(height, width)})
        theirs = np.load(oracle / f"{key}.npy")
        assert np.array_equal(ours["imgs"], theirs), key
        expected = cases[key]
        shape = ours.get("img_shape", ours["imgs"].shape[1:3])  # Flip leaves it as it was
        assert [int(v) for v in shape] == [int(v) for v in expected["img_shape"]], key
        if expected["flip"] is not None:
            assert ours["flip"] == expected["flip"], key
        if expected["crop_bbox"] is not None and "crop_bbox" in ours:
            boxes = np.asarray(expected["crop_bbox"]).reshape(-1, 4)
            # MMAction2 keeps one box per frame for ThreeCrop/TenCrop; ethoclip one per view.
            assert {tuple(b) for b in np.asarray(ours["crop_bbox"]).reshape(-1, 4).tolist()} == {
                tuple(b) for b in boxes.tolist()
            }, key


@pytest.mark.parametrize("case", JITTER, ids=lambda c: c[0])
def test_color_jitter_equals_mmaction2s(
    case: tuple[str, dict[str, Any], list[int], tuple[float, ...]],
    oracle: Path,
    cases: dict[str, Any],
) -> None:
    name, kwargs, order, factors = case
    jitter = ColorJitter(**kwargs)
    jitter.fn_idx = np.array(order)
    ours = np.stack([jitter.jitter(img, factors) for img in frames(16, 20, 3)])  # type: ignore[arg-type]
    error = cases[f"jitter-{name}"]["error"]
    if name == "hue_negative":
        # MMAction2 adds a negative shift to uint8 hues: numpy 2 refuses. ethoclip rotates the
        # hue circle, as the shift means: the same as a positive shift of 180 − 12 hue steps.
        assert error is not None and error.startswith("OverflowError")
        wrapped = ColorJitter()
        wrapped.fn_idx = np.array(order)
        other = (1.0, 1.0, 1.0, (180 - 12) / 255 + 1e-9)
        assert np.array_equal(ours, np.stack([wrapped.jitter(i, other) for i in frames(16, 20, 3)]))
        return
    assert error is None
    theirs = np.load(oracle / f"jitter-{name}.npy")
    if factors[3] == 0:
        assert np.array_equal(ours, theirs)
        return
    diff = np.abs(ours.astype(int) - theirs.astype(int)).max(axis=-1)
    if name == "hue_large":
        # MMAction2 adds the shift (102) to uint8 hues before taking them modulo 180: hues
        # above 153 wrap at 256 first. ethoclip rotates the circle; elsewhere they agree.
        hue = rgb_to_hsv(frames(16, 20, 3))[..., 0].astype(int)  # hue is the first step here
        wraps = hue + int(factors[3] * 255) >= 256
        assert diff[~wraps].max() <= 1 and diff[wraps].min() > 0
        return
    # Hue goes through OpenCV's 8-bit HSV, written here in numpy from OpenCV's definition:
    # equal but for a float rounding at the odd pixel.
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01, (diff.max(), (diff > 0).mean())


def test_decord_decode_takes_io_backend_where_mmaction2_fails(cases: dict[str, Any]) -> None:
    """tsm_…-1x1x16-50e_kinetics400 passes io_backend to DecordDecode; MMAction2 1.2.0 itself
    raises there. ethoclip accepts a local backend and refuses any other by name."""
    from ethoclip.errors import ConfigError

    assert "unexpected keyword argument 'io_backend'" in cases["decord_decode_io_backend"]["error"]
    TRANSFORMS.build({"type": "DecordDecode", "io_backend": "disk"})
    with pytest.raises(ConfigError, match=r"io_backend: 'petrel' \(remote storage"):
        TRANSFORMS.build({"type": "DecordDecode", "io_backend": "petrel"})


def test_samplers_equal_the_installed_mmaction2s(cases: dict[str, Any]) -> None:
    """The same samplers as tests/test_data_sampling.py compares with the wheel's source,
    here against MMAction2 as installed and imported in its own venv."""
    assert len(cases["sampling"]) == len(SAMPLING) == 87
    for (kind, kwargs, total, seed), theirs in zip(SAMPLING, cases["sampling"], strict=True):
        np.random.seed(seed)
        ours = TRANSFORMS.build({"type": kind, **kwargs})({"total_frames": total, "start_index": 0})
        assert ours["frame_inds"].tolist() == theirs, (kind, kwargs, total)


def test_rawframe_lists_read_as_mmaction2_reads_them(cases: dict[str, Any], tmp_path: Path) -> None:
    from ethoclip.data._rawframes import RawframeDataset

    for (text, kwargs), theirs in zip(RAWFRAMES, cases["rawframes"], strict=True):
        root = tmp_path / str(len(text))
        for line in text.splitlines():
            (root / "root" / line.split()[0]).mkdir(parents=True, exist_ok=True)
        (root / "list.txt").write_text(text)
        ours = RawframeDataset(
            str(root / "list.txt"), [], data_prefix={"img": str(root / "root")}, **kwargs
        )
        assert len(ours.samples) == len(theirs)
        for sample, info in zip(ours.samples, theirs, strict=True):
            assert str(sample.path) == str(root / info["frame_dir"])
            extra = dict(sample.info)
            assert extra["total_frames"] == info["total_frames"]
            assert extra["offset"] == info.get("offset", 0)
            label = info["label"]  # multi-class: MMAction2 hands out the one-hot vector
            ids = [i for i, v in enumerate(label) if v] if isinstance(label, list) else [label]
            assert list(sample.label_ids) == ids
