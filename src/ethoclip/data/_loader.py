"""A torch ``DataLoader`` from an MMAction2 ``*_dataloader`` config dict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader

from ..config._check import DATALOADER
from ..errors import ConfigError
from ..registry import DATA_SAMPLERS, DATASETS, building, config_error, current_key
from ._datasets import ClipSamples, collate


def build_dataset(
    cfg: Mapping[str, Any], *, key: str, defaults: Mapping[str, Any] | None = None
) -> ClipSamples:
    """``key``: the dataset's config key, below the one being built when there is one."""
    dataset = DATASETS.build(cfg, default_args=defaults, key=key)
    if not isinstance(dataset, ClipSamples):
        raise ConfigError(f"{current_key(key)}: {type(dataset).__name__} is not a clip dataset")
    return dataset


def build_dataloader(
    cfg: Mapping[str, Any],
    *,
    key: str,
    training: bool,
    dataset_defaults: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> DataLoader[Any]:
    """``dict(batch_size=…, num_workers=…, sampler=dict(type='DefaultSampler', shuffle=…),
    dataset=dict(…))`` → a DataLoader whose batches are ``collate``'s dicts."""
    with building(key):
        unknown = set(cfg) - DATALOADER
        if unknown:
            name = sorted(unknown)[0]
            raise config_error(
                name, f"is not a dataloader setting ({', '.join(sorted(DATALOADER))})"
            )
        if "dataset" not in cfg:
            raise config_error(
                "dataset", "is missing: a dataloader needs dict(dataset=dict(type=…))"
            )
        dataset = build_dataset(cfg["dataset"], key="dataset", defaults=dataset_defaults)
        sampler_cfg = dict(cfg.get("sampler") or {"type": "DefaultSampler", "shuffle": training})
        sampler_cfg.setdefault("round_up", training)
        if seed is not None:
            sampler_cfg.setdefault("seed", seed)
        sampler = DATA_SAMPLERS.build(sampler_cfg, default_args={"dataset": dataset}, key="sampler")
        collate_fn = cfg.get("collate_fn")
        known = ("default_collate", "pseudo_collate", "repeat_pseudo_collate")
        plain = isinstance(collate_fn, Mapping) and dict(collate_fn) in [{"type": k} for k in known]
        if collate_fn is not None and not plain:
            raise config_error(
                "collate_fn",
                f"custom collate functions are not supported (only {', '.join(known)})",
            )
        workers = int(cfg.get("num_workers", 0))
        batch_size = cfg.get("batch_size", 1)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise config_error("batch_size", f"must be a whole number ≥ 1 (got {batch_size!r})")
        extra: dict[str, Any] = {}
        if workers > 0:
            extra["persistent_workers"] = bool(cfg.get("persistent_workers", False))
            if cfg.get("prefetch_factor") is not None:
                extra["prefetch_factor"] = int(cfg["prefetch_factor"])
        # Its own generator: creating an iterator then never draws from the global random state.
        generator = torch.Generator()
        generator.manual_seed(seed or 0)
        return DataLoader(
            dataset,
            batch_size=batch_size,
            generator=generator,
            sampler=sampler,
            num_workers=workers,
            collate_fn=collate,
            pin_memory=bool(cfg.get("pin_memory", False)),
            drop_last=bool(cfg.get("drop_last", False)),
            **extra,
        )
