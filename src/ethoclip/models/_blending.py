"""Mixup and CutMix across a training batch: ``data_preprocessor.blending`` as MMAction2 has it
(``MixupBlending``, ``CutmixBlending``, ``RandomBatchAugment``; MViT's configs use them).

Blending runs after normalisation, in training only. Class ids become one-hot rows first;
multi-label targets are blended as they are. The draws come from torch's (and, for the choice
of augment, numpy's) global generators, which the engine seeds per step, so a resumed run
blends exactly as an unbroken one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions.beta import Beta

from ..registry import MODELS, config_error


class _Blending:
    """Targets (B,) of class ids or (B, K) rows → (B, K) soft rows; inputs keep their shape,
    (B, V, C, H, W) or (B, V, C, T, H, W)."""

    def __init__(self, num_classes: int, alpha: float = 0.2) -> None:
        if not alpha > 0:
            raise config_error("alpha", f"must be positive (got {alpha})")
        self.num_classes = int(num_classes)
        # On the CPU whatever the default device (a model built on "meta" has no values).
        concentration = torch.tensor(float(alpha), device="cpu")
        self.beta = Beta(concentration, concentration, validate_args=False)

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if target.dim() == 1:
            target = F.one_hot(target.long(), self.num_classes)
        return self.blend(x, target.to(x.dtype))

    def blend(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class MixupBlending(_Blending):
    """Each sample becomes λ·itself + (1−λ)·another of the batch, its target likewise."""

    def blend(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lam = self.beta.sample()
        other = torch.randperm(x.shape[0])
        return lam * x + (1 - lam) * x[other], lam * target + (1 - lam) * target[other]


class CutmixBlending(_Blending):
    """A box of each sample (every frame, the same box) is pasted from another sample; targets
    mix by the share of the picture the box leaves."""

    def blend(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        other = torch.randperm(x.shape[0])
        lam = self.beta.sample()
        h, w = x.shape[-2], x.shape[-1]
        # A box of side √(1−λ) of the picture's, centred on a uniform point, clipped to it.
        cut = torch.sqrt(1.0 - lam)
        cut_w, cut_h = int(w * cut), int(h * cut)
        cx, cy = int(torch.randint(w, (1,))[0]), int(torch.randint(h, (1,))[0])
        x1, x2 = min(max(cx - cut_w // 2, 0), w), min(max(cx + cut_w // 2, 0), w)
        y1, y2 = min(max(cy - cut_h // 2, 0), h), min(max(cy + cut_h // 2, 0), h)
        x = x.clone()
        x[..., y1:y2, x1:x2] = x[other][..., y1:y2, x1:x2]
        kept = 1 - (x2 - x1) * (y2 - y1) / (w * h)
        return x, kept * target + (1 - kept) * target[other]


class RandomBatchAugment:
    """One of ``augments`` per batch, by ``probs`` (None: evenly); probabilities summing to
    less than 1 leave the rest of the batches unblended."""

    def __init__(
        self,
        augments: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        probs: float | Sequence[float] | None = None,
    ) -> None:
        configs = [augments] if isinstance(augments, Mapping) else list(augments)
        if not configs:
            raise config_error("augments", "needs at least one blending")
        self.augments: list[_Blending | None] = [
            _build(cfg, f"augments.{i}") for i, cfg in enumerate(configs)
        ]
        self.probs: list[float] | None = None
        if probs is not None:
            chances = [float(probs)] if isinstance(probs, (int, float)) else list(map(float, probs))
            if len(chances) != len(configs):
                raise config_error(
                    "probs", f"gives {len(chances)} probabilities for {len(configs)} augments"
                )
            if sum(chances) > 1 + 1e-9 or min(chances) < 0:
                raise config_error("probs", f"must be ≥ 0 and sum to at most 1 (got {chances})")
            self.augments.append(None)
            self.probs = [*chances, max(0.0, 1 - sum(chances))]

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        choice = self.augments[int(np.random.choice(len(self.augments), p=self.probs))]
        if choice is None:
            first = next(a for a in self.augments if a is not None)
            return x, (F.one_hot(target.long(), first.num_classes) if target.dim() == 1 else target)
        return choice(x, target)


Blending = _Blending | RandomBatchAugment


def _build(cfg: Mapping[str, Any], key: str) -> _Blending:
    built = MODELS.build(cfg, key=key)
    if not isinstance(built, _Blending):
        raise config_error(f"{key}.type", "must be MixupBlending or CutmixBlending")
    return built


def build_blending(cfg: Mapping[str, Any] | None) -> Blending | None:
    if cfg is None:
        return None
    built = MODELS.build(cfg, key="blending")
    if not isinstance(built, (_Blending, RandomBatchAugment)):
        raise config_error(
            "blending.type", "must be MixupBlending, CutmixBlending or RandomBatchAugment"
        )
    return built
