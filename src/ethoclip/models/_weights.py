"""Pretrained weights: a URL, ``torchvision://<Weights enum>``, ``hf://<org/name>`` or a file.

URLs and torchvision weights go through torch.hub's cache, Hugging Face names through the
hub's own cache: what is there is used without a network. Without a network and without a
cached copy, the error names the cache folder and how to put the file there.
"""

from __future__ import annotations

import os
import urllib.error
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..registry import config_error

TORCHVISION = "torchvision://"
HUGGINGFACE = "hf://"


def hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _from_url(url: str) -> dict[str, torch.Tensor]:
    cached = hub_checkpoints() / os.path.basename(url.split("?")[0])
    try:
        state = torch.hub.load_state_dict_from_url(
            url, map_location="cpu", progress=False, check_hash=False, weights_only=True
        )
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise config_error(
            "pretrained",
            f"cannot get {url} ({exc}); without a network, download it elsewhere and put it at "
            f"{cached} (torch.hub's cache; TORCH_HOME moves it)",
        ) from None
    return dict(state)


def _torchvision_url(name: str) -> str:
    from torchvision.models import get_model_weights, get_weight

    # MMEngine's names: 'resnet50' (its first weights, V1, as MMEngine), 'resnet50.imagenet1k_v2'
    model, _, member = name.partition(".")
    if model.islower():
        try:
            weights = get_model_weights(model)
            return str((weights[member.upper()] if member else next(iter(weights))).url)
        except (ValueError, KeyError):
            pass  # not a torchvision model: the error below
    try:
        if "_Weights." in name:
            return str(get_weight(name).url)
        # MMEngine's names: 'resnet50' is torchvision's first (V1) ImageNet weights, as
        # before torchvision 0.13; 'resnet50.imagenet1k_v2' or 'resnet50.default' pick others.
        model, _, which = name.partition(".")
        weights = get_model_weights(model)
        return str(
            (
                weights.DEFAULT
                if which == "default"
                else weights[(which or "IMAGENET1K_V1").upper()]
            ).url
        )
    except (ValueError, AttributeError, KeyError):
        raise config_error(
            "pretrained",
            f"{TORCHVISION}{name} is not a torchvision weights name; write it as "
            "'torchvision://ResNet50_Weights.IMAGENET1K_V2' or 'torchvision://resnet50' "
            "(see torchvision.models)",
        ) from None


def unwrap_state_dict(data: Any, source: str) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file: a bare state dict, or one under ``state_dict``/``model``
    (MMAction2, Lightning, many others)."""
    if isinstance(data, Mapping):
        for key in ("state_dict", "model", "module"):
            if key in data and isinstance(data[key], Mapping):
                data = data[key]
                break
    if not isinstance(data, Mapping) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise config_error("pretrained", f"{source} holds no state dict of tensors")
    return {str(k): v for k, v in data.items()}


def load_file(path: str | os.PathLike[str]) -> Any:
    """``torch.load(weights_only=True)`` with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise config_error("pretrained", f"{path}: file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors have many types; all mean "not weights"
        raise config_error(
            "pretrained",
            f"{path}: not a checkpoint torch can read safely ({type(exc).__name__}: {exc})",
        ) from None


def state_dict_from(spec: str) -> dict[str, torch.Tensor]:
    """The weights ``spec`` names (URL, torchvision:// or a local file), as a state dict."""
    if spec.startswith(TORCHVISION):
        return _from_url(_torchvision_url(spec[len(TORCHVISION) :]))
    if spec.startswith(("http://", "https://")):
        return _from_url(spec)
    if spec.startswith(HUGGINGFACE):
        raise config_error(
            "pretrained", f"{spec}: Hugging Face weights fit transformer backbones only"
        )
    return unwrap_state_dict(load_file(spec), spec)


def hf_pretrained(spec: str, load: Callable[[str], Any]) -> Any:
    """A transformers model from ``hf://org/name`` (the hub's cache) or a local folder."""
    name = spec[len(HUGGINGFACE) :] if spec.startswith(HUGGINGFACE) else spec
    try:
        return load(name)
    except OSError as exc:
        from huggingface_hub import constants

        raise config_error(
            "pretrained",
            f"cannot get {name} from the Hugging Face hub ({str(exc).splitlines()[0]}); "
            f"without a network, download it elsewhere ('huggingface-cli download {name}') and "
            f"copy the cache to {constants.HF_HUB_CACHE} (HF_HOME moves it), or pass a local "
            "folder",
        ) from None


def load_into(
    module: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: str,
    ignore: tuple[str, ...] = (),
) -> None:
    """Load ``state`` into ``module``; every missing, unexpected or misshapen tensor is named."""
    own = module.state_dict()
    unexpected = [k for k in state if k not in own and not k.startswith(ignore)]
    missing = [k for k in own if k not in state]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {len(missing)}: {', '.join(missing[:6])}")
    if unexpected:
        problems.append(f"not in the model {len(unexpected)}: {', '.join(unexpected[:6])}")
    if shapes:
        problems.append(f"other shapes: {', '.join(shapes[:4])}")
    if problems:
        raise config_error(
            "pretrained", f"the weights in {source} do not fit this model ({'; '.join(problems)})"
        )
    module.load_state_dict({k: v for k, v in state.items() if k in own}, strict=True)
