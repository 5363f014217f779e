"""``train_cfg``/``val_cfg``/``test_cfg``: MMEngine's loop settings, read by the trainer."""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import config_error


@dataclass
class EpochBasedTrainLoop:
    """Train ``max_epochs`` epochs; validate after epoch e (1-based) when e ≥ ``val_begin`` and
    e is a multiple of ``val_interval``, and after the last epoch (MMEngine's rule)."""

    max_epochs: int
    val_begin: int = 1
    val_interval: int = 1

    def __post_init__(self) -> None:
        for name in ("max_epochs", "val_begin", "val_interval"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise config_error(name, f"must be a whole number ≥ 1 (got {value!r})")

    def validates_after(self, epoch: int) -> bool:
        return epoch >= self.val_begin and (
            epoch % self.val_interval == 0 or epoch == self.max_epochs
        )


@dataclass
class ValLoop:
    fp16: bool = False


@dataclass
class TestLoop:
    fp16: bool = False
