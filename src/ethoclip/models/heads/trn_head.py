"""MMAction2's ``TRNHead``: temporal relation reasoning over per-frame features.

Each frame is pooled, dropped out and projected by ``fc_cls`` to ``hidden_dim``; then
``'TRN'`` feeds all segments in order to one MLP, while ``'TRNMultiScale'`` sums MLPs over
ordered subsets of 8, 7, … 2 segments: all of them at the top scale, and at each smaller scale
up to three subsets drawn at random on every forward — training and test alike, from numpy's
global generator, as MMAction2 does (seed numpy for repeatable scores).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch
from torch import nn

from ...registry import config_error
from .._heads import BaseHead


class RelationModule(nn.Module):
    def __init__(self, hidden_dim: int, num_segments: int, num_classes: int) -> None:
        super().__init__()
        self.hidden_dim, self.num_segments, self.num_classes = hidden_dim, num_segments, num_classes
        self.classifier = nn.Sequential(
            nn.ReLU(),
            nn.Linear(num_segments * hidden_dim, 512),
            nn.ReLU(),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x.reshape(x.size(0), -1))


class RelationModuleMultiScale(nn.Module):
    max_subsample = 3

    def __init__(self, hidden_dim: int, num_segments: int, num_classes: int) -> None:
        super().__init__()
        if num_segments < 2:
            raise config_error(
                "num_segments", f"TRNMultiScale needs ≥ 2 segments (got {num_segments})"
            )
        self.hidden_dim, self.num_segments, self.num_classes = hidden_dim, num_segments, num_classes
        self.scales = list(range(num_segments, 1, -1))
        self.relations_scales = [
            list(itertools.combinations(range(num_segments), s)) for s in self.scales
        ]
        self.subsample_scales = [min(self.max_subsample, len(r)) for r in self.relations_scales]
        self.fc_fusion_scales = nn.ModuleList(
            nn.Sequential(
                nn.ReLU(), nn.Linear(s * hidden_dim, 256), nn.ReLU(), nn.Linear(256, num_classes)
            )
            for s in self.scales
        )

    def _relation(self, x: torch.Tensor, scale: int, frames: tuple[int, ...]) -> torch.Tensor:
        picked = x[:, list(frames), :].reshape(x.size(0), self.scales[scale] * self.hidden_dim)
        return self.fc_fusion_scales[scale](picked)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._relation(x, 0, self.relations_scales[0][0])
        for scale in range(1, len(self.scales)):
            chosen = np.random.choice(
                len(self.relations_scales[scale]), self.subsample_scales[scale], replace=False
            )
            for idx in chosen:
                out = out + self._relation(x, scale, self.relations_scales[scale][idx])
        return out


class TRNHead(BaseHead):
    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        num_segments: int = 8,
        spatial_type: str | None = "avg",
        relation_type: str = "TRNMultiScale",
        hidden_dim: int = 256,
        dropout_ratio: float = 0.8,
        init_std: float = 0.001,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs
        )
        if spatial_type not in ("avg", None):
            raise config_error("spatial_type", f"must be 'avg' or None (got {spatial_type!r})")
        relations = {"TRN": RelationModule, "TRNMultiScale": RelationModuleMultiScale}
        if relation_type not in relations:
            raise config_error(
                "relation_type", f"must be 'TRN' or 'TRNMultiScale' (got {relation_type!r})"
            )
        self.spatial_type, self.num_segments = spatial_type, num_segments
        self.relation_type, self.hidden_dim = relation_type, hidden_dim
        # fc_cls projects each frame to hidden_dim; the relation module classifies.
        self.fc_cls = nn.Linear(in_channels, hidden_dim)
        nn.init.normal_(self.fc_cls.weight, 0.0, init_std)
        nn.init.zeros_(self.fc_cls.bias)
        self.consensus = relations[relation_type](hidden_dim, num_segments, num_classes)

    def forward(self, x: torch.Tensor, num_segs: int = 1) -> torch.Tensor:
        if self.spatial_type == "avg" and x.dim() > 2:
            x = x.flatten(2).mean(2)
        feats = self.fc_cls(self.dropout(x.flatten(1)))
        return self.consensus(feats.view(-1, self.num_segments, feats.shape[-1]))
