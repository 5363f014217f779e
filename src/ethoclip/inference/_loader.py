"""Scores of every sample a loader yields, in sample order, from every process when distributed:
what ``test`` evaluates and what validation gathers."""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader

from ..models import BaseRecognizer


def gather_scores(
    index: torch.Tensor, score: torch.Tensor, target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices, scores, targets) of this process's samples → those of all processes, sorted by
    sample index, each sample once (a sampler that pads shards gives some samples twice)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        gathered: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, (index, score, target))
        index = torch.cat([g[0] for g in gathered])
        score = torch.cat([g[1] for g in gathered])
        target = torch.cat([g[2] for g in gathered])
    order = torch.argsort(index)
    index, score, target = index[order], score[order], target[order]
    keep = torch.ones_like(index, dtype=torch.bool)
    keep[1:] = index[1:] != index[:-1]
    return index[keep], score[keep], target[keep]


@torch.no_grad()
def predict_loader(
    model: BaseRecognizer, loader: DataLoader[Any], device: torch.device, *, fp16: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices, scores, targets) over ``loader``; scores are ``model.scores``: probabilities
    by the head's rule. ``fp16`` (MMEngine's ``test_cfg.fp16``): under autocast, float16 on
    GPUs and bfloat16 on CPUs."""
    was_training = model.training
    model.eval()
    indices, scores, targets = [], [], []
    for batch in loader:
        indices.append(batch["index"].cpu())
        dtype = torch.bfloat16 if device.type == "cpu" else torch.float16
        with torch.autocast(device.type, dtype=dtype, enabled=fp16):
            scores.append(model.scores(batch["inputs"].to(device)).float().cpu())
        targets.append(batch["label"].cpu())
    model.train(was_training)
    if not indices:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, model.num_classes), torch.zeros(0)
    return gather_scores(torch.cat(indices), torch.cat(scores), torch.cat(targets))
