"""Mixup, CutMix and RandomBatchAugment (``data_preprocessor.blending``) against MMAction2
1.2.0's own classes on the same batches and seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from ethoclip.models import build_recognizer
from ethoclip.registry import MODELS

CASES = {
    "mixup": {"type": "MixupBlending", "num_classes": 5, "alpha": 0.8},
    "cutmix": {"type": "CutmixBlending", "num_classes": 5, "alpha": 1.0},
    "random": {
        "type": "RandomBatchAugment",
        "augments": [
            {"type": "MixupBlending", "num_classes": 5, "alpha": 0.8},
            {"type": "CutmixBlending", "num_classes": 5, "alpha": 1.0},
        ],
        "probs": [0.5, 0.3],
    },
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("kind", ["ids", "multi"])
def test_blending_mixes_as_mmaction2_does(
    name: str, kind: str, mmaction2_oracle: Callable[[str], Path]
) -> None:
    art = mmaction2_oracle("blending")
    imgs = torch.from_numpy(np.load(art / "imgs.npy"))
    labels = torch.from_numpy(np.load(art / f"{kind}.npy"))
    blend = MODELS.build(CASES[name])
    for seed in range(6):
        torch.manual_seed(seed)
        np.random.seed(seed)
        mixed, target = blend(imgs.clone(), labels)
        want_imgs = np.load(art / f"{name}-{kind}-{seed}-imgs.npy")
        want_labels = np.load(art / f"{name}-{kind}-{seed}-labels.npy")
        assert np.allclose(mixed.numpy(), want_imgs, atol=1e-6), (name, kind, seed)
        assert np.allclose(target.numpy(), want_labels, atol=1e-6), (name, kind, seed)


def _tiny(blending: dict | None) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_recognizer(
        {
            "type": "Recognizer3D",
            "backbone": {"type": "TinyVideoNet", "widths": (4, 8)},
            "cls_head": {"type": "I3DHead", "num_classes": 5},
            "data_preprocessor": {
                "type": "ActionDataPreprocessor",
                "format_shape": "NCTHW",
                "blending": blending,
            },
        }
    )


def test_blending_acts_in_training_only() -> None:
    """MViT's configs set blending in the data preprocessor: the training loss is taken on the
    blended batch (soft targets), evaluation sees the batch untouched."""
    blended, plain = _tiny(CASES["mixup"]), _tiny(None)
    batch = torch.randint(0, 255, (4, 1, 3, 4, 16, 16), dtype=torch.uint8)
    ids = torch.tensor([0, 3, 1, 4])
    with torch.no_grad():  # eval first: a training forward moves the BN statistics
        assert torch.equal(blended.eval().logits(batch), plain.eval().logits(batch))
    losses = []
    for model in (blended, plain):
        torch.manual_seed(1)
        losses.append(model.train().loss(batch, ids))
    assert not torch.allclose(losses[0], losses[1])
