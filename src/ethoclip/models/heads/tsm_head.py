"""MMAction2's ``TSMHead``: per-frame spatial average, dropout, ``fc_cls``, then the mean over
the model's ``num_segments`` (halved with ``temporal_pool``) — also used by TIN and TANet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ...registry import config_error
from .._heads import BaseHead


def avg_consensus_dim(consensus: Mapping[str, Any] | None) -> int:
    consensus = dict(consensus or {"type": "AvgConsensus", "dim": 1})
    if consensus.get("type") != "AvgConsensus":
        raise config_error(
            "consensus", f"only AvgConsensus is supported, not {consensus.get('type')!r}"
        )
    return int(consensus.get("dim", 1))


class TSMHead(BaseHead):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        num_segments: int = 8,
        spatial_type: str | None = "avg",
        consensus: Mapping[str, Any] | None = None,
        dropout_ratio: float = 0.8,
        init_std: float = 0.001,
        is_shift: bool = True,
        temporal_pool: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
        if spatial_type not in ("avg", None):
            raise config_error("spatial_type", f"must be 'avg' or None (got {spatial_type!r})")
        if avg_consensus_dim(consensus) != 1:
            raise config_error("consensus.dim", "must be 1 (the segment axis)")
        self.spatial_type, self.num_segments = spatial_type, num_segments
        self.is_shift, self.temporal_pool = is_shift, temporal_pool

    def forward(self, x: torch.Tensor, num_segs: int = 1) -> torch.Tensor:
        """(N·segments, C, h, w) → (N, K); ``num_segs`` is not used: the model's own count is."""
        if self.spatial_type == "avg" and x.dim() > 2:
            x = x.flatten(2).mean(2)
        scores = self.fc_cls(self.dropout(x.flatten(1)))
        segments = (
            self.num_segments // 2 if self.is_shift and self.temporal_pool else self.num_segments
        )
        return scores.view(-1, segments, scores.shape[-1]).mean(1)
