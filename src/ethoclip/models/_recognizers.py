"""Recognizers: backbone + cls_head + data_preprocessor, as MMAction2 builds them.

Inputs are a batch of uint8 samples, (N, V, C, H, W) for 2D models (V frames: segments × crops)
or (N, V, C, T, H, W) for 3D ones (V views: clips × crops). ``logits`` gives (N, V, K);
``loss`` averages a sample's views; ``predict`` applies the head's ``average_clips``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..registry import MODELS, config_error
from ._heads import BaseHead
from .backbones.external import External, build_external, is_external


class BaseRecognizer(nn.Module):
    format_shape = ""
    input_dims = 0

    def __init__(
        self,
        backbone: Mapping[str, Any],
        cls_head: Mapping[str, Any],
        data_preprocessor: Mapping[str, Any] | None = None,
        neck: Any = None,
        train_cfg: Mapping[str, Any] | None = None,
        test_cfg: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        # max_testing_views (MMAction2's CSN configs): views go through in chunks at test time;
        # fcn_test (TPN's configs) is what ethoclip's neck heads compute anyway.
        self.max_testing_views = (test_cfg or {}).get("max_testing_views")
        allowed = {"train_cfg": set(), "test_cfg": {"max_testing_views"}}
        if neck is not None:
            allowed["test_cfg"].add("fcn_test")
        for name, value in (("train_cfg", train_cfg), ("test_cfg", test_cfg)):
            if set(value or {}) - allowed[name]:
                raise config_error(
                    name, "is not used by ethoclip's recognizers: set average_clips on cls_head"
                )
        self.external: External | None = None
        if is_external(backbone):
            self.backbone: Any
            self.backbone, self.external, features = build_external(backbone)
        else:
            self.backbone = MODELS.build(backbone, key="backbone")
            features = int(self.backbone.out_channels)
        self.neck: Any = None
        if neck is not None:
            self.neck = MODELS.build(neck, key="neck")
            features = int(self.neck.output_channels)
        head = dict(cls_head)
        if head.get("in_channels") is None:
            head["in_channels"] = features  # the notes' rule "in_channels = the backbone's dims"
        elif head["in_channels"] != features:
            raise config_error(
                "cls_head.in_channels",
                f"is {head['in_channels']} but the {'neck' if neck else 'backbone'} gives "
                f"{features} features; set it to {features} or leave it out",
            )
        # A backbone that keeps time (HybridNet(steps=True)) goes with a head that uses it.
        step_channels = int(getattr(self.backbone, "step_channels", 0) or 0)
        if head.get("type") == "StepHead" and head.get("step_channels") is None and step_channels:
            head["step_channels"] = step_channels
        self.cls_head: BaseHead = MODELS.build(head, key="cls_head")
        if bool(step_channels) != self.dense:
            raise config_error(
                "cls_head",
                f"{type(self.cls_head).__name__} and a backbone "
                f"{'with' if step_channels else 'without'} per-step features do not go together:"
                " per-step training is HybridNet(steps=True) with cls_head StepHead",
            )
        self.data_preprocessor = MODELS.build(
            data_preprocessor
            or {"type": "ActionDataPreprocessor", "format_shape": self.format_shape},
            key="data_preprocessor",
        )
        if self.data_preprocessor.format_shape != self.format_shape:
            raise config_error(
                "data_preprocessor.format_shape",
                f"is {self.data_preprocessor.format_shape} but {type(self).__name__} takes "
                f"{self.format_shape}",
            )

    @property
    def num_classes(self) -> int:
        return self.cls_head.num_classes

    @property
    def multi_label(self) -> bool:
        return self.cls_head.multi_label

    @property
    def dense(self) -> bool:
        """Whether the model also scores every sampled frame (``StepHead``)."""
        return bool(getattr(self.cls_head, "dense", False))

    def _check(self, inputs: torch.Tensor) -> None:
        if inputs.dim() != self.input_dims:
            raise ValueError(
                f"{type(self).__name__} takes {self.input_dims}-d batches "
                f"(N, views, {', '.join(self.format_shape[1:])}), got shape {tuple(inputs.shape)}: "
                f"the pipeline's FormatShape must be {self.format_shape!r}"
            )

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """uint8 batch → logits (N, V, K), one row per view."""
        return self.run(inputs)[0]

    def run(
        self, inputs: torch.Tensor, with_aux: bool = False, normalised: bool = False
    ) -> tuple[torch.Tensor, Any]:
        """Logits (N, V, K) and, with ``with_aux``, the neck's auxiliary logits (or None).
        ``normalised``: the batch went through the data preprocessor already."""
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.logits(inputs)

    def run_steps(
        self, inputs: torch.Tensor, normalised: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A dense model's clip logits (N, V, K) and per-step logits (N, V, T, K)."""
        raise config_error("cls_head", f"{type(self).__name__} has no per-step scores")

    def loss(
        self,
        inputs: torch.Tensor,
        target: torch.Tensor,
        frame_target: torch.Tensor | None = None,
        frame_known: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The head's loss, plus the neck's weighted auxiliary loss (TPN) as MMAction2 adds it.
        With ``data_preprocessor.blending`` the normalised batch and its targets are mixed
        first (training only), as MMAction2's preprocessor does. A dense head with
        ``frame_target`` (N, T, K) adds its per-step loss over the samples ``frame_known``
        marks (all, if None)."""
        x = self.data_preprocessor(inputs)
        target = target.to(x.device)
        if self.dense and frame_target is not None:
            return self._dense_loss(x, target, frame_target, frame_known)
        if self.training and self.data_preprocessor.blending is not None:
            x, target = self.data_preprocessor.blending(x, target)
        logits, aux = self.run(x, with_aux=self.neck is not None, normalised=True)
        loss = self.cls_head.loss(logits.mean(1), target)
        if aux is not None:
            loss = loss + self.neck.aux_loss(aux, target, self.cls_head.loss_cls)
        return loss

    def _dense_loss(
        self,
        x: torch.Tensor,
        target: torch.Tensor,
        frame_target: torch.Tensor,
        frame_known: torch.Tensor | None,
    ) -> torch.Tensor:
        if self.training and self.data_preprocessor.blending is not None:
            raise config_error(
                "data_preprocessor.blending",
                "mixes clips but not their per-step targets: remove it, or train the clip "
                "loss only (cls_head.step_loss_weight=0)",
            )
        clip, steps = self.run_steps(x, normalised=True)
        loss = self.cls_head.loss(clip.mean(1), target)
        n, views, t, k = steps.shape
        frame_target = frame_target.to(x.device)
        if views != 1 or frame_target.shape[1:] != (t, k):
            raise config_error(
                "train_pipeline",
                f"per-step targets of shape {tuple(frame_target.shape[1:])} do not match the "
                f"model's {views} view(s) of {t} steps × {k} classes: sample one clip "
                "(SampleFrames num_clips=1) and no multi-crop",
            )
        known = (
            torch.ones(n, dtype=torch.bool, device=x.device)
            if frame_known is None
            else frame_known.to(x.device)
        )
        if known.any() and getattr(self.cls_head, "step_loss_weight", 0) > 0:
            loss = loss + self.cls_head.step_loss(steps[known, 0], frame_target[known])  # type: ignore[operator]
        return loss

    def step_scores(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """uint8 batch → clip probabilities (N, K) (``scores``) and, for a dense model scoring
        one view, per-step probabilities (N, T, K) (None otherwise: several views are several
        clips or crops, whose steps are not one timeline)."""
        if not self.dense:
            return self.scores(inputs), None
        clip, steps = self.run_steps(inputs)
        probabilities = self.cls_head.probabilities(steps)  # (N, V, T, K)
        per_step = probabilities[:, 0] if inputs.shape[1] == 1 else None
        return self._dense_clip_scores(clip, probabilities), per_step

    def _dense_clip_scores(self, clip: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """A dense head's clip scores by its ``clip_score`` rule: ``'steps'`` and ``'rule'``
        from the per-step scores (``StepHead.clip_from_steps``), averaged over views;
        ``'clip'``, the clip logits' probabilities (``I3DHead``'s)."""
        if getattr(self.cls_head, "clip_score", "clip") in ("steps", "rule"):
            scored: torch.Tensor = self.cls_head.clip_from_steps(steps)  # type: ignore[operator]
            return scored
        return self.cls_head.scores(clip)

    def predict(self, inputs: torch.Tensor) -> torch.Tensor:
        """Scores per sample: probabilities (sigmoid or softmax) with ``average_clips='prob'``."""
        return self.cls_head.average_views(self.logits(inputs))

    def scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """uint8 batch → probabilities (N, K) by the head's rule (``cls_head.scores``; a dense
        head's ``clip_score``)."""
        if self.dense:
            return self.step_scores(inputs)[0]
        return self.cls_head.scores(self.logits(inputs))


