"""MMEngine's ``DefaultSampler``: shuffled (or not) indices, sharded over processes.

The order depends only on ``seed`` and the epoch (``set_epoch``), so a resumed run sees the
same batches as an uninterrupted one, and every process of a distributed run takes its own
slice (training pads to equal slices; evaluation does not, so no clip is counted twice).
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import torch
import torch.distributed as dist
from torch.utils.data import Sampler


class DefaultSampler(Sampler[int]):
    def __init__(
        self, dataset: Sized, shuffle: bool = True, seed: int | None = None, round_up: bool = True
    ) -> None:
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = 0 if seed is None else int(seed)
        self.round_up = round_up
        self.epoch = 0

    @property
    def _shard(self) -> tuple[int, int]:
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _indices(self) -> list[int]:
        n = len(self.dataset)
        if self.shuffle:
            generator = torch.Generator()
            generator.manual_seed(self.seed + self.epoch)
            indices = torch.randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        rank, world = self._shard
        if self.round_up and world > 1:
            total = -(-n // world) * world
            indices = (indices * (total // max(n, 1) + 1))[:total]
        return indices[rank::world]

    def __iter__(self) -> Iterator[int]:
        # Keys carry the epoch (epoch × len + index): datasets seed augmentation with it.
        offset = self.epoch * len(self.dataset)
        return iter([offset + i for i in self._indices()])

    def __len__(self) -> int:
        return len(self._indices())
