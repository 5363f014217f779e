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
