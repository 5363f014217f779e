"""Lightning's callbacks and loggers on MMEngine's terms.

One epoch, in Lightning's order: the training batches (``training_step``); then, when MMEngine's
``val_begin``/``val_interval`` say so, the validation loop (``validation_step`` on each process's
share, metrics from all of them together in ``on_validation_epoch_end``); then
``on_train_epoch_end``: the epoch's record in ``log.jsonl`` and on the console (``EpochLog``, a
Lightning logger), the best checkpoint, the periodic one and ``last.ckpt`` (``EpochCheckpoint``,
a ``ModelCheckpoint``), and last the in-memory state the next epoch starts from (``EpochStart``),
which becomes ``interrupted.ckpt`` if training is stopped in the middle of that epoch.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only

from ..errors import ConfigError


class EpochCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` with MMEngine's habits: epochs count from 1 in file names
    (``epoch_3.ckpt`` holds the state after the third epoch), a checkpoint is written at the
    end of each epoch ``due(epoch)`` names, and every file is written whole (temporary name,
    then renamed)."""

    def __init__(self, due: Callable[[int], bool], **kwargs: Any) -> None:
        super().__init__(
            auto_insert_metric_name=False,
            enable_version_counter=False,
            save_on_train_epoch_end=True,
            **kwargs,
        )
        self.due = due

    @property
    def state_key(self) -> str:
        # Lightning keys a callback's saved state by its monitor, which BestCheckpoint learns
        # only at the first validation: a fixed key lets a resumed run find its state.
        return f"{type(self).__name__}{{'filename': {self.filename!r}}}"

    def _monitor_candidates(self, trainer: pl.Trainer) -> dict[str, torch.Tensor]:
        found = super()._monitor_candidates(trainer)
        found["epoch"] = torch.tensor(trainer.current_epoch + 1)
        return found

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._should_skip_saving_checkpoint(trainer):
            return
        candidates = self._monitor_candidates(trainer)
        if self.due(trainer.current_epoch + 1):
            self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        path = Path(filepath)
        tmp = path.with_name(f".{path.name}.tmp")
        super()._save_checkpoint(trainer, str(tmp))  # every process calls it; the first writes
        if trainer.is_global_zero:
            os.replace(tmp, path)
        self._last_checkpoint_saved = filepath
        trainer.strategy.barrier()


class BestCheckpoint(EpochCheckpoint):
    """``best_<metric>.ckpt``: MMEngine's ``save_best`` (``'auto'``: the first validation
    metric, known once validation has run) by its ``rule``."""

    def __init__(self, save_best: str, rule: str | None, due: Callable[[int], bool], **kw: Any):
        rule = rule or ("less" if "loss" in save_best else "greater")
        super().__init__(due, mode="max" if rule == "greater" else "min", save_top_k=1, **kw)
        self.save_best = save_best

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch, meta = trainer.current_epoch + 1, getattr(pl_module, "meta", {})
        metrics = meta.get("metrics") or {}
        if not self.due(epoch) or metrics.get("epoch") != epoch:
            return
        name = next(k for k in metrics if k != "epoch") if self.save_best == "auto" else None
        name = name or self.save_best
        if name not in metrics:
            known = ", ".join(k for k in metrics if k != "epoch")
            raise ConfigError(
                f"default_hooks.checkpoint.save_best: {name!r} is not a validation metric "
                f"({known}); use one of them or 'auto'"
            )
        self.monitor = f"val/{name}"
        self.filename = f"best_{name.replace('/', '_')}"  # only then the name of the file
        if self.check_monitor_top_k(trainer, torch.tensor(metrics[name])):  # Lightning's rule
            meta["best"] = {"metric": name, "value": metrics[name], "epoch": epoch}
        super().on_train_epoch_end(trainer, pl_module)

    @property
    def state_key(self) -> str:
        return f"{type(self).__name__}{{'save_best': {self.save_best!r}}}"


