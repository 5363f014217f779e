"""Pieces the video transformers share: stochastic depth, MMEngine-style initialisation, and
loading a pretrained file the way MMEngine's non-strict ``load_state_dict`` does."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import torch
from torch import nn

from ...registry import config_error


class DropPath(nn.Module):
    """Stochastic depth per sample: a residual branch is dropped for whole samples while
    training (rescaled by 1/keep), as MMCV's ``DropPath`` draws it (one uniform per sample)."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        mask = (keep + torch.rand(shape, dtype=x.dtype, device=x.device)).floor()
        return x.div(keep) * mask


def drop_path_or_identity(rate: float) -> nn.Module:
    return DropPath(rate) if rate > 0 else nn.Identity()


def trunc_normal_linears(module: nn.Module, std: float = 0.02) -> None:
    """MMEngine's ``TruncNormal`` on every Linear (bias 0) and ``Constant`` on every LayerNorm
    (1, 0): the ``init_cfg`` MMAction2's ViT and Swin default to."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std, a=-2.0, b=2.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


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


def pretrained_init(init_cfg: object) -> tuple[str, str] | None:
    """MMEngine's ``init_cfg=dict(type='Pretrained', checkpoint=…, prefix=…)`` as (file,
    prefix); None for no ``init_cfg`` (the architecture's own initialisation)."""
    if init_cfg is None:
        return None
    cfg = dict(init_cfg) if isinstance(init_cfg, Mapping) else None
    if cfg is None or cfg.get("type") != "Pretrained" or not cfg.get("checkpoint"):
        raise config_error(
            "init_cfg",
            "only dict(type='Pretrained', checkpoint=…, prefix=…) is supported; leave it out for "
            f"MMAction2's default initialisation (got {init_cfg!r})",
        )
    unknown = set(cfg) - {"type", "checkpoint", "prefix", "map_location"}
    if unknown:
        raise config_error("init_cfg", f"{', '.join(sorted(unknown))} not supported")
    return str(cfg["checkpoint"]), str(cfg.get("prefix") or "")


def with_prefix(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under ``prefix`` with it removed (MMEngine's ``prefix``), or all of them."""
    if not prefix:
        return dict(state)
    found = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    if not found:
        raise config_error("init_cfg.prefix", f"no tensor in the checkpoint starts with {prefix!r}")
    return found
