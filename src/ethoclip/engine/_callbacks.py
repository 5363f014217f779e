"""What happens at the end of each training epoch, in this order: validation (when MMEngine's
``val_begin``/``val_interval`` say so), checkpoints (``epoch_N``, ``last``, ``best_<metric>``),
the JSON log and the curves. Every process validates its share; metrics are computed from all
of them together, never from one shard.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader

from ..errors import ConfigError
from ..models import BaseRecognizer
from ._metrics import best_f1_thresholds, class_evidence
from ._module import RecognizerModule


@torch.no_grad()
def predict_loader(
    model: BaseRecognizer,
    loader: DataLoader[Any],
    device: torch.device,
    *,
    autocast: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices, scores, targets) over ``loader``; from every process when distributed.

    Scores are probabilities (sigmoid or softmax) averaged over a sample's views.
    """
    was_training = model.training
    model.eval()
    indices, scores, targets = [], [], []
    for batch in loader:
        with torch.autocast(device.type, dtype=autocast, enabled=autocast is not None):
            out = model.predict(batch["inputs"].to(device))
        if out.dim() == 3:  # average_clips=None: one row per view
            out = model.cls_head.probabilities(out).mean(1)
        elif model.cls_head.average_clips == "score":
            out = model.cls_head.probabilities(out)
        indices.append(batch["index"].cpu())
        scores.append(out.float().cpu())
        targets.append(batch["label"].cpu())
    model.train(was_training)
    index = torch.cat(indices) if indices else torch.zeros(0, dtype=torch.long)
    score = torch.cat(scores) if scores else torch.zeros(0, model.num_classes)
    target = torch.cat(targets) if targets else torch.zeros(0)
    if dist.is_available() and dist.is_initialized():
        gathered: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, (index, score, target))
        index = torch.cat([g[0] for g in gathered])
        score = torch.cat([g[1] for g in gathered])
        target = torch.cat([g[2] for g in gathered])
    order = torch.argsort(index)
    index, score, target = index[order], score[order], target[order]
    keep = torch.ones_like(index, dtype=torch.bool)
    keep[1:] = index[1:] != index[:-1]  # a sample two processes both saw counts once
    return index[keep], score[keep], target[keep]


