"""PytorchVideoWrapper(op='RandAugment'): pytorchvideo 0.1.5's definition on torchvision ops.

pytorchvideo is not installed anywhere here (not in MMAction2's oracle venv either, whose
wrapper then raises "Install pytorchvideo"), so the numbers below are worked out from its
source: the level → argument maps, which ops run, and each op equal to the torchvision call
pytorchvideo makes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as F

from ethoclip.data._randaugment import OPS, RandAugment
from ethoclip.errors import ConfigError
from ethoclip.registry import TRANSFORMS


def test_levels_map_to_pytorchvideos_arguments() -> None:
    level = {name: fn for name, (_, fn) in OPS.items()}
    assert level["AdjustBrightness"](7, False) == pytest.approx(1.63)  # 1 + 7/10 · 0.9
    assert level["AdjustContrast"](7, True) == pytest.approx(0.37)
    assert level["Rotate"](7, True) == pytest.approx(-21.0)  # 7/10 · 30, negated
    assert level["ShearX"](5, False) == pytest.approx(0.15)
    assert level["TranslateY"](10, True) == pytest.approx(-0.45)
    assert level["Posterize"](7, False) == 2  # 4 − int(2.8)
    assert level["Solarize"](7, False) == pytest.approx(0.3)
    assert level["AutoContrast"] is None and level["Equalize"] is None
    assert len(OPS) == 14


def clip() -> torch.Tensor:
    rng = np.random.RandomState(3)
    return torch.from_numpy(rng.randint(0, 256, (3, 3, 16, 20)).astype(np.uint8))


def test_ops_are_the_torchvision_calls_pytorchvideo_makes() -> None:
    video = clip()
    assert torch.equal(OPS["AdjustSharpness"][0](video, 1.4), F.adjust_sharpness(video, 1.4))
    assert torch.equal(OPS["Posterize"][0](video, 8), video)  # 8 bits: unchanged
    rotated = OPS["Rotate"][0](video, 90.0)
    # Rotation fills with pytorchvideo's 0.5, which is 0 in uint8 frames.
    assert torch.equal(
        rotated,
        F.rotate(video, 90.0, interpolation=F.InterpolationMode.BILINEAR, fill=[0.0] * 3),
    )
    # Translate by 0.25 of the width: (x, y) takes the pixel at (x + 5, y); the last 5 are fill.
    moved = OPS["TranslateX"][0](video, 0.25)
    assert torch.equal(moved[..., :15], video[..., 5:]) and int(moved[..., 15:].max()) == 0
    # Solarize's threshold 1 − m/10 is below 1 on uint8 frames: every pixel above 0 inverts.
    assert torch.equal(OPS["Solarize"][0](video, 0.3), torch.where(video >= 1, 255 - video, video))


def test_randaugment_applies_num_layers_ops_the_same_to_every_frame() -> None:
    video = clip()
    same = video[:1].expand(3, -1, -1, -1).contiguous()  # three equal frames
    for seed in range(20):
        out = RandAugment(magnitude=7, num_layers=4)(same, torch.Generator().manual_seed(seed))
        assert out.dtype == torch.uint8 and out.shape == same.shape
        assert torch.equal(out[0], out[1]) and torch.equal(out[0], out[2])  # one draw per clip
    nothing = RandAugment(magnitude=7, num_layers=4, prob=0.0)
    assert torch.equal(nothing(video, torch.Generator().manual_seed(0)), video)
    changed = sum(
        not torch.equal(RandAugment(9, 2, prob=1.0)(video, torch.Generator().manual_seed(s)), video)
        for s in range(10)
    )
    assert changed >= 9  # two ops at magnitude ~9: hardly ever the identity


def test_wrapper_in_a_pipeline_is_seeded_by_the_sample() -> None:
    wrapper = TRANSFORMS.build(
        {"type": "PytorchVideoWrapper", "op": "RandAugment", "magnitude": 7, "num_layers": 4}
    )
    frames = clip().permute(0, 2, 3, 1).numpy()  # (T, H, W, C) as the pipeline carries them
    np.random.seed(5)
    first = wrapper({"imgs": frames.copy()})["imgs"]
    np.random.seed(5)
    again = wrapper({"imgs": frames.copy()})["imgs"]
    assert first.dtype == np.uint8 and first.shape == frames.shape
    assert np.array_equal(first, again)
    with pytest.raises(ConfigError, match=r"^num_layers: must be 1 to 14"):
        TRANSFORMS.build({"type": "PytorchVideoWrapper", "op": "RandAugment", "num_layers": 15})
    with pytest.raises(ConfigError, match=r"^sampling_type: must be 'gaussian' or 'uniform'"):
        TRANSFORMS.build(
            {"type": "PytorchVideoWrapper", "op": "RandAugment", "sampling_type": "beta"}
        )
