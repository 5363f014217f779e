"""RandomErasing against MMAction2 1.2.0's own class (its source from the wheel, run with
numpy): same seed, same erased box and the same pixels, in every mode."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from numbers import Number

import numpy as np
import pytest

from ethoclip.errors import ConfigError
from ethoclip.registry import TRANSFORMS

from .mma_source import load


def mmaction2_random_erasing() -> type:
    return load(
        "mmaction/datasets/transforms/processing.py",
        ("RandomErasing",),
        cache_randomness=lambda method: method,  # mmcv's: caches draws for inversion only
        Number=Number,
        Sequence=Sequence,
    )["RandomErasing"]


SETTINGS = [
    {"erase_prob": 0.25, "mode": "rand"},  # MViT's
    {"erase_prob": 0.8},
    {"erase_prob": 1.0, "mode": "rand", "fill_std": 20.0, "fill_color": (100, 50, 200)},
    {"erase_prob": 1.0, "min_area_ratio": 0.3, "max_area_ratio": 0.9, "aspect_range": 0.5},
    {"erase_prob": 1.0, "fill_color": 123.67, "aspect_range": (0.2, 5.0)},
]


@pytest.mark.parametrize("kwargs", SETTINGS, ids=str)
def test_random_erasing_equals_mmaction2s(kwargs: dict) -> None:
    theirs_cls = mmaction2_random_erasing()
    rng = np.random.RandomState(1)
    for seed, (height, width) in itertools.product(range(15), [(24, 32), (17, 9), (5, 40)]):
        frames = rng.randint(0, 256, (3, height, width, 3)).astype(np.uint8)
        np.random.seed(seed)
        theirs = theirs_cls(**kwargs)({"imgs": list(frames.copy())})["imgs"]
        np.random.seed(seed)
        ours = TRANSFORMS.build({"type": "RandomErasing", **kwargs})({"imgs": frames.copy()})
        assert np.array_equal(ours["imgs"], np.stack(theirs)), (seed, height, width)


def test_random_erasing_refuses_what_it_cannot_use() -> None:
    with pytest.raises(ConfigError, match=r"^fill_std: is for mode='rand'"):
        TRANSFORMS.build({"type": "RandomErasing", "fill_std": 3.0})
    with pytest.raises(ConfigError, match=r"^mode: must be 'const' or 'rand'"):
        TRANSFORMS.build({"type": "RandomErasing", "mode": "zero"})
    with pytest.raises(ConfigError, match=r"^erase_prob: must be a number in \[0, 1\]"):
        TRANSFORMS.build({"type": "RandomErasing", "erase_prob": 2})