class EpochStart(Checkpoint):
    """The state the current epoch started from, held in memory (serialised, on the CPU).

    Lightning resumes a checkpoint taken in the middle of an epoch by restarting that epoch's
    loader from its first batch, with the weights of the middle: not the run it would have
    been. ``interrupted.ckpt`` is instead this state, so resuming from it repeats the
    interrupted epoch exactly. It runs after the other checkpoint callbacks (Lightning calls
    ``Checkpoint`` callbacks last, in list order), so it holds their state too.
    """

    def __init__(self) -> None:
        self.state: bytes | None = None

    def _take(self, trainer: pl.Trainer) -> None:
        if trainer.is_global_zero:
            buffer = io.BytesIO()
            # What trainer.save_checkpoint writes, without the file.
            torch.save(trainer._checkpoint_connector.dump_checkpoint(), buffer)
            self.state = buffer.getvalue()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._take(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._take(trainer)

    def write(self, path: Path) -> bool:
        if self.state is not None:  # whole or not at all (the next run removes a .tmp)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(self.state)
            os.replace(tmp, path)
        return self.state is not None


class EmptyCache(pl.Callback):
    """MMEngine's ``EmptyCacheHook``: release CUDA's cached blocks (a no-op without CUDA)."""

    def __init__(self, hook: Any) -> None:
        self.when = {"epoch_start": hook.before_epoch, "epoch_end": hook.after_epoch}
        self.when["iter"] = hook.after_iter

    def _empty(self, when: str) -> None:
        if self.when[when]:
            torch.cuda.empty_cache()

    def on_train_epoch_start(self, *args: Any) -> None:
        self._empty("epoch_start")

    def on_train_epoch_end(self, *args: Any) -> None:
        self._empty("epoch_end")

    def on_train_batch_end(self, *args: Any) -> None:
        self._empty("iter")


class EpochLog(Logger):
    """``log.jsonl`` (one record per logged iteration and one per epoch), the epoch's line on
    the console and ``curves.png``, from what the module logs (``train/*``, ``val/*``)."""

    def __init__(
        self, work_dir: Path, console: Any, max_epochs: int, best: Callable[[], Any]
    ) -> None:
        super().__init__()
        self.work_dir, self.console = work_dir, console
        self.max_epochs, self.best = max_epochs, best
        self.started = time.perf_counter()
        self.val: dict[str, float] = {}

    name, version = "log.jsonl", ""

    def log_hyperparams(self, *args: Any, **kwargs: Any) -> None:  # config.py holds them
        pass

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        epoch = int(metrics.get("epoch", 0)) + 1
        if "train/loss_step" in metrics:
            loss, lr = metrics["train/loss_step"], metrics["train/lr"]
            seconds = round(time.perf_counter() - self.started, 3)
            self._write({"epoch": epoch, "iter": step, "loss": loss, "lr": lr, "time": seconds})
        self.val.update({k[4:]: v for k, v in metrics.items() if k.startswith("val/")})
        if "train/epoch_seconds" in metrics:  # the epoch's end: validation came before it
            record: dict[str, Any] = {"epoch": epoch, "train_loss": metrics.get("train/loss_epoch")}
            record.update(
                lr=metrics["train/epoch_lr"],
                val=self.val,
                seconds=round(metrics["train/epoch_seconds"], 2),
            )
            self.val = {}
            self._write(record)
            self._summary(record)
            from ._plots import training_curves

            training_curves(self.work_dir / "log.jsonl", self.work_dir / "curves.png")

    def _write(self, record: dict[str, Any]) -> None:
        with open(self.work_dir / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def _summary(self, record: dict[str, Any]) -> None:
        parts = [f"epoch {record['epoch']}/{self.max_epochs}"]
        if record["train_loss"] is not None:
            parts.append(f"loss {record['train_loss']:.4f}")
        parts.append(f"lr {record['lr']:.2e}")
        parts += [f"{k.split('/')[-1]} {v:.4f}" for k, v in record["val"].items()]
        best = self.best()
        if best:
            parts.append(f"best {best['value']:.4f} @ epoch {best['epoch']}")
        parts.append(f"{record['seconds']:.1f} s")
        self.console.print(", ".join(parts))
