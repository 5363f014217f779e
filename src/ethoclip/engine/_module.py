"""The training step, the validation step, the optimizer and the schedule, top to bottom
(Lightning runs the loops; ``_callbacks`` says one epoch's order)."""

from __future__ import annotations

import random
import time
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
import torch.distributed as dist

from ..config._runtime_keys import STEP_METRIC
from ..errors import EthoclipError
from ..evaluation import (
    best_f1_thresholds,
    class_evidence,
    mean_average_precision,
    step_thresholds,
)
from ..inference._loader import gather_scores
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
        self._outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self._steps: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    # -- every step draws from a seed of its own (dropout, stochastic depth): a resumed run trains
    # exactly as an unbroken one, whatever else touched the random state in between (Lightning
    # sets up loaders at different moments in a fresh process than between epochs).
    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        seed = (self.settings.seed * 1_000_003 + self.global_step) % 2**63
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)

    def on_train_epoch_start(self) -> None:
        # MMEngine validates after epoch e ≥ val_begin with e % val_interval == 0, and after the
        # last; Lightning asks check_val_every_n_epoch, so it is set per epoch.
        epoch = self.current_epoch + 1
        validates = self.settings.train_loop.validates_after(epoch)
        self.trainer.check_val_every_n_epoch = 1 if validates else epoch + 1
        self._epoch_started = time.perf_counter()

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        frames = batch.get("frame_label")  # per-step targets, where the data has them
        steps = (frames, batch["frame_known"]) if frames is not None and self.model.dense else ()
        loss = self.model.loss(batch["inputs"], batch["label"], *steps)
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

    def on_train_epoch_end(self) -> None:
        sync_buffers(self.model)
        self.meta["epoch"] = self.current_epoch + 1
        seconds = time.perf_counter() - self._epoch_started
        self.log("train/epoch_seconds", seconds, on_epoch=True, rank_zero_only=True)
        self.log("train/epoch_lr", self.trainer.optimizers[0].param_groups[0]["lr"], on_epoch=True)

    # -- validation: every process scores its share; metrics come from all of them together.
    def on_validation_epoch_start(self) -> None:
        sync_buffers(self.model)  # MMEngine's SyncBuffersHook: one model on every process
        self._outputs, self._steps = [], []

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        dtype = torch.bfloat16 if self.device.type == "cpu" else torch.float16
        with torch.autocast(self.device.type, dtype=dtype, enabled=self.settings.val_fp16):
            scores, steps = self.model.step_scores(batch["inputs"])
        self._outputs.append((batch["index"].cpu(), scores.float().cpu(), batch["label"].cpu()))
        frames = batch.get("frame_label")
        if steps is not None and frames is not None and frames.shape == steps.shape:
            known = batch["frame_known"].cpu()
            self._steps.append(
                (
                    batch["index"].cpu()[known],
                    steps.float().cpu()[known].flatten(1),
                    frames.cpu()[known].flatten(1),
                )
            )

    def on_validation_epoch_end(self) -> None:
        if not self._outputs:
            return
        columns = (torch.cat(column) for column in zip(*self._outputs, strict=True))
        _, scores, targets = gather_scores(*columns)
        self._outputs = []
        multi = self.model.multi_label
        metrics = self.settings.evaluator.compute(scores, targets, multi_label=multi)
        if multi:
            thresholds = best_f1_thresholds(scores, targets)
            self.meta["thresholds"] = thresholds
            self.meta["class_evidence"] = class_evidence(
                scores, targets, thresholds, self.meta["classes"]
            )
        metrics.update(self._step_metrics(scores.shape[1]))
        epoch = self.current_epoch + 1
        self.meta["metrics"] = {"epoch": epoch, **metrics}
        for key, value in metrics.items():  # the same on every process: no reduction
            self.log(f"val/{key}", value, sync_dist=False)

    def _step_metrics(self, num_classes: int) -> dict[str, float]:
        """A dense model's per-step validation: the mAP of its frame scores against the
        segments' frames, and the per-step thresholds ``predict`` finds bouts with."""
        steps, self._steps = self._steps, []
        if not steps:
            self.meta.pop("step_thresholds", None)
            return {}
        columns = (torch.cat(column) for column in zip(*steps, strict=True))
        _, scores, targets = gather_scores(*columns)
        scores, targets = scores.reshape(-1, num_classes), targets.reshape(-1, num_classes)
        self.meta["step_thresholds"] = step_thresholds(scores, targets)
        return {STEP_METRIC: mean_average_precision(scores, targets)}

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
        for key in ("thresholds", "step_thresholds", "class_evidence", "metrics", "best"):
            if key in saved:
                self.meta[key] = saved[key]


def sync_buffers(model: torch.nn.Module) -> None:
    """Average floating buffers (BatchNorm statistics) over processes."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    for buffer in model.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
            buffer.div_(dist.get_world_size())
