"""Self-describing checkpoints: everything ``test`` and ``predict`` need, in one file.

A checkpoint is Lightning's (so ``--resume`` restores optimizer, scheduler and loop state)
plus an ``ethoclip`` entry a person can read: the resolved config, the class names, per-class
thresholds, clip sampling and preprocessing, metrics and versions. It loads with
``torch.load(weights_only=True)``: tensors and plain Python values only.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..errors import CheckpointError
from ..preflight._checkpoint import check_meta
from ._build import build_recognizer
from ._recognizers import BaseRecognizer

FORMAT = 1


def rebuild_spec(model_cfg: Mapping[str, Any], model: BaseRecognizer) -> dict[str, Any]:
    """The model config that rebuilds ``model`` exactly, without downloading anything:
    no ``pretrained`` weights (the checkpoint has them), transformers' config inlined."""
    spec = copy.deepcopy(dict(model_cfg))
    backbone = dict(spec.get("backbone", {}))
    backbone["pretrained"] = None
    init_cfg = backbone.get("init_cfg")
    if isinstance(init_cfg, Mapping) and init_cfg.get("type") == "Pretrained":
        backbone["init_cfg"] = None  # MMEngine's other spelling of pretrained weights
    hf_model = getattr(model.backbone, "model", None)
    if hf_model is not None and hasattr(hf_model, "config"):
        config = hf_model.config.to_dict()
        fc_norm = getattr(model.backbone, "fc_norm", None)
        if fc_norm is not None:
            config["fc_norm_eps"] = fc_norm.eps
        backbone["hf_config"] = config
    spec["backbone"] = backbone
    spec.setdefault("cls_head", {})["num_classes"] = model.num_classes
    return spec


@dataclass
class Trained:
    """A model rebuilt from a checkpoint, and what the checkpoint says about it."""

    model: BaseRecognizer
    meta: dict[str, Any]
    path: Path

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def thresholds(self) -> list[float]:
        found = self.meta.get("thresholds")
        return list(found) if found else [0.5] * len(self.classes)

    @property
    def step_thresholds(self) -> list[float] | None:
        """A dense model's per-step thresholds, chosen on validation; None: not a dense model,
        or it never validated."""
        found = self.meta.get("step_thresholds")
        return [float(t) for t in found] if found else None

    @property
    def class_evidence(self) -> list[dict[str, Any]] | None:
        """What validation said of each class (AP, positives, learned); None in checkpoints
        written before ethoclip kept it, or that never validated."""
        found = self.meta.get("class_evidence")
        return [dict(e) for e in found] if found else None

    @property
    def multi_label(self) -> bool:
        return bool(self.meta["multi_label"])

    @property
    def preprocessing(self) -> dict[str, Any]:
        return dict(self.meta["preprocessing"])


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint's contents, with a clear error for anything that is not one of ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found; pass a .ckpt file from a work dir")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip/pickle errors of many kinds all mean "not a checkpoint"
        first = (
            str(exc).splitlines()
            or ["the file ends early" if path.stat().st_size else "the file is empty"]
        )[0]
        raise CheckpointError(
            f"{path}: not a checkpoint, or a damaged one ({type(exc).__name__}: {first[:120]}); "
            "pass a .ckpt file written by 'ethoclip train'"
        ) from None
    if not isinstance(data, dict) or "ethoclip" not in data or "state_dict" not in data:
        hint = (
            " (an MMAction2 checkpoint? use it as load_from in a config, or 'predict CONFIG "
            "--checkpoint FILE')"
            if isinstance(data, dict) and ("meta" in data or "state_dict" in data)
            else ""
        )
        raise CheckpointError(f"{path}: not an ethoclip checkpoint{hint}")
    meta = data["ethoclip"]
    check_meta(meta, str(path))
    if not isinstance(data["state_dict"], Mapping):
        raise CheckpointError(f"{path}: its state_dict is not a dict of tensors; it is damaged")
    if meta.get("format", 0) > FORMAT:
        raise CheckpointError(
            f"{path}: written by a newer ethoclip ({meta.get('version')}); upgrade ethoclip"
        )
    return data


def load_trained(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> Trained:
    """Rebuild the model a checkpoint describes, with its weights, in eval mode."""
    data = read_checkpoint(path)
    meta = data["ethoclip"]
    model = build_recognizer(
        meta["model"], num_classes=len(meta["classes"]), multi_label=meta["multi_label"]
    )
    state = {str(k).removeprefix("model."): v for k, v in data["state_dict"].items()}
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, AttributeError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: the weights do not fit the model it describes "
            f"({' '.join(str(exc).split())[:300]})"
        ) from None
    model.to(device).eval()
    return Trained(model, dict(meta), Path(path))


def new_meta(
    *,
    config: dict[str, Any],
    config_text: str,
    model: BaseRecognizer,
    classes: list[str],
    multi_label: bool,
    preprocessing: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": __version__,
        "torch": str(torch.__version__),
        "config": config,
        "config_text": config_text,
        "model": rebuild_spec(config["model"], model),
        "classes": classes,
        "multi_label": multi_label,
        "thresholds": None,
        "preprocessing": preprocessing,
        "metrics": {},
        "epoch": 0,
        "seed": seed,
    }
