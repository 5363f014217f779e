"""MMAction2's SlowOnly: the slow pathway of SlowFast alone (no laterals), in plain PyTorch.

Its defaults differ from ResNet3d's: a 1×7×7 stem, temporal kernels only in the last two
stages (``inflate=(0, 0, 1, 1)``), no pool after the first stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...registry import config_error
from .resnet3d_slowfast import ResNet3dPathway


class ResNet3dSlowOnly(ResNet3dPathway):
    """SlowOnly (Feichtenhofer et al. 2019); every ResNet3d argument applies."""

    defaults: Mapping[str, Any] = {
        "conv1_kernel": (1, 7, 7),
        "conv1_stride_t": 1,
        "pool1_stride_t": 1,
        "inflate": (0, 0, 1, 1),
        "with_pool2": False,
    }

    def __init__(self, lateral: bool = False, **kwargs: Any) -> None:
        if lateral:
            raise config_error("lateral", "SlowOnly has no lateral connections; leave it False")
        super().__init__(lateral=False, **kwargs)
