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
        if neck is not None:
            raise config_error("neck", "necks are not supported; leave it None")
        for name, value in (("train_cfg", train_cfg), ("test_cfg", test_cfg)):
            if value:
                raise config_error(
                    name, "is not used by ethoclip's recognizers: set average_clips on cls_head"
                )
        self.backbone = MODELS.build(backbone, key="backbone")
        features = int(self.backbone.out_channels)
        head = dict(cls_head)
        if head.get("in_channels") is None:
            head["in_channels"] = features  # the notes' rule "in_channels = the backbone's dims"
        elif head["in_channels"] != features:
            raise config_error(
                "cls_head.in_channels",
                f"is {head['in_channels']} but the backbone gives {features} features; set it to "
                f"{features} or leave it out",
            )
        self.cls_head: BaseHead = MODELS.build(head, key="cls_head")
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

    def _check(self, inputs: torch.Tensor) -> None:
        if inputs.dim() != self.input_dims:
            raise ValueError(
                f"{type(self).__name__} takes {self.input_dims}-d batches "
                f"(N, views, {', '.join(self.format_shape[1:])}), got shape {tuple(inputs.shape)}: "
                f"the pipeline's FormatShape must be {self.format_shape!r}"
            )

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """uint8 batch → logits (N, V, K), one row per view."""
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.logits(inputs)

    def loss(self, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.cls_head.loss(
            self.logits(inputs).mean(1), target.to(self.cls_head.fc_cls.weight.device)
        )

    def predict(self, inputs: torch.Tensor) -> torch.Tensor:
        """Scores per sample: probabilities (sigmoid or softmax) with ``average_clips='prob'``."""
        return self.cls_head.average_views(self.logits(inputs))

    def scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """uint8 batch → probabilities (N, K) by the head's rule (``cls_head.scores``)."""
        return self.cls_head.scores(self.logits(inputs))


class Recognizer2D(BaseRecognizer):
    """A per-frame backbone and segment consensus (TSN)."""

    format_shape = "NCHW"
    input_dims = 5

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        self._check(inputs)
        n, segments = inputs.shape[:2]
        x = self.data_preprocessor(inputs).flatten(0, 1)  # (N·segs, C, H, W)
        return self.cls_head(self.backbone(x), num_segs=segments).view(n, 1, -1)


class Recognizer3D(BaseRecognizer):
    """A clip backbone (3D CNN or video transformer); each view scored on its own."""

    format_shape = "NCTHW"
    input_dims = 6

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        self._check(inputs)
        n, views = inputs.shape[:2]
        x = self.data_preprocessor(inputs).flatten(0, 1)  # (N·V, C, T, H, W)
        return self.cls_head(self.backbone(x)).view(n, views, -1)
