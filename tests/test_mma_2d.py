"""MMAction2's 2D families against MMAction2 1.2.0 itself (the oracle, ``oracle/scripts/mma2d.py``).

For each family, ethoclip builds its model from the SAME config file of MMAction2's wheel
(``pretrained`` off), loads MMAction2's checkpoint strictly, and must give the same keys and
shapes, the same eval-mode scores (max |Δ| ≤ 1e-4) and the same gradients of one training
step (MMAction2's loss; TPN's auxiliary loss included). Torchvision ResNet weights must land
in the same tensors as MMAction2's own loaders put them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ethoclip.config import Config
from ethoclip.models import build_recognizer, load_weights
from ethoclip.registry import MODELS
from tests.mmaction2_oracle import oracle_python

CASES = ["tsn", "tsm", "tsm_nl", "tsm_mobilenetv2", "tin", "tanet", "trn", "tpn", "c2d"]
TV_BACKBONES = ["resnet", "resnet_tsm", "resnet_tsm_nl", "resnet_tin", "tanet"]


@pytest.fixture(scope="module")
def art(mmaction2_oracle: Any) -> Path:
    return Path(mmaction2_oracle("mma2d"))


def wheel_configs() -> Path:
    venv = oracle_python().parents[1]
    return next(venv.glob("lib/python*/site-packages/mmaction/.mim/configs"))


def ethoclip_model(art: Path, case: str) -> Any:
    rel = json.loads((art / "cases.json").read_text())[case]
    cfg = Config.fromfile(wheel_configs() / rel)
    cfg.merge_from_dict({"model.backbone.pretrained": None})
    return build_recognizer(cfg.model)


def _no_dropout(model: torch.nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()


@pytest.mark.parametrize("case", CASES)
def test_mmaction2_2d_family_matches_mmaction2(art: Path, case: str) -> None:
    check_against_oracle(art / case, ethoclip_model(art, case))


VARIANTS = ["tsm_block_tpool", "tsm_nl_dot", "tsm_nl_gaussian"]


@pytest.mark.parametrize("case", VARIANTS)
def test_mmaction2_2d_variants_match_mmaction2(mmaction2_oracle: Any, case: str) -> None:
    """TSM's block shift with temporal pooling; the non-local TSMs' other modes."""
    folder = Path(mmaction2_oracle("mma2d_variants")) / case
    overrides = json.loads((folder / "overrides.json").read_text())
    cfg = Config.fromfile(wheel_configs() / overrides.pop("config"))
    cfg.merge_from_dict({**overrides, "model.backbone.pretrained": None})
    check_against_oracle(folder, build_recognizer(cfg.model))


def check_against_oracle(folder: Path, model: Any) -> None:
    """Keys, strict loading, eval scores and one training step's gradients vs the oracle's."""
    torch.set_num_threads(2)
    case = folder.name
    expected = {k: tuple(shape) for k, shape in json.loads((folder / "keys.json").read_text())}
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == expected
    notes = load_weights(model, str(folder / "checkpoint.pth"))  # strict: every tensor fits
    assert "MMAction2 checkpoint" in notes[0]
    inputs = torch.from_numpy(np.load(folder / "input.npy"))

    model.eval()
    np.random.seed(0)  # TRN's relations come from numpy's generator, as in the oracle
    with torch.no_grad():
        scores = model.logits(inputs)
    reference = torch.from_numpy(np.load(folder / "eval_scores.npy"))
    assert scores.shape[1] == 1
    delta = (scores[:, 0] - reference).abs().max().item()
    assert delta <= 1e-4, f"{case}: eval scores differ by {delta:.2e}"

    model.train()
    _no_dropout(model)
    np.random.seed(1)
    labels = torch.from_numpy(np.load(folder / "labels.npy"))
    loss = model.loss(inputs, labels)
    losses = json.loads((folder / "losses.json").read_text())
    assert loss.item() == pytest.approx(sum(losses.values()), rel=1e-4)
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    norms = json.loads((folder / "grad_norms.json").read_text())
    assert set(grads) == set(norms)
    scale = max(norms.values())
    for name, norm in norms.items():
        assert float(grads[name].norm()) == pytest.approx(norm, rel=1e-3, abs=1e-6 * scale), name
    for i, name in enumerate(json.loads((folder / "grad_names.json").read_text())):
        ref = torch.from_numpy(np.load(folder / f"grad_{i}.npy"))
        tol = 1e-3 * float(ref.abs().max()) + 1e-8
        assert (grads[name] - ref).abs().max().item() <= tol, name


def _sources(state: dict[str, torch.Tensor], tv: dict[str, torch.Tensor]) -> dict[str, str]:
    """Which torchvision tensor (all random, so unique) each model tensor is."""
    index: dict[tuple[Any, ...], list[str]] = {}
    for key, value in tv.items():
        index.setdefault((tuple(value.shape), float(value.double().sum())), []).append(key)
    found = {}
    for key, value in state.items():
        for tv_key in index.get((tuple(value.shape), float(value.double().sum())), []):
            if torch.equal(value, tv[tv_key]) and not key.endswith("num_batches_tracked"):
                found[key] = tv_key
                break
    return found


@pytest.mark.parametrize("backbone", TV_BACKBONES)
def test_torchvision_resnet_weights_land_where_mmaction2_puts_them(
    art: Path, backbone: str
) -> None:
    folder = art / "tv_load"
    cfg = json.loads((folder / f"{backbone}_config.json").read_text())
    tv_file = folder / cfg.pop("file")
    model = MODELS.build({**cfg, "pretrained": str(tv_file)}, key="backbone")
    tv = torch.load(tv_file, weights_only=True)
    expected = json.loads((folder / f"{backbone}_sources.json").read_text())
    assert len(expected) > 50
    assert _sources(dict(model.state_dict()), tv) == expected


def test_timm_and_torchvision_backbones_are_the_libraries_own_models() -> None:
    """``timm.<name>`` / ``torchvision.<name>`` as MMAction2 builds them: the library's model
    (classifier removed), so MMAction2's checkpoints of them have the library's key names."""
    import timm
    import torchvision

    head = {"type": "TSNHead", "num_classes": 3}
    frames = torch.randint(0, 256, (2, 3, 3, 32, 32), dtype=torch.uint8)
    for backbone, reference in (
        ({"type": "timm.mobileone_s0"}, timm.create_model("mobileone_s0", num_classes=0)),
        (
            {"type": "torchvision.mobilenet_v2", "feature_shape": "NCHW"},
            torchvision.models.mobilenet_v2(),
        ),
    ):
        model = build_recognizer({"type": "Recognizer2D", "backbone": backbone, "cls_head": head})
        own = {k.removeprefix("backbone."): v.shape for k, v in model.state_dict().items()}
        ref = {k: v.shape for k, v in reference.state_dict().items() if "classifier" not in k}
        assert {k: v for k, v in own.items() if not k.startswith("cls_head.")} == ref
        model.eval()
        with torch.no_grad():
            scores = model.logits(frames)
        assert scores.shape == (2, 1, 3) and torch.isfinite(scores).all()


def test_openmmlab_classification_backbones_are_refused_with_an_alternative() -> None:
    from ethoclip.errors import ConfigError

    with pytest.raises(
        ConfigError,
        match=r"model\.backbone\.type: 'mmcls\.ResNeXt' needs OpenMMLab's mmcls.*"
        r"timm\.resnext101_32x4d",
    ):
        build_recognizer(
            {
                "type": "Recognizer2D",
                "backbone": {"type": "mmcls.ResNeXt", "depth": 101},
                "cls_head": {"type": "TSNHead", "num_classes": 3},
            }
        )
