"""MMEngine's parameter schedulers (``param_scheduler=[dict(type='MultiStepLR', …)]``) as
closed-form LR factors, stepped every iteration.

Each scheduler acts on ``[begin, end)`` of its unit (epochs with ``by_epoch=True``, else
iterations); ``convert_to_iter_based=True`` turns an epoch schedule into a per-iteration one.
By-epoch schedules change the LR at epoch boundaries only. Before ``begin`` a scheduler
leaves the LR alone; after ``end`` it holds its last value. The LR is the optimizer's LR times
the product of every scheduler's factor, which is what MMEngine's chained updates give for the
usual sequences (warm-up, then decay).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..registry import config_error

INF_END = 10**12


@dataclass
class Window:
    begin: float
    end: float
    by_epoch: bool
    convert_to_iter_based: bool

    def position(self, iteration: int, iters_per_epoch: int) -> tuple[float, float, float]:
        """(steps since begin, window length, unit) in this scheduler's unit, clipped."""
        if self.by_epoch and not self.convert_to_iter_based:
            now = iteration // iters_per_epoch  # by-epoch: constant within an epoch
            begin, end = self.begin, self.end
        elif self.by_epoch:
            now, begin, end = iteration, self.begin * iters_per_epoch, self.end * iters_per_epoch
        else:
            now, begin, end = iteration, self.begin, self.end
        return min(max(now - begin, 0), end - begin), end - begin, 1.0

    def active(self, iteration: int, iters_per_epoch: int) -> bool:
        now = (
            iteration // iters_per_epoch
            if self.by_epoch and not self.convert_to_iter_based
            else iteration
        )
        begin = self.begin * (
            iters_per_epoch if self.by_epoch and self.convert_to_iter_based else 1
        )
        return now >= begin


class ParamScheduler:
    """Base: a factor of the base LR at a given iteration."""

    def __init__(
        self,
        begin: int = 0,
        end: int = INF_END,
        by_epoch: bool = True,
        convert_to_iter_based: bool = False,
        last_step: int = -1,
        verbose: bool = False,
    ) -> None:
        if end <= begin:
            raise config_error("end", f"must be after begin ({begin}), got {end}")
        if convert_to_iter_based and not by_epoch:
            raise config_error("convert_to_iter_based", "needs by_epoch=True")
        self.window = Window(begin, end, by_epoch, convert_to_iter_based)

    def _scale(self, value: float, iters_per_epoch: int) -> float:
        """A length in the scheduler's unit, converted when the schedule runs per iteration."""
        w = self.window
        return value * iters_per_epoch if w.by_epoch and w.convert_to_iter_based else value

    def factor(self, iteration: int, iters_per_epoch: int) -> float:
        if not self.window.active(iteration, iters_per_epoch):
            return 1.0
        step, length, _ = self.window.position(iteration, iters_per_epoch)
        return self._factor(step, length, iters_per_epoch)

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        raise NotImplementedError


class MultiStepLR(ParamScheduler):
    """× ``gamma`` at each milestone (counted from ``begin``)."""

    def __init__(self, milestones: Sequence[int], gamma: float = 0.1, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.milestones, self.gamma = sorted(milestones), gamma

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        passed = sum(1 for m in self.milestones if step >= self._scale(m, iters_per_epoch))
        return float(self.gamma**passed)


class StepLR(ParamScheduler):
    """× ``gamma`` every ``step_size``."""

    def __init__(self, step_size: int, gamma: float = 0.1, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.step_size, self.gamma = step_size, gamma

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        return float(self.gamma ** (step // self._scale(self.step_size, iters_per_epoch)))


class ExponentialLR(ParamScheduler):
    def __init__(self, gamma: float, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.gamma = gamma

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        return float(self.gamma**step)


class LinearLR(ParamScheduler):
    """Warm-up: from ``start_factor`` to ``end_factor`` linearly over the window."""

    def __init__(
        self, start_factor: float = 1.0 / 3, end_factor: float = 1.0, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise config_error(
                "start_factor",
                f"and end_factor must be in (0, 1] (got {start_factor}, {end_factor})",
            )
        self.start, self.end = start_factor, end_factor

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        return self.start + (self.end - self.start) * min(step, length) / length


class ConstantLR(ParamScheduler):
    """× ``factor`` inside the window, 1 after it."""

    def __init__(self, factor: float = 1.0 / 3, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.constant = factor

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        return self.constant if step < length else 1.0


class CosineAnnealingLR(ParamScheduler):
    """Cosine from the LR to ``eta_min`` (or ``eta_min_ratio`` × LR) over ``T_max``."""

    def __init__(
        self,
        T_max: int | None = None,
        eta_min: float | None = None,
        eta_min_ratio: float | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        if eta_min is not None and eta_min_ratio is not None:
            raise config_error("eta_min", "give eta_min or eta_min_ratio, not both")
        self.t_max, self.eta_min, self.eta_min_ratio = T_max, eta_min, eta_min_ratio
        self.base_lr = 1.0  # set by the builder: eta_min is an LR, factors are relative

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        t_max = self._scale(self.t_max, iters_per_epoch) if self.t_max else length
        floor = (
            self.eta_min_ratio
            if self.eta_min_ratio is not None
            else (self.eta_min or 0.0) / self.base_lr
        )
        return floor + (1 - floor) * (1 + math.cos(math.pi * min(step, t_max) / t_max)) / 2


class PolyLR(ParamScheduler):
    def __init__(self, eta_min: float = 0.0, power: float = 1.0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.eta_min, self.power = eta_min, power
        self.base_lr = 1.0

    def _factor(self, step: float, length: float, iters_per_epoch: int) -> float:
        floor = self.eta_min / self.base_lr
        return floor + (1 - floor) * (1 - min(step, length) / length) ** self.power


class CombinedSchedule:
    """Picklable LR lambda: the product of every scheduler's factor at a global iteration."""

    def __init__(self, schedulers: Sequence[ParamScheduler], iters_per_epoch: int) -> None:
        self.schedulers = list(schedulers)
        self.iters_per_epoch = max(1, iters_per_epoch)

    def __call__(self, iteration: int) -> float:
        value = 1.0
        for scheduler in self.schedulers:
            value *= scheduler.factor(iteration, self.iters_per_epoch)
        return value


def lr_at(
    schedulers: Sequence[ParamScheduler], base_lr: float, iteration: int, iters_per_epoch: int
) -> float:
    return base_lr * CombinedSchedule(schedulers, iters_per_epoch)(iteration)


def lambda_scheduler(
    optimizer: torch.optim.Optimizer, schedulers: Sequence[ParamScheduler], iters_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    for scheduler in schedulers:
        if hasattr(scheduler, "base_lr"):
            scheduler.base_lr = optimizer.param_groups[0]["lr"]
    combined = CombinedSchedule(schedulers, iters_per_epoch)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda iteration: combined(iteration))
