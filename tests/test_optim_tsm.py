"""``optim_wrapper.constructor='TSMOptimWrapperConstructor'`` (MMAction2's TSN/TSM/TRN/TIN
configs) gives every parameter the LR and weight decay MMAction2's constructor gives it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from torch import nn

from ethoclip.config import Config
from ethoclip.engine._optim import OptimWrapper, build_optimizer
from ethoclip.errors import ConfigError
from ethoclip.models import build_recognizer


@pytest.mark.parametrize("name", ["tsm_fc_lr5", "tsm_mobilenetv2", "trn"])
def test_tsm_constructor_groups_as_mmaction2(
    name: str, mmaction2_oracle: Callable[[str], Path]
) -> None:
    expected = json.loads((mmaction2_oracle("optim_tsm") / "settings.json").read_text())[name]
    options = ["model.backbone.pretrained=None"]
    if name.startswith("tsm"):
        options.append("model.backbone.pretrained2d=False")
    cfg = Config.fromfile(expected["config"], cfg_options=options)
    model = build_recognizer(cfg.model.to_dict())
    wrapper_cfg = cfg.optim_wrapper.to_dict()
    wrapper_cfg.pop("type", None)
    optimizer, notes = build_optimizer(model, OptimWrapper(**wrapper_cfg))
    names = {id(p): n for n, p in model.named_parameters()}
    ours = {
        names[id(p)]: [g["lr"], g["weight_decay"]]
        for g in optimizer.param_groups
        for p in g["params"]
    }
    assert ours.keys() == expected["params"].keys()
    for key, (lr, decay) in ours.items():
        assert (lr, decay) == pytest.approx(tuple(expected["params"][key])), key
    assert notes == []


def test_tsm_constructor_names_what_it_cannot_group() -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.scale = nn.Parameter(nn.init.ones_(nn.Parameter(nn.Conv2d(1, 1, 1).weight)))
            self.fc = nn.Linear(4, 2)

    wrapper = OptimWrapper(
        optimizer={"type": "SGD", "lr": 0.1, "weight_decay": 1e-4},
        constructor="TSMOptimWrapperConstructor",
    )
    with pytest.raises(ConfigError, match="TSMOptimWrapperConstructor has no rule for Odd"):
        build_optimizer(Odd(), wrapper)
    wrapper = OptimWrapper(
        optimizer={"type": "SGD", "lr": 0.1},
        constructor="TSMOptimWrapperConstructor",
        paramwise_cfg={"fc_lr10": True},
    )
    with pytest.raises(ConfigError, match="takes only fc_lr5"):
        build_optimizer(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(4, 2)), wrapper)
