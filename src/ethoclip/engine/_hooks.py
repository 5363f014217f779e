"""``default_hooks``: MMEngine's hooks, as settings the trainer reads.

``CheckpointHook``, ``LoggerHook`` and ``EmptyCacheHook`` change what happens; the others name
what every run does anyway (scheduler steps, sampler seeding, buffer sync …). What ``train``
does with each argument (acts, ignores, refuses) is ``config/_runtime_keys.py``'s table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..registry import config_error


@dataclass
class CheckpointHook:
    """Save ``epoch_N`` every ``interval`` epochs (keeping the newest ``max_keep_ckpts``; -1 all),
    ``last`` always, and ``best_<metric>`` when ``save_best`` names a metric (``'auto'``: the
    first validation metric) by ``rule`` (greater/less; by default greater for accuracy-like
    names and less for losses)."""

    interval: int = 1
    by_epoch: bool = True
    save_last: bool = True
    max_keep_ckpts: int = -1
    save_best: str | Sequence[str] | None = None
    rule: str | None = None
    out_dir: str | None = None
    save_optimizer: bool = True
    save_param_scheduler: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.interval, int) or self.interval < 1:
            raise config_error("interval", f"must be a whole number ≥ 1 (got {self.interval!r})")
        if (
            not isinstance(self.max_keep_ckpts, int)
            or self.max_keep_ckpts == 0
            or self.max_keep_ckpts < -1
        ):
            raise config_error(
                "max_keep_ckpts", f"must be -1 (all) or ≥ 1 (got {self.max_keep_ckpts!r})"
            )
        if self.rule not in (None, "greater", "less"):
            raise config_error("rule", f"must be 'greater' or 'less' (got {self.rule!r})")
        if not isinstance(self.save_best, str | type(None)):
            if len(self.save_best) != 1:
                raise config_error("save_best", "one metric at a time")
            self.save_best = self.save_best[0]


@dataclass
class LoggerHook:
    """Log the loss and LR every ``interval`` iterations (console, JSON lines, TensorBoard)."""

    interval: int = 10
    ignore_last: bool = True
    log_metric_by_epoch: bool = True
    out_dir: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.interval, int) or self.interval < 1:
            raise config_error("interval", f"must be a whole number ≥ 1 (got {self.interval!r})")


@dataclass
class EveryRunHook:
    """What every run does anyway, in Lightning's loop; no arguments."""


RuntimeInfoHook = IterTimerHook = ParamSchedulerHook = EveryRunHook
DistSamplerSeedHook = SyncBuffersHook = EveryRunHook


@dataclass
class EmptyCacheHook:
    before_epoch: bool = False
    after_epoch: bool = True
    after_iter: bool = False


# MMEngine's averaged models (mmengine/model/averaged_model.py), by the name EMAHook's
# ``ema_type`` gives them.
EMA_TYPES = ("ExponentialMovingAverage", "MomentumAnnealingEMA", "StochasticWeightAverage")


@dataclass
class EMAHook:
    """A running average of the weights, MMEngine's ``EMAHook``: validation, checkpoints'
    ``state_dict`` (what ``test`` and ``predict`` load) and the model after training are the
    average; the trained weights stay in the checkpoint for resuming.

    As MMEngine's: from the first iteration that has started (``begin_iter``, or ``begin_epoch``,
    both counted as MMEngine counts them), the average is updated after every iteration,
    gradient accumulation's too: the first update copies the weights, and every
    ``interval``-th after it moves the average ``momentum`` of the way to them
    (``ExponentialMovingAverage``; ``MomentumAnnealingEMA``: by max(momentum, gamma / (gamma +
    iterations)); ``StochasticWeightAverage``: the plain mean). Before it starts the average is
    the weights. ``update_buffers=False``: BatchNorm's statistics are the model's own, copied
    at every update; ``True``: averaged too."""

    ema_type: str = "ExponentialMovingAverage"
    momentum: float = 0.0002
    gamma: float = 100
    interval: int = 1
    update_buffers: bool = False
    begin_iter: int = 0
    begin_epoch: int = 0
    strict_load: bool = False

    def __post_init__(self) -> None:
        if self.ema_type not in EMA_TYPES:
            raise config_error(
                "ema_type", f"must be one of {', '.join(EMA_TYPES)} (got {self.ema_type!r})"
            )
        if not 0 < self.momentum < 1:
            raise config_error("momentum", f"must be in (0, 1) (got {self.momentum!r})")
        if not self.gamma > 0:
            raise config_error("gamma", f"must be > 0 (got {self.gamma!r})")
        for name in ("interval", "begin_iter", "begin_epoch"):
            value = getattr(self, name)
            least = 1 if name == "interval" else 0
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise config_error(name, f"must be a whole number ≥ {least} (got {value!r})")
        if self.begin_iter and self.begin_epoch:
            raise config_error("begin_iter", "and begin_epoch are both set; set one")
