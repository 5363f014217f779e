"""``ActionDataPreprocessor``: batches arrive as uint8; they become float and are normalised on
the device the model runs on (so the loader moves 4× fewer bytes)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..registry import config_error
from ._blending import build_blending


class ActionDataPreprocessor(nn.Module):
    mean: torch.Tensor | None
    std: torch.Tensor | None

    def __init__(
        self,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        format_shape: str = "NCHW",
        to_rgb: bool = False,
        to_float32: bool = True,
        blending: object = None,
    ) -> None:
        super().__init__()
        if format_shape not in ("NCHW", "NCTHW"):
            raise config_error("format_shape", f"must be 'NCHW' or 'NCTHW' (got {format_shape!r})")
        if to_rgb:
            raise config_error("to_rgb", "frames are decoded as RGB already; leave it False")
        if (mean is None) != (std is None):
            raise config_error("mean", "give both mean and std, or neither")
        self.format_shape = format_shape
        # Mixup/CutMix across the batch (training only); applied by the recognizer's loss,
        # which holds the targets.
        self.blending = build_blending(blending)  # type: ignore[arg-type]
        # Per channel, shaped to broadcast over (N, V, C, H, W) or (N, V, C, T, H, W).
        trailing = (1, 1) if format_shape == "NCHW" else (1, 1, 1)
        for name, values in (("mean", mean), ("std", std)):
            tensor = (
                torch.tensor(list(values), dtype=torch.float32).view(-1, *trailing)
                if values is not None
                else None
            )
            self.register_buffer(name, tensor, persistent=False)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """uint8 (N, V, C, [T,] H, W) → float, normalised, on this module's device."""
        device = self.mean.device if self.mean is not None else inputs.device
        x = inputs.to(device, non_blocking=True).float()
        if self.mean is not None and self.std is not None:
            x = (x - self.mean) / self.std
        return x
