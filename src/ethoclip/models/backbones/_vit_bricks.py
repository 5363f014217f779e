"""Pieces the video transformers share: attention, stochastic depth, MMEngine-style
initialisation, and loading a pretrained file the way MMEngine's non-strict
``load_state_dict`` does."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import config_error
from .._mma_init import DropPath, drop_path_or_identity  # noqa: F401  (one home)
from .._mma_init import pretrained_init_cfg as pretrained_init  # noqa: F401
from .._mma_init import trunc_normal_linear_and_constant_norm as trunc_normal_linears  # noqa: F401


def layer_norm(
    norm_cfg: Mapping[str, object] | None, dims: int, *, eps: float = 1e-5
) -> nn.LayerNorm:
    """MMCV's ``build_norm_layer`` for the only kind these models use, ``LN``."""
    cfg = dict(norm_cfg or {"type": "LN"})
    kind = cfg.pop("type", "LN")
    if kind != "LN":
        raise config_error("norm_cfg", f"only LayerNorm (type='LN') is supported, not {kind!r}")
    eps = float(cfg.pop("eps", eps))  # type: ignore[arg-type]
    requires_grad = bool(cfg.pop("requires_grad", True))
    if cfg:
        raise config_error("norm_cfg", f"{', '.join(map(str, cfg))} not supported (eps is)")
    norm = nn.LayerNorm(dims, eps=eps)
    for p in norm.parameters():
        p.requires_grad = requires_grad
    return norm


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    scale: float,
    drop: nn.Dropout,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """softmax(q·kᵀ·scale + bias)·v over (…, heads, tokens, head dims), ``drop`` on the weights.

    torch's fused kernel (``scaled_dot_product_attention``: no (tokens × tokens) weights
    written out and read back) whenever no weight is dropped; with a dropout that drops, the
    weights are computed out and dropped by ``drop``, as MMAction2 does, so a seeded training
    step draws the same mask as MMAction2's."""
    if drop.training and drop.p > 0:
        attn = (q * scale) @ k.transpose(-2, -1)
        if bias is not None:
            attn = attn + bias
        return drop(attn.softmax(-1)) @ v
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale)


def load_centre_inflated(
    module: nn.Module, found: Mapping[str, torch.Tensor], source: str, hint: str = ""
) -> None:
    """Copy ``found`` (names of ``module``) into it, 2D kernels inflated into the centre frame
    of their 3D counterparts (the rest zero), as MMAction2's UniFormer loaders do; any other
    shape that differs is an error naming the tensor (``hint`` says what may cause it)."""
    own = module.state_dict()
    loaded = dict(found)
    for key, value in found.items():
        target = own[key]
        if value.shape == target.shape:
            continue
        if target.dim() <= 2 or value.shape != target.shape[:2] + target.shape[3:]:
            raise config_error(
                "pretrained",
                f"{source}: {key} is {tuple(value.shape)} there, {tuple(target.shape)} here"
                + (f" ({hint})" if hint else ""),
            )
        inflated = torch.zeros_like(target)
        inflated[:, :, target.shape[2] // 2] = value
        loaded[key] = inflated
    module.load_state_dict(loaded, strict=False)


def check_activation(act_cfg: Mapping[str, object] | None) -> None:
    kind = dict(act_cfg or {"type": "GELU"}).get("type")
    if kind != "GELU":
        raise config_error("act_cfg", f"only GELU is supported, not {kind!r}")


def load_partial(
    module: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: str,
    expected_missing: Iterable[str] = (),
) -> list[str]:
    """Load what fits, as MMEngine's ``load_state_dict(strict=False)``: tensors whose name and
    shape match are copied; the rest stay as initialised. Returns the names loaded. What did
    not fit is warned about (MMAction2 logs it); nothing fitting at all is an error."""
    own = module.state_dict()
    fits = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if not fits:
        raise config_error(
            "pretrained", f"no tensor in {source} fits this model (other names or shapes)"
        )
    expected = tuple(expected_missing)
    missing = [k for k in own if k not in state and not any(e in k for e in expected)]
    unexpected = [k for k in state if k not in own]
    shapes = [k for k in state if k in own and k not in fits]
    with torch.no_grad():
        for key, value in fits.items():
            own[key].copy_(value)
    problems = [
        f"{label} {len(keys)}: {', '.join(keys[:5])}"
        for label, keys in (
            ("kept as initialised (not in the file)", missing),
            ("ignored (not in the model)", unexpected),
            ("kept as initialised (other shapes)", shapes),
        )
        if keys
    ]
    if problems:
        warnings.warn(f"{source}: {'; '.join(problems)}", stacklevel=3)
    return list(fits)


def with_prefix(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under ``prefix`` with it removed (MMEngine's ``prefix``), or all of them."""
    if not prefix:
        return dict(state)
    found = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    if not found:
        raise config_error("init_cfg.prefix", f"no tensor in the checkpoint starts with {prefix!r}")
    return found