class Recognizer2D(BaseRecognizer):
    """A per-frame backbone and segment consensus (TSN)."""

    format_shape = "NCHW"
    input_dims = 5

    def run(
        self, inputs: torch.Tensor, with_aux: bool = False, normalised: bool = False
    ) -> tuple[torch.Tensor, Any]:
        self._check(inputs)
        n, segments = inputs.shape[:2]
        x = (inputs if normalised else self.data_preprocessor(inputs)).flatten(0, 1)
        feats = self.external.features(self.backbone, x) if self.external else self.backbone(x)
        aux = None
        if self.neck is not None:
            # Each stage → (N', C, segments, h, w), segments of the backbone's own count (views
            # beyond it are further clips/crops, as MMAction2's fcn_test has it).
            segs = int(getattr(self.backbone, "num_segments", segments))
            stages = feats if isinstance(feats, (tuple, list)) else (feats,)
            stages = [
                f.reshape(-1, segs, *f.shape[1:]).transpose(1, 2).contiguous() for f in stages
            ]
            feats, aux = self.neck(stages, with_aux=with_aux)
            segments = 1
        scores = self.cls_head(feats, num_segs=segments)
        return scores.view(n, -1, scores.shape[-1]), aux


class Recognizer3D(BaseRecognizer):
    """A clip backbone (3D CNN or video transformer); each view scored on its own."""

    format_shape = "NCTHW"
    input_dims = 6

    def run(
        self, inputs: torch.Tensor, with_aux: bool = False, normalised: bool = False
    ) -> tuple[torch.Tensor, Any]:
        self._check(inputs)
        n, views = inputs.shape[:2]
        x = (inputs if normalised else self.data_preprocessor(inputs)).flatten(0, 1)
        chunk = self.max_testing_views
        if chunk and not self.training and not with_aux and x.shape[0] > chunk:
            parts = [self._score_views(part, False)[0] for part in x.split(chunk)]
            return torch.cat(parts).view(n, views, -1), None
        scores, aux = self._score_views(x, with_aux)
        return scores.view(n, views, -1), aux

    def run_steps(
        self, inputs: torch.Tensor, normalised: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(inputs)
        n, views = inputs.shape[:2]
        x = (inputs if normalised else self.data_preprocessor(inputs)).flatten(0, 1)
        clip, steps = self.cls_head.forward_steps(self.backbone(x))  # type: ignore[operator]
        return clip.view(n, views, -1), steps.view(n, views, *steps.shape[1:])

    def _score_views(self, x: torch.Tensor, with_aux: bool) -> tuple[torch.Tensor, Any]:
        feats = self.backbone(x)
        aux = None
        if self.neck is not None:  # TPN on SlowOnly: the stages are (N·V, C, T, H, W) already
            stages = feats if isinstance(feats, (tuple, list)) else (feats,)
            feats, aux = self.neck(list(stages), with_aux=with_aux)
        return self.cls_head(feats), aux
