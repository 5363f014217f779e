"""The norm, activation and init helpers of MMAction2's 3D CNNs, in plain PyTorch (their
``ConvModule`` is the one in ``_bricks``, with ``dims=3``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from ...registry import config_error
from ._bricks import make_norm

Triple = tuple[int, int, int]

# MMAction2's norm types for 3D nets; SyncBN is BatchNorm3d here (one process; Lightning's
# sync_batchnorm turns it into SyncBatchNorm when training on several GPUs).
NORMS_3D = ("BN3d", "SyncBN")


def triple(value: int | Sequence[int]) -> Triple:
    if isinstance(value, int):
        return (value, value, value)
    t = tuple(int(v) for v in value)
    if len(t) != 3:
        raise config_error(None, f"expected 3 numbers (t, h, w), got {value!r}")
    return (t[0], t[1], t[2])


def build_norm(cfg: Mapping[str, Any] | None, channels: int) -> nn.Module:
    """``norm_cfg`` of a 3D net → a BatchNorm3d (``eps``, ``momentum``, ``requires_grad``)."""
    cfg = dict(cfg or {"type": "BN3d"})
    check_norm(cfg)
    return make_norm(cfg, channels, 3)


def check_norm(cfg: Mapping[str, Any] | None) -> None:
    kind = (cfg or {}).get("type", "BN3d")
    if kind not in NORMS_3D:
        raise config_error("norm_cfg", f"type must be one of {', '.join(NORMS_3D)} (got {kind!r})")


def check_act(cfg: Mapping[str, Any] | None) -> None:
    if cfg is not None and cfg.get("type") != "ReLU":
        raise config_error("act_cfg", f"only ReLU is supported (got {cfg.get('type')!r})")


def kaiming(conv: Any) -> None:
    """MMEngine's ``kaiming_init``: normal, fan-out, ReLU gain; bias 0."""
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    if getattr(conv, "bias", None) is not None:
        nn.init.zeros_(conv.bias)


def constant(module: Any, value: float, bias: float = 0.0) -> None:
    if getattr(module, "weight", None) is not None:
        nn.init.constant_(module.weight, value)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def normal(module: Any, std: float) -> None:
    """MMEngine's ``normal_init``: weights N(0, std), bias 0."""
    nn.init.normal_(module.weight, 0.0, std)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)


def freeze(module: nn.Module) -> None:
    module.eval()
    for p in module.parameters():
        p.requires_grad = False
