"""MobileOne-s4 (TSM's ``MobileOneTSM``; TSN's ``mmpretrain.MobileOne``) against MMAction2
1.2.0 + mmpretrain 1.2.0 (``oracle/scripts/mma_mobileone.py``).

ethoclip builds from the same config files of MMAction2's wheel (training-time and deploy)
and must give MMAction2's keys and shapes, load its checkpoints strictly, match its
eval scores (max |Δ| ≤ 1e-4) and one training step's gradients; ``switch_to_deploy`` must fuse
the branches into MMAction2's tensors; a 2D mmpretrain checkpoint given by ``init_cfg`` must
land where MMAction2's loader puts it. The oracle needs mmpretrain in its venv; without it
these tests skip with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ethoclip.config import Config
from ethoclip.errors import ConfigError
from ethoclip.models import build_recognizer, load_weights
from ethoclip.registry import MODELS
from tests.mmaction2_oracle import oracle_python
from tests.test_mma_2d import check_against_oracle, wheel_configs

_TOL = 1e-4


@pytest.fixture(scope="module")
def art(mmaction2_oracle: Any) -> Path:
    site = oracle_python().parents[1]
    if not list(site.glob("lib/python*/site-packages/mmpretrain/__init__.py")):
        pytest.skip(
            "mmpretrain is not in the MMAction2 oracle venv (MMAction2's MobileOneTSM needs it); "
            "rebuild it with bash tests/oracle/build_mmaction2.sh"
        )
    return Path(mmaction2_oracle("mma_mobileone"))


def ethoclip_model(art: Path, which: str, **backbone: Any) -> Any:
    rel = json.loads((art / "configs.json").read_text())[which]
    cfg = Config.fromfile(wheel_configs() / rel)
    cfg.merge_from_dict({"model.backbone.init_cfg": None, **backbone})
    return build_recognizer(cfg.model)


def _keys(path: Path) -> dict[str, tuple[int, ...]]:
    return {k: tuple(shape) for k, shape in json.loads(path.read_text())}


def _scores(model: Any, folder: Path, name: str, raw: torch.Tensor) -> float:
    """Max |Δ| of eval-mode scores against the oracle's ``folder/name``."""
    model.eval()
    with torch.no_grad():
        scores = model.logits(raw)[:, 0]
    return float((scores - torch.from_numpy(np.load(folder / name))).abs().max())


def _close(ours: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]) -> None:
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    for key, value in theirs.items():
        tol = 1e-5 * float(value.abs().max()) + 1e-6
        assert (ours[key].double() - value.double()).abs().max() <= tol, key


# case: (its folder, the training-time config, the deploy config)
CASES = {
    "tsm": ("tsm_mobileone", "training", "deploy"),
    "tsn": ("tsn_mobileone", "tsn", "tsn_deploy"),
}


@pytest.mark.parametrize("case", CASES)
def test_mobileone_matches_mmaction2(art: Path, case: str) -> None:
    """The training-time config: keys, strict load, eval scores and one training step's loss
    and gradients. TSM's backbone shifts in 8s while its head averages 16 segments (as the
    config has it); TSN runs ``mmpretrain.MobileOne`` per frame."""
    folder, training, _ = CASES[case]
    check_against_oracle(art / folder, ethoclip_model(art, training))


@pytest.mark.parametrize("case", CASES)
def test_switch_to_deploy_fuses_the_branches_as_mmaction2(art: Path, case: str) -> None:
    torch.set_num_threads(2)
    folder, training, _ = CASES[case]
    model = ethoclip_model(art, training)
    load_weights(model, str(art / folder / "checkpoint.pth"))
    model.eval()
    model.backbone.switch_to_deploy()
    deploy = art / folder / "deploy"
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == _keys(deploy / "keys.json")
    theirs = torch.load(deploy / "checkpoint.pth", weights_only=True)["state_dict"]
    _close(dict(model.state_dict()), theirs)
    raw = torch.from_numpy(np.load(art / folder / "input.npy"))
    assert _scores(model, deploy, "eval_scores.npy", raw) <= _TOL


@pytest.mark.parametrize("case", CASES)
def test_deploy_config_loads_mmaction2_reparameterised_checkpoint(art: Path, case: str) -> None:
    torch.set_num_threads(2)
    folder, _, deploy_config = CASES[case]
    deploy = art / folder / "deploy"
    model = ethoclip_model(art, deploy_config)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == _keys(
        deploy / "config_keys.json"
    )
    load_weights(model, str(deploy / "checkpoint.pth"))  # strict
    raw = torch.from_numpy(np.load(art / folder / "input.npy"))
    assert _scores(model, deploy, "config_eval_scores.npy", raw) <= _TOL


