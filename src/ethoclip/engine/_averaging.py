"""``custom_hooks=[dict(type='EMAHook', …)]`` on Lightning's ``WeightAveraging`` callback.

Lightning's callback keeps the averaged copy (torch's ``AveragedModel``), swaps it in for
validation, writes it as the checkpoint's ``state_dict`` (the trained weights beside it, as
``current_model_state``, so a resumed run goes on from both) and leaves it in the model when
training ends. What this module adds is MMEngine's rule for when and how the average moves
(``_hooks.EMAHook``): an update after every iteration rather than every optimizer step, the
``begin_iter``/``begin_epoch`` start, ``interval``, the three averaging formulas, and
BatchNorm statistics copied rather than averaged unless ``update_buffers``.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import WeightAveraging

from ._hooks import EMAHook


def _average_fn(hook: EMAHook) -> Any:
    """``AveragedModel``'s ``avg_fn(averaged, new, n_averaged)`` for ``hook.ema_type``. The
    average has been updated ``n`` times, so MMEngine's step count (iterations since the start,
    ``interval`` apart) is ``n · interval``."""

    def average(averaged: torch.Tensor, new: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        if not averaged.dtype.is_floating_point:
            return averaged  # MMEngine leaves counters (num_batches_tracked) as first copied
        if hook.ema_type == "StochasticWeightAverage":
            return averaged + (new - averaged) / (n.to(averaged.dtype) + 1)
        momentum = hook.momentum
        if hook.ema_type == "MomentumAnnealingEMA":
            steps = float(n) * hook.interval
            momentum = max(momentum, hook.gamma / (hook.gamma + steps))
        return torch.lerp(averaged, new, momentum)

    return average


class ModelAveraging(WeightAveraging):
    """``EMAHook``'s average, kept by Lightning's callback."""

    def __init__(self, hook: EMAHook) -> None:
        super().__init__(use_buffers=hook.update_buffers, avg_fn=_average_fn(hook))
        self.hook = hook
        self.iteration = 0  # batches trained so far: MMEngine's runner.iter
        self.since_start = 0  # iterations since the average started: MMEngine's steps

    def _started(self, trainer: pl.Trainer) -> bool:
        # MMEngine's EMAHook._ema_started, with its 0-based epoch and iteration.
        if self.hook.begin_epoch > 0:
            return trainer.current_epoch + 1 >= self.hook.begin_epoch
        return self.iteration + 1 >= self.hook.begin_iter

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any
    ) -> None:
        average = self._average_model
        assert average is not None
        if not self._started(trainer):
            # Until it starts the average is the model as it is (MMEngine copies it over).
            average.module.load_state_dict(pl_module.state_dict())
        else:
            if self.since_start % self.hook.interval == 0:
                average.update_parameters(pl_module)
            self.since_start += 1
            if not self.hook.update_buffers:
                # torch's AveragedModel copies them only when it averages (every interval-th
                # iteration); MMEngine after every iteration.
                for mine, theirs in zip(average.module.buffers(), pl_module.buffers(), strict=True):
                    mine.detach().copy_(theirs.detach())
        self.iteration += 1

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Nothing: the average moves after iterations only (the parent may also update it
        after epochs)."""

    def state_dict(self) -> dict[str, Any]:
        return {"iteration": self.iteration, "since_start": self.since_start}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.iteration = int(state_dict["iteration"])
        self.since_start = int(state_dict["since_start"])
