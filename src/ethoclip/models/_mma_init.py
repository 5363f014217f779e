"""MMAction2's initialisation and ``init_cfg`` for the models that keep its names.

MMAction2 initialises after building (``init_weights``); ethoclip has no such phase, so these
run at the end of a constructor. ``init_cfg=dict(type='Pretrained', checkpoint=…, prefix=…)``
loads a checkpoint (a file, or a URL through torch.hub's cache) the way MMEngine does, except
that every tensor the module has must be in it: MMEngine loads with ``strict=False`` and only
logs what is missing, which hides a wrong checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from ..registry import config_error
from ._weights import load_into, state_dict_from


class DropPath(nn.Module):
    """Stochastic depth as mmcv's ``DropPath``: one keep/drop draw per index of the first axis
    (the batch for (N, …) tensors, the token for UniFormerV2's (L, N, C) ones), scaled by
    1/keep so the expectation is unchanged."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = (keep + torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device)).floor()
        return x.div(keep) * mask.to(x.dtype)


def drop_path_or_identity(rate: float) -> nn.Module:
    """MMAction2's blocks hold ``nn.Identity`` when the rate is 0 (no state either way)."""
    return DropPath(rate) if rate > 0.0 else nn.Identity()


def linear_rates(top: float, count: int) -> list[float]:
    """The stochastic-depth rule: rates rising linearly from 0 to ``top`` over ``count`` blocks."""
    return [float(x) for x in torch.linspace(0, top, count, device="cpu")] if count else []


def trunc_normal_linear_and_constant_norm(module: nn.Module, std: float = 0.02) -> None:
    """MMAction2's ``[TruncNormal(layer='Linear', std), Constant(layer='LayerNorm', 1, 0)]``.

    MMEngine matches a layer by its class *or a base class*, so the ``out_proj`` of
    ``nn.MultiheadAttention`` (a ``Linear`` subclass) is re-drawn too, over any zero init a
    block gave it; ``in_proj_weight`` is a bare parameter and keeps its init.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=std, a=-2.0, b=2.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    for m in module.modules():
        if isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            nn.init.ones_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def pretrained_init_cfg(init_cfg: Any) -> tuple[str, str] | None:
    """``(checkpoint, prefix)`` of a ``Pretrained`` ``init_cfg``; None for None.

    Other kinds (``TruncNormal``, ``Kaiming`` … written out) are refused: ethoclip initialises
    each model as MMAction2's default ``init_cfg`` does, and a different one would be ignored.
    """
    if init_cfg is None:
        return None
    if not isinstance(init_cfg, Mapping) or init_cfg.get("type") != "Pretrained":
        raise config_error(
            "init_cfg",
            f"only dict(type='Pretrained', checkpoint=…, prefix=…) or None is supported (got "
            f"{init_cfg!r}); leave it out for MMAction2's default initialisation",
        )
    extra = sorted(set(init_cfg) - {"type", "checkpoint", "prefix", "map_location"})
    if extra:
        raise config_error("init_cfg", f"Pretrained takes checkpoint and prefix, not {extra}")
    checkpoint = init_cfg.get("checkpoint")
    if not isinstance(checkpoint, str) or not checkpoint:
        raise config_error("init_cfg.checkpoint", f"must be a file or URL (got {checkpoint!r})")
    prefix = init_cfg.get("prefix") or ""
    if not isinstance(prefix, str):
        raise config_error("init_cfg.prefix", f"must be text such as 'backbone.' (got {prefix!r})")
    return checkpoint, prefix


def load_pretrained_init(
    module: nn.Module,
    checkpoint: str,
    prefix: str = "",
    *,
    transform: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
    key: str = "init_cfg",
) -> None:
    """Load ``checkpoint``'s tensors under ``prefix`` into ``module`` (MMEngine's
    ``Pretrained``); an unreachable file says to set ``init_cfg=None``."""
    try:
        state = state_dict_from(checkpoint)
    except Exception as exc:
        raise config_error(
            key,
            f"cannot load the checkpoint ({exc}); provide the file, or set {key}=None to "
            "start from MMAction2's random initialisation",
        ) from None
    if prefix:
        state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if not state:
            raise config_error(
                "init_cfg.prefix", f"{checkpoint} has no tensors under {prefix!r}; check prefix"
            )
    if transform is not None:
        state = transform(state)
    own = set(module.state_dict())
    load_into(
        module, state, source=checkpoint, ignore=tuple(k for k in state if k not in own) or ()
    )
