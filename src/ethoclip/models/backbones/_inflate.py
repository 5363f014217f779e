"""Weights for MMAction2's 3D ResNets from a 2D ResNet (inflation) or a 3D checkpoint."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import torch
from torch import nn

from .._weights import load_into, state_dict_from
from ._bricks import ConvModule

log = logging.getLogger(__name__)


def _2d_names(name: str) -> tuple[str, str]:
    """A ConvModule's name → its conv's and BN's names in a torchvision-style 2D ResNet:
    ``layer1.0.conv1`` → ``layer1.0.conv1`` / ``layer1.0.bn1``; ``conv1`` → ``conv1`` / ``bn1``;
    ``…downsample`` → ``…downsample.0`` / ``…downsample.1``."""
    if "downsample" in name:
        return name + ".0", name + ".1"
    return name, name.replace("conv", "bn")


def inflate_2d_weights(
    model: nn.Module,
    state_2d: Mapping[str, torch.Tensor],
    *,
    source: str,
    skip: tuple[str, ...] = (),
    pad_in_channels: bool = False,
) -> list[str]:
    """Copy a 2D ResNet's weights into the 3D one, as MMAction2's ``inflate_weights`` does.

    Each conv kernel is repeated along time and divided by the temporal kernel size (so a
    still clip gives the 2D net's activations); BN parameters and statistics are copied.
    A conv whose 2D kernel has another shape (a flow net's first conv) keeps its init, as does
    everything the 2D net lacks (non-local blocks). ``skip``: module names containing one of
    these are left alone (SlowFast's laterals). ``pad_in_channels``: MMAction2's pathway rule —
    a conv with more input channels (lateral inputs) gets zeros for the extra ones (MMAction2
    then fails on any other shape difference; here that conv keeps its init, with a warning).
    Returns the 2D names that were not used.
    """
    if "state_dict" in state_2d and isinstance(state_2d["state_dict"], Mapping):
        state_2d = state_2d["state_dict"]
    used: set[str] = set()
    for name, module in model.named_modules():
        # non-local blocks have no 2D counterpart (MMAction2 warns about each of their convs)
        if not isinstance(module, ConvModule) or any(s in name for s in (*skip, "non_local_block")):
            continue
        conv_name, bn_name = _2d_names(name)
        conv = module.conv
        weight = state_2d.get(conv_name + ".weight")
        if weight is None or not isinstance(conv, nn.Conv3d):
            log.warning("%s: no %s.weight in the 2D checkpoint", source, conv_name)
        else:
            shape_3d = conv.weight.shape
            if pad_in_channels and shape_3d[1] > weight.shape[1]:
                extra = weight.new_zeros(
                    (weight.shape[0], shape_3d[1] - weight.shape[1], *weight.shape[2:])
                )
                weight = torch.cat((weight, extra), dim=1)
            if weight.shape != shape_3d[:2] + shape_3d[3:]:
                log.warning("%s: %s has another shape in the 2D checkpoint", source, conv_name)
            else:
                with torch.no_grad():
                    conv.weight.copy_(weight.unsqueeze(2).expand_as(conv.weight) / shape_3d[2])
                used.add(conv_name + ".weight")
                if conv.bias is not None:
                    with torch.no_grad():
                        conv.bias.copy_(state_2d[conv_name + ".bias"])
                    used.add(conv_name + ".bias")
        if module.bn is None or bn_name + ".weight" not in state_2d:
            if bn_name + ".weight" not in state_2d:
                log.warning("%s: no %s in the 2D checkpoint", source, bn_name)
            continue
        _copy_bn(module.bn, state_2d, bn_name, used)
    unused = sorted(set(state_2d) - used)
    if unused:
        log.info("%s: not used from the 2D checkpoint: %s", source, ", ".join(unused[:10]))
    return unused


def _copy_bn(bn: nn.Module, state: Mapping[str, torch.Tensor], prefix: str, used: set[str]) -> None:
    params = dict(bn.named_parameters())
    # MMAction2 copies nothing of a BN whose parameters have another shape.
    if any(state[f"{prefix}.{n}"].shape != p.shape for n, p in params.items()):
        log.warning("%s has another shape in the 2D checkpoint", prefix)
        return
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(state[f"{prefix}.{n}"])
            used.add(f"{prefix}.{n}")
        for n, buf in bn.named_buffers():
            if f"{prefix}.{n}" in state:  # old checkpoints lack num_batches_tracked
                buf.copy_(state[f"{prefix}.{n}"])
                used.add(f"{prefix}.{n}")


def load_3d_weights(model: nn.Module, spec: str) -> None:
    """A checkpoint of this very backbone (bare, or a recognizer's ``backbone.*`` keys)."""
    state = state_dict_from(spec)
    if any(k.startswith("backbone.") for k in state):
        state = {
            k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")
        }
    load_into(model, state, source=spec, ignore=("cls_head.", "fc."))
