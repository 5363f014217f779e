"""``StepHead``: the clip's classes and, per sampled frame, which of them is on.

Clip labels say a behaviour is somewhere in 4 s; a bout's edges then blur to the window's
stride, and a behaviour shorter than half a window is reported window-wide even by a perfect
clip classifier (docs/benchmarks.md, "Bouts"). ``prepare`` knows exactly where each segment is
inside each clip (``ClipRecord.segments``), so this head is also taught per step: a small
temporal convolution over the backbone's per-step features (with the clip's pooled features
beside every step, for context) gives (T, K) logits, trained with the clip loss on the
frame-level targets. Prediction stitches those per-step scores over the windows of a video.

The clip logits are ``I3DHead``'s (pool, dropout, linear over the pooled features), trained on
the clip labels beside the per-step loss. The clip's scores are by default the mean of its
per-step probabilities (``clip_score='steps'``): ``prepare`` labels a clip with a behaviour
that covers half of it, and that mean is the model's estimate of the share covered (on the
behaviour zoo it ranked validation clips better than the clip logits on 4 projects of 4; see
docs/benchmarks.md). The backbone must give ``(pooled, steps)``: ``HybridNet(steps=True)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...dataset._options import PlanOptions
from ...registry import config_error
from .._heads import BaseHead

CLIP_SCORES = ("steps", "rule", "clip")


class StepHead(BaseHead):
    """``step_channels``: the backbone's per-step features (filled in from the backbone);
    ``hidden``/``kernel_size``: the temporal convolutions (two; the second dilated, so a
    step sees ``3 · (kernel_size − 1) + 1`` frames); ``step_loss_weight``: the per-step
    loss beside the clip loss (0: clip loss only); ``step_pos_weight``: whether the per-step
    loss weighs positives by the clip loss's ``pos_weight`` too (off: plain BCE, rarity left to
    the per-step thresholds chosen on validation); ``from_clip``: each step's logits start from
    the clip's (the step network then says where in the clip, not what). Both defaults were
    measured on the behaviour zoo: off/on found 17 and on/on 22 bouts where on/off found 30
    (docs/benchmarks.md, "Per-step supervision"). ``clip_score``: what the clip's scores
    (validation, ``test``, top-k, the clip thresholds) are: ``'steps'``, the mean of its
    per-step probabilities (the share of the clip the behaviour is on, half of how
    ``prepare`` labels clips), ``'rule'``, prepare's whole labelling rule read off the steps
    (``clip_from_steps``; ``min_overlap``: the share of a clip a behaviour must cover, by
    default prepare's default: set it to the ``--min-overlap`` the clips were prepared
    with), or ``'clip'``, the clip logits' probabilities. The clip logits are trained either
    way (their loss shapes the shared features)."""

    dense = True

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        step_channels: int | None = None,
        hidden: int = 64,
        kernel_size: int = 5,
        step_loss_weight: float = 1.0,
        step_pos_weight: bool = True,
        from_clip: bool = False,
        clip_score: str = "steps",
        min_overlap: float | None = None,
        dropout_ratio: float = 0.2,
        init_std: float = 0.01,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
        if not self.multi_label:
            raise config_error(
                "loss_cls",
                "StepHead is multi-label (a frame may show several behaviours or "
                "none): use BCELossWithLogits",
            )
        if not isinstance(step_channels, int) or step_channels < 1:
            raise config_error(
                "step_channels",
                f"must be a whole number ≥ 1 (got {step_channels!r}); leave it "
                "out to take it from the backbone (HybridNet with steps=True)",
            )
        if not (isinstance(kernel_size, int) and kernel_size >= 1 and kernel_size % 2):
            raise config_error("kernel_size", f"must be an odd whole number (got {kernel_size!r})")
        if not step_loss_weight >= 0:
            raise config_error("step_loss_weight", f"must be ≥ 0 (got {step_loss_weight!r})")
        self.step_channels, self.step_loss_weight = step_channels, step_loss_weight
        self.step_pos_weight, self.from_clip = bool(step_pos_weight), bool(from_clip)
        if clip_score not in CLIP_SCORES:
            raise config_error(
                "clip_score",
                f"must be one of {', '.join(map(repr, CLIP_SCORES))} (got {clip_score!r})",
            )
        if min_overlap is None:
            min_overlap = PlanOptions().min_overlap
        if not 0 < min_overlap <= 1:
            raise config_error("min_overlap", f"must be in (0, 1] (got {min_overlap!r})")
        self.clip_score, self.min_overlap = clip_score, float(min_overlap)
        pad = kernel_size // 2
        self.step_net = nn.Sequential(
            nn.Conv1d(step_channels + in_channels, hidden, kernel_size, padding=pad, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv1d(hidden, hidden, kernel_size, padding=2 * pad, dilation=2, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity(),
            nn.Conv1d(hidden, num_classes, 1),
        )

    @staticmethod
    def _parts(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not (isinstance(x, (tuple, list)) and len(x) == 2):
            raise config_error(
                "cls_head", "StepHead needs (pooled, steps) features: use HybridNet(steps=True)"
            )
        return x[0], x[1]

    def forward(self, x: Any, num_segs: int = 1) -> torch.Tensor:
        """The clip's logits (B, K), as ``I3DHead`` gives them."""
        pooled, _ = self._parts(x)
        return self.fc_cls(self.dropout(self.pool(pooled, num_segs)))

    def forward_steps(self, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Clip logits (B, K) and per-step logits (B, T, K)."""
        pooled, steps = self._parts(x)
        p = self.pool(pooled, 1)
        clip = self.fc_cls(self.dropout(p))
        s = steps.reshape(steps.shape[0], steps.shape[1], -1)  # (B, C, T[, 1, 1]) → (B, C, T)
        context = p[:, :, None].expand(-1, -1, s.shape[2])
        steps_out = self.step_net(torch.cat([s, context], dim=1)).transpose(1, 2)
        if self.from_clip:
            steps_out = steps_out + clip[:, None, :]
        return clip, steps_out

    def clip_from_steps(self, steps: torch.Tensor) -> torch.Tensor:
        """Per-step probabilities (N, V, T, K) → the clips' scores (N, K), averaged over views.

        ``'steps'``: the share of the clip each behaviour is on (the mean over steps).
        ``'rule'``: prepare's labelling rule (``dataset.label_window``) read off the steps: a
        clip has a behaviour that covers ``min_overlap`` of it, or a bout shorter than that
        wholly inside it. So the score is the larger of the share covered over
        ``min_overlap`` (capped at 1) and the chance of a bout that starts and ends inside
        the clip: for each step, the chance it is on while the run of on-steps through it
        reaches neither the first step nor the last (the products of the probabilities
        before it and after it; steps taken as independent), at its most likely step. With
        0/1 steps this is ``label_window`` exactly (tests/test_steps.py). The mean alone ranks
        a clip cut through a 1.4 s bout (unlabelled) above one holding a whole 1.2 s bout
        (labelled), and the sharper the steps, the more often.
        """
        share = steps.mean(dim=2)
        if self.clip_score == "steps":
            return share.mean(dim=1)
        covered = (share / self.min_overlap).clamp(max=1.0)
        ones = torch.ones_like(steps[:, :, :1])
        # before[t] = p_0 · … · p_(t−1) and after[t] = p_(t+1) · … · p_(T−1): the run through
        # step t reaches the clip's first (last) step only if all of those are on too.
        before = torch.cat([ones, steps[:, :, :-1].cumprod(dim=2)], dim=2)
        after = torch.cat([steps.flip(2)[:, :, :-1].cumprod(dim=2), ones], dim=2).flip(2)
        inside = (steps * (1 - before) * (1 - after)).amax(dim=2)
        return torch.maximum(covered, inside).mean(dim=1)

    def step_loss(self, step_logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy over every step of (B, T, K) logits and targets (with the clip
        loss's ``pos_weight`` only if ``step_pos_weight``), times ``step_loss_weight``."""
        k = step_logits.shape[-1]
        logits, target = step_logits.reshape(-1, k), target.reshape(-1, k).to(step_logits)
        if self.step_pos_weight:
            loss = self.loss_cls(logits, target)
        else:
            loss = nn.functional.binary_cross_entropy_with_logits(logits, target)
            loss = loss * getattr(self.loss_cls, "loss_weight", 1.0)
        return self.step_loss_weight * loss
