"""The training step, the optimizer and the schedule, top to bottom (Lightning runs the loop)."""

from __future__ import annotations

import random
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

from ..errors import EthoclipError
from ..models import BaseRecognizer
from ..registry import PARAM_SCHEDULERS
from ._experiment import Settings
from ._optim import build_optimizer
from ._schedulers import lambda_scheduler


class NonFiniteLossError(EthoclipError):
    """The loss became NaN or infinite: training stops, the last good checkpoint stays."""


class RecognizerModule(pl.LightningModule):
    def __init__(
        self, model: BaseRecognizer, settings: Settings, meta: dict[str, Any], batch_size: int
    ) -> None:
        super().__init__()
        self.model = model
        self.settings = settings
        self.meta = meta  # the checkpoint's "ethoclip" entry, kept current
        self.batch_size = batch_size
        self.notes: list[str] = []

    # -- every step draws from a seed of its own (dropout, stochastic depth): a resumed run trains
    # exactly as an unbroken one, whatever else touched the random state in between (Lightning
    # sets up loaders at different moments in a fresh process than between epochs).
    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        seed = (self.settings.seed * 1_000_003 + self.global_step) % 2**63
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss = self.model.loss(batch["inputs"], batch["label"])
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"the loss became {float(loss.detach())} at epoch {self.current_epoch + 1}, "
                f"iteration {self.global_step + 1}; training stopped and the last good checkpoint "
                "is kept: lower the learning rate, clip gradients (optim_wrapper.clip_grad) or "
                "check the data"
            )
        lr = self.trainer.optimizers[0].param_groups[0]["lr"]
        n = batch["inputs"].shape[0]
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=n)
        self.log("train/lr", lr, prog_bar=False, on_step=True, on_epoch=False, batch_size=n)
        return loss

    def configure_optimizers(self) -> Any:
        scale = 1.0
        if self.settings.lr_scale_base:
            scale = self.batch_size * self.trainer.world_size / self.settings.lr_scale_base
        optimizer, notes = build_optimizer(self.model, self.settings.optim, lr_scale=scale)
        self.notes += notes
        steps_per_epoch = max(
            1, int(self.trainer.estimated_stepping_batches) // max(1, self.trainer.max_epochs or 1)
        )
        schedulers: list[dict[str, Any]] = []
        if self.settings.schedulers:
            schedulers.append(
                {
                    "scheduler": lambda_scheduler(
                        optimizer, self.settings.schedulers, steps_per_epoch
                    ),
                    "interval": "step",
                    "name": "lr",
                }
            )
        for index, item in enumerate(self.settings.torch_schedulers):
            item = dict(item)
            interval = "epoch" if item.pop("by_epoch", True) else "step"
            built = PARAM_SCHEDULERS.build(
                item, default_args={"optimizer": optimizer}, key=f"param_scheduler.{index}"
            )
            schedulers.append({"scheduler": built, "interval": interval})
        return (
            {"optimizer": optimizer, "lr_scheduler": schedulers[0]}
            if len(schedulers) == 1
            else (
                [optimizer],
                schedulers,
            )
        )

    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        clip = self.settings.optim.clip_grad
        if clip:
            params = [
                p for group in optimizer.param_groups for p in group["params"] if p.grad is not None
            ]
            torch.nn.utils.clip_grad_norm_(
                params, float(clip["max_norm"]), float(clip.get("norm_type", 2))
            )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["ethoclip"] = self.meta

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get("ethoclip", {})
        for key in ("thresholds", "class_evidence", "metrics", "best"):
            if key in saved:
                self.meta[key] = saved[key]