def test_2d_mmpretrain_checkpoint_lands_where_mmaction2_puts_it(art: Path) -> None:
    """``init_cfg`` (prefix 'backbone', no dot) with ``pretrained2d``: every tensor of the 2D
    file renamed into the shift wrappers, exactly as MMAction2's ``load_original_weights``."""
    folder = art / "pretrained2d"
    file = str(folder / "mobileone_s4_2d.pth")
    init = {"type": "Pretrained", "checkpoint": file, "prefix": "backbone"}
    model = ethoclip_model(art, "training", **{"model.backbone.init_cfg": init})
    theirs = torch.load(folder / "tsm_loaded.pth", weights_only=True)
    ours = dict(model.backbone.state_dict())
    assert set(ours) == set(theirs) and len(theirs) == 608
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)


def test_tsn_mobileone_reads_the_2d_checkpoint_under_its_prefix(art: Path) -> None:
    """TSN's ``mmpretrain.MobileOne`` with the config's ``init_cfg`` (prefix 'backbone'): the
    file's ``backbone.*`` tensors, names unchanged, as MMEngine's Pretrained init loads them."""
    folder = art / "pretrained2d"
    file = folder / "mobileone_s4_2d.pth"
    init = {"type": "Pretrained", "checkpoint": str(file), "prefix": "backbone"}
    model = ethoclip_model(art, "tsn", **{"model.backbone.init_cfg": init})
    state = torch.load(file, weights_only=True)["state_dict"]
    theirs = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    ours = dict(model.backbone.state_dict())
    assert set(ours) == set(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)


def test_deploy_config_fuses_a_training_time_checkpoint(art: Path) -> None:
    """MMAction2's deploy config with its own init_cfg (a training-time ImageNet file) fails
    in MMAction2 (strict load, missing ``branch_reparam``); ethoclip loads the branches and
    fuses them, giving MMAction2's reparameterisation of the same weights."""
    folder = art / "pretrained2d"
    note = json.loads((folder / "deploy_init.json").read_text())
    assert "branch_reparam" in note["refused"]
    init = {"type": "Pretrained", "checkpoint": str(folder / note["file"]), "prefix": "backbone"}
    model = ethoclip_model(art, "deploy", **{"model.backbone.init_cfg": init})
    assert model.backbone.deploy
    _close(
        dict(model.backbone.state_dict()),
        torch.load(folder / "tsm_loaded_deploy.pth", weights_only=True),
    )


# Without the oracle: what ethoclip adds or refuses.


def _tiny(**kwargs: Any) -> Any:
    arch = {
        "num_blocks": [1, 1, 1, 1],
        "width_factor": [0.5, 0.5, 0.5, 0.5],
        "num_conv_branches": [2, 1, 1, 3],
        "num_se_blocks": [0, 0, 1, 1],
    }
    return MODELS.build({"type": "MobileOneTSM", "arch": arch, "num_segments": 2, **kwargs})


def test_deploy_form_gives_the_same_output_and_its_file_loads_into_deploy_models(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    model = _tiny().eval()
    for m in model.modules():  # statistics that make the fusion non-trivial
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        before = model(x)
        model.switch_to_deploy()
        after = model(x)
    assert (before - after).abs().max() <= 1e-4 * before.abs().max()
    assert not any("branch_conv_list" in k for k in model.state_dict())
    torch.save(model.state_dict(), tmp_path / "fused.pth")
    init = {"type": "Pretrained", "checkpoint": str(tmp_path / "fused.pth")}
    fused = _tiny(deploy=True, pretrained2d=False, init_cfg=init).eval()
    with torch.no_grad():
        assert torch.equal(fused(x), after)


def test_mobileone_tsm_refuses_what_it_cannot_honour(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"out_indices: MobileOneTSM gives one stage"):
        _tiny(out_indices=(2, 3))
    with pytest.raises(ConfigError, match=r"arch: must be one of s0, s1, s2, s3, s4"):
        MODELS.build({"type": "MobileOneTSM", "arch": "s9"})
    missing = tmp_path / "nowhere.pth"
    with pytest.raises(ConfigError, match=r"init_cfg: cannot load .* set init_cfg=None"):
        _tiny(init_cfg={"type": "Pretrained", "checkpoint": str(missing)})
