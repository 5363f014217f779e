"""Shared helpers for oracle scripts. Runs INSIDE the MMAction2 1.2.0 venv, never in ethoclip's.

Each script builds MMAction2's own objects from MMAction2's own config files (the wheel's
``.mim/configs``), saves what they produce, and writes ``done``; the ethoclip test compares.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np


def args() -> tuple[Path, dict[str, Any]]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--params", default="{}")
    ns = parser.parse_args()
    return ns.out, json.loads(ns.params)


def configs_dir() -> Path:
    import mmaction

    return Path(mmaction.__file__).parent / ".mim" / "configs"


def load_config(rel: str) -> Any:
    """An MMAction2 config from the wheel, e.g. ``recognition/tsn/tsn_....py``."""
    from mmengine.config import Config

    return Config.fromfile(str(configs_dir() / rel))


def build_model(model_cfg: Any, seed: int = 0) -> Any:
    """MMAction2's model from a config dict, with MMAction2's own initialisation."""
    import torch
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def save_checkpoint(model: Any, path: Path, meta: dict[str, Any] | None = None) -> None:
    """The model's weights as MMEngine saves them (``meta`` + ``state_dict``)."""
    from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu
    from mmengine.runner.checkpoint import save_checkpoint as mm_save

    checkpoint = {
        "meta": meta or {"mmaction2": "1.2.0", "note": "saved by MMAction2 for ethoclip's tests"},
        "state_dict": weights_to_cpu(get_state_dict(model)),
    }
    mm_save(checkpoint, str(path))


def save(out: Path, name: str, value: Any) -> None:
    """A tensor, array or JSON-able value under ``out``."""
    try:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
    except ImportError:
        pass
    if isinstance(value, np.ndarray):
        np.save(out / f"{name}.npy", value)
    else:
        (out / f"{name}.json").write_text(json.dumps(value, indent=1, default=str))


def done(out: Path) -> None:
    (out / "done").write_text("ok\n")
