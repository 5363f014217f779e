"""MMAction2's ``TPNHead``: TSNHead on the TPN neck's (N, C, T, H, W) output.

It averages over time and space (what MMAction2 computes both in training, where TPN's time
axis is 1, and with ``test_cfg=dict(fcn_test=True)``, where its 1×1×1 conv copy of ``fc_cls``
is the same linear map), then dropout and ``fc_cls``.
"""

from __future__ import annotations

import torch

from .._heads import TSNHead


class TPNHead(TSNHead):
    def forward(self, x: torch.Tensor, num_segs: int = 1) -> torch.Tensor:
        if x.dim() > 2:
            x = x.flatten(2).mean(2)
        return self.fc_cls(self.dropout(x.flatten(1)))