def sync_buffers(model: torch.nn.Module) -> None:
    """MMEngine's SyncBuffersHook: average BatchNorm statistics over processes, so every
    process validates, and the checkpoint holds, one and the same model."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    for buffer in model.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
            buffer.div_(dist.get_world_size())


class EpochEnd(pl.Callback):
    """Validate, then save checkpoints, log and draw the curves (one callback: a fixed order)."""

    def __init__(self, val_loader: DataLoader[Any] | None, work_dir: Path, console: Any) -> None:
        self.val_loader = val_loader
        self.work_dir = work_dir
        self.console = console
        self.started = time.perf_counter()
        self.epoch_started = time.perf_counter()
        self.history: list[dict[str, Any]] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.epoch_started = time.perf_counter()

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        assert isinstance(module, RecognizerModule)
        interval = module.settings.logger.interval
        if trainer.is_global_zero and (trainer.global_step % interval == 0 or batch_idx == 0):
            loss = outputs["loss"] if isinstance(outputs, dict) else outputs
            self._log(
                {
                    "epoch": trainer.current_epoch + 1,
                    "iter": trainer.global_step,
                    "loss": float(loss),
                    "lr": trainer.optimizers[0].param_groups[0]["lr"],
                    "time": round(time.perf_counter() - self.started, 3),
                }
            )

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        assert isinstance(module, RecognizerModule)
        settings = module.settings
        epoch = trainer.current_epoch + 1
        sync_buffers(module.model)
        metrics: dict[str, float] = {}
        if self.val_loader is not None and settings.train_loop.validates_after(epoch):
            precision = str(trainer.precision)
            autocast = (
                torch.bfloat16
                if precision.startswith("bf16")
                else (torch.float16 if precision.startswith("16") else None)
            )
            _, scores, targets = predict_loader(
                module.model, self.val_loader, module.device, autocast=autocast
            )
            metrics = settings.evaluator.compute(
                scores, targets, multi_label=module.model.multi_label
            )
            if module.model.multi_label:
                thresholds = best_f1_thresholds(scores, targets)
                module.meta["thresholds"] = thresholds
                module.meta["class_evidence"] = class_evidence(
                    scores, targets, thresholds, module.meta["classes"]
                )
            module.meta["metrics"] = {"epoch": epoch, **metrics}
            for key, value in metrics.items():
                module.log(f"val/{key}", value, sync_dist=False, rank_zero_only=True)
        module.meta["epoch"] = epoch
        train_loss = trainer.callback_metrics.get("train/loss_epoch")
        record = {
            "epoch": epoch,
            "train_loss": float(train_loss) if train_loss is not None else None,
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            "val": metrics,
            "seconds": round(time.perf_counter() - self.epoch_started, 2),
        }
        self.history.append(record)
        self._save_checkpoints(trainer, module, epoch, metrics)
        if trainer.is_global_zero:
            self._log(record)
            self._summary(record, module, trainer)
            from ._plots import training_curves

            training_curves(self.work_dir / "log.jsonl", self.work_dir / "curves.png")

    # -- checkpoints ------------------------------------------------------------------------
    def _save(self, trainer: pl.Trainer, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        trainer.save_checkpoint(tmp)  # every process calls it; the first one writes
        if trainer.is_global_zero:
            os.replace(tmp, path)
        trainer.strategy.barrier()

    def _save_checkpoints(
        self, trainer: pl.Trainer, module: RecognizerModule, epoch: int, metrics: dict[str, float]
    ) -> None:
        hook = module.settings.checkpoint
        final = epoch == module.settings.train_loop.max_epochs
        if epoch % hook.interval == 0 or final:
            self._save(trainer, self.work_dir / f"epoch_{epoch}.ckpt")
            if trainer.is_global_zero and hook.max_keep_ckpts > 0:
                kept = sorted(
                    self.work_dir.glob("epoch_*.ckpt"), key=lambda p: int(p.stem.split("_")[1])
                )
                for old in kept[: -hook.max_keep_ckpts]:
                    old.unlink()
        if hook.save_best and metrics:
            name = next(iter(metrics)) if hook.save_best == "auto" else hook.save_best
            if name not in metrics:
                raise ConfigError(
                    f"default_hooks.checkpoint.save_best: {name!r} is not a validation metric "
                    f"({', '.join(metrics)})"
                )
            rule = hook.rule or ("less" if "loss" in name else "greater")
            value = metrics[name]
            best = module.meta.get("best")
            better = best is None or (
                value > best["value"] if rule == "greater" else value < best["value"]
            )
            if better:
                module.meta["best"] = {"metric": name, "value": value, "epoch": epoch}
                self._save(trainer, self.work_dir / f"best_{name.replace('/', '_')}.ckpt")
        if hook.save_last:
            self._save(trainer, self.work_dir / "last.ckpt")

    def on_exception(
        self, trainer: pl.Trainer, module: pl.LightningModule, exception: BaseException
    ) -> None:
        """Ctrl-C: keep what was learned so far in a checkpoint that resumes."""
        if isinstance(exception, KeyboardInterrupt):
            path = self.work_dir / "interrupted.ckpt"
            try:
                self._save(trainer, path)
            except Exception:  # an interrupt mid-save: the epoch checkpoints stay usable
                return
            if trainer.is_global_zero:
                self.console.print(f"interrupted: saved {path}; resume with --resume {path}")

    # -- logs -------------------------------------------------------------------------------
    def _log(self, record: dict[str, Any]) -> None:
        with open(self.work_dir / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def _summary(
        self, record: dict[str, Any], module: RecognizerModule, trainer: pl.Trainer
    ) -> None:
        total = module.settings.train_loop.max_epochs
        parts = [f"epoch {record['epoch']}/{total}"]
        if record["train_loss"] is not None:
            parts.append(f"loss {record['train_loss']:.4f}")
        parts.append(f"lr {record['lr']:.2e}")
        parts += [f"{k.split('/')[-1]} {v:.4f}" for k, v in record["val"].items()]
        best = module.meta.get("best")
        if best:
            parts.append(f"best {best['value']:.4f} @ epoch {best['epoch']}")
        parts.append(f"{record['seconds']:.1f} s")
        self.console.print(", ".join(parts))
