"""Backbones named ``timm.<model>`` / ``torchvision.<model>`` in a config, as MMAction2's
recognizers build them; ``mmpretrain.*`` / ``mmcls.*`` names are refused with an alternative,
except those ethoclip implements with the library's parameter names (``mmpretrain.MobileOne``:
registered under that name, its one selected stage passed on unpooled, as MMAction2 does).

The model is the library's own (``timm.create_model(name, num_classes=0, **args)``;
``torchvision.models.<name>(**args)`` with ``fc``/``classifier`` replaced by identities), so
MMAction2 checkpoints of these TSNs load under ``backbone.<the library's names>``. Per frame,
torchvision models run ``features`` when they have it (else the whole net), timm models
``forward_features``; the result is averaged to (B, C, 1, 1) (``feature_shape``: NCHW, NHWC
or NLC; inferred from the rank when not given, and from timm's ``output_fmt`` for NHWC models
such as Swin — MMAction2 would average the wrong axes there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ...errors import ConfigError
from ...registry import MODELS

PREFIXES = ("timm.", "torchvision.", "mmpretrain.", "mmcls.")
FEATURE_SHAPES = ("NCHW", "NHWC", "NLC")
# What to use instead of an OpenMMLab classification backbone.
_INSTEAD = {
    "MobileOne": "type='mmpretrain.MobileOne' (ethoclip's, mmpretrain's names) or "
    "type='timm.mobileone_s4' (timm's MobileOne; s0…s4)",
    "ResNeXt": "type='timm.resnext101_32x4d' (timm's ResNeXt), or ResNet",
    "ResNet": "type='ResNet' (MMAction2's own, torchvision weights)",
    "SwinTransformer": "type='timm.swin_base_patch4_window7_224'",
}


def is_external(backbone: Mapping[str, Any]) -> bool:
    kind = backbone.get("type")
    return isinstance(kind, str) and kind.startswith(PREFIXES)


class External:
    """How a library backbone is run: which library and the layout of its features."""

    def __init__(self, library: str, feature_shape: str | None) -> None:
        self.library, self.feature_shape = library, feature_shape

    def features(self, backbone: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) → (B, C, 1, 1); ethoclip's mmpretrain backbones: (B, C, h, w)."""
        if self.library == "mmpretrain":  # ethoclip's own: a tuple of one stage, unpooled
            return backbone(x)[0]
        if self.library == "torchvision":
            features = getattr(backbone, "features", None)
            x = features(x) if isinstance(features, nn.Module) else backbone(x)
        else:
            x = backbone.forward_features(x)  # type: ignore[operator]
        shape = self.feature_shape or {3: "NLC", 4: "NCHW"}.get(x.dim())
        if shape == "NHWC":
            x = x.mean(dim=(1, 2))
        elif shape == "NCHW":
            x = x.mean(dim=(2, 3))
        elif shape == "NLC":
            x = x.mean(dim=1)
        return x.reshape(x.shape[0], -1, 1, 1)


def build_external(
    backbone: Mapping[str, Any], key: str = "model.backbone"
) -> tuple[nn.Module, External, int]:
    """The library's model, how to run it, and its feature channels."""
    args = dict(backbone)
    kind = str(args.pop("type"))
    library, _, name = kind.partition(".")
    if kind in MODELS:  # an OpenMMLab backbone ethoclip implements, under its name
        model = MODELS.build(backbone, key=key.rpartition(".")[2])
        if len(model.out_indices) != 1:
            raise ConfigError(f"{key}.out_indices: a TSN takes one stage (got {model.out_indices})")
        return model, External(library, None), int(model.out_channels)
    if library in ("mmpretrain", "mmcls"):
        instead = _INSTEAD.get(name, "a timm.<model> backbone, or ResNet / MobileNetV2TSM")
        raise ConfigError(
            f"{key}.type: {kind!r} needs OpenMMLab's {library}, which ethoclip does not use; "
            f"use {instead}"
        )
    feature_shape = args.pop("feature_shape", None)
    if feature_shape not in (None, *FEATURE_SHAPES):
        raise ConfigError(
            f"{key}.feature_shape: must be one of {', '.join(FEATURE_SHAPES)} "
            f"(got {feature_shape!r})"
        )
    if library == "timm":
        try:
            import timm
        except ImportError:
            raise ConfigError(f"{key}.type: {kind!r} needs timm: pip install timm") from None
        if name not in timm.list_models(pretrained=False):
            raise ConfigError(f"{key}.type: timm has no model {name!r} (see timm.list_models())")
        try:
            model = timm.create_model(name, num_classes=0, **args)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ConfigError(f"{key}: timm.create_model({name!r}) refused {args}: {exc}") from None
        if feature_shape is None and getattr(model, "output_fmt", None) in ("NHWC", "NLC"):
            feature_shape = model.output_fmt
        return model, External("timm", feature_shape), int(model.num_features)  # type: ignore[arg-type]
    import torchvision.models

    builder = torchvision.models.__dict__.get(name)
    if builder is None or not callable(builder) or name.startswith("_"):
        raise ConfigError(
            f"{key}.type: torchvision has no model {name!r} (see torchvision.models.list_models())"
        )
    try:
        model = builder(**args)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"{key}: torchvision.models.{name} refused {args}: {exc}") from None
    model.classifier = nn.Identity()
    model.fc = nn.Identity()
    runner = External("torchvision", feature_shape)
    was_training = model.training
    model.eval()
    with torch.no_grad():  # the channel count, from one small frame
        channels = runner.features(model, torch.zeros(1, 3, 64, 64)).shape[1]
    model.train(was_training)
    return model, runner, int(channels)
