"""``optim_wrapper.constructor='LearningRateDecayOptimizerConstructor'`` (MMAction2's layer-wise
LR decay, MViT maskfeat config) gives every parameter the LR and weight decay MMAction2's
constructor gives it."""

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


@pytest.mark.parametrize("name", ["mvit", "vit"])
def test_layer_decay_groups_as_mmaction2(
    name: str, mmaction2_oracle: Callable[[str], Path]
) -> None:
    expected = json.loads((mmaction2_oracle("optim_layer_decay") / "settings.json").read_text())
    expected = expected[name]
    cfg = Config.fromfile(expected["config"])
    model_cfg = cfg.model.to_dict()
    model_cfg["backbone"].pop("pretrained", None)
    model_cfg["backbone"].pop("init_cfg", None)
    model_cfg["backbone"].pop("pretrained_type", None)
    model = build_recognizer(model_cfg)
    optimizer, notes = build_optimizer(model, OptimWrapper(**expected["optim_wrapper"]))
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
    # the schedule really decays: 16 layers at 0.75 span 0.75**17 ≈ 0.0075 of the LR to 1×
    lrs = sorted({lr for lr, _ in ours.values()})
    assert len(lrs) > 2 and lrs[-1] == pytest.approx(expected["optim_wrapper"]["optimizer"]["lr"])


def test_layer_decay_says_what_it_cannot_number() -> None:
    class Recognizer(nn.Module):
        def __init__(self, backbone: nn.Module) -> None:
            super().__init__()
            self.backbone = backbone
            self.fc = nn.Linear(4, 2)

    wrapper = OptimWrapper(
        optimizer={"type": "AdamW", "lr": 1e-3, "weight_decay": 0.05},
        constructor="LearningRateDecayOptimizerConstructor",
        paramwise_cfg={"num_layers": 4, "decay_rate": 0.75},
    )
    with pytest.raises(ConfigError, match="MViT and VisionTransformer backbones, not Conv2d"):
        build_optimizer(Recognizer(nn.Conv2d(3, 4, 3)), wrapper)

    class MViT(nn.Module):  # the name is what MMAction2 looks at; a batch norm inside it is not
        def __init__(self) -> None:
            super().__init__()
            self.bn = nn.BatchNorm1d(4)

    with pytest.raises(ConfigError, match=r"does not take batch norms \(backbone.bn\)"):
        build_optimizer(Recognizer(MViT()), wrapper)
    wrapper.paramwise_cfg = {"num_layers": 4}
    with pytest.raises(ConfigError, match="takes num_layers, decay_rate and decay_type"):
        build_optimizer(Recognizer(MViT()), wrapper)
    wrapper.paramwise_cfg = {"num_layers": 4, "decay_rate": 0.5, "decay_type": "stage_wise"}
    with pytest.raises(ConfigError, match=r"only 'layer_wise' is supported \('stage_wise'\)"):
        build_optimizer(Recognizer(MViT()), wrapper)
