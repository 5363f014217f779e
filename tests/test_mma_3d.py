"""MMAction2's 3D CNNs in ethoclip, against MMAction2 1.2.0 itself (tests/oracle/scripts/mma3d.py).

For one or more of the wheel's own configs per family, ethoclip builds the model from the SAME
file (``pretrained`` set to None, as the oracle did), loads the checkpoint MMAction2 saved —
strictly, no renaming — and must give MMAction2's key set and shapes, its backbone features,
logits and scores in eval mode, and its loss and gradients after one training-mode step.
2D→3D inflation of a torchvision ResNet-50 file must give MMAction2's inflated weights.
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

# the case names, configs and overrides of the oracle script (overrides as --cfg-options)
R = "recognition/"
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "i3d": (R + "i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py", {}),
    "i3d_nl_embedded": (
        R
        + "i3d/i3d_imagenet-pretrained-r50-nl-embedded-gaussian_8xb8-32x2x1-100e_kinetics400-rgb.py",
        {},
    ),
    "i3d_nl_gaussian": (
        R + "i3d/i3d_imagenet-pretrained-r50-nl-gaussian_8xb8-32x2x1-100e_kinetics400-rgb.py",
        {},
    ),
    "i3d_nl_dot": (
        R + "i3d/i3d_imagenet-pretrained-r50-nl-dot-product_8xb8-32x2x1-100e_kinetics400-rgb.py",
        {},
    ),
    "slowonly": (R + "slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py", {}),
    "slowfast": (R + "slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py", {}),
    "ircsn": (
        R + "csn/ircsn_ig65m-pretrained-r50-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb.py",
        {},
    ),
    "ipcsn": (R + "csn/ipcsn_r152_32x2x1-180e_kinetics400-rgb.py", {"model.backbone.depth": 50}),
    "r2plus1d": (R + "r2plus1d/r2plus1d_r34_8xb8-32x2x1-180e_kinetics400-rgb.py", {}),
    "c3d": (
        R + "c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py",
        {"model.backbone.out_dim": 2048},
    ),
}
# Eval outputs: |Δ| ≤ 1e-4 on scores (probabilities); on features and logits ≤ 1e-4 of their
# largest value (Kaiming-initialised R50s without zero-init residuals reach features in the
# hundreds and logits of ~10, where float32 rounding alone is ~1e-5 absolute). Features get
# 3e-4: which CPU kernels run (their summation order) depends on the machine, and on one
# 2-core machine i3d_nl_embedded's features (largest 7.6e3, after its non-local blocks' long
# sums) differed from MMAction2's by 0.98, 1.3e-4 of the largest, where another machine stayed
# under 1e-4.
EVAL_TOL = 1e-4
FEATURE_TOL = 3e-4
# The training step runs in float64 on both sides: training-mode BN over 3 clips whose last
# stage is 1×1×1 (at 32×32) magnifies float32 rounding ~1e4× — MMAction2's own float32 loss
# moves by 1.5e-3 between 1 and 2 CPU threads. In float64 that leaves ~1e-12; per parameter,
# |Δ| ≤ 1e-6 of its largest gradient allows for the summation orders of different kernels.
GRAD_RTOL = 1e-6


def configs_dir() -> Path:
    from tests.mmaction2_oracle import Unavailable, oracle_python

    try:
        python = oracle_python()
    except Unavailable as exc:  # the wheel's configs come with the oracle venv
        pytest.skip(str(exc))
    found = sorted(python.parents[1].glob("lib/python*/site-packages/mmaction/.mim/configs"))
    if not found:
        pytest.skip(f"MMAction2's configs are not in the oracle venv at {python.parents[1]}")
    return found[0]


@pytest.fixture(scope="module")
def art(mmaction2_oracle: Any) -> Path:
    return Path(mmaction2_oracle("mma3d"))


def ethoclip_model(name: str, **options: Any) -> torch.nn.Module:
    rel, overrides = CASES[name]
    cfg = Config.fromfile(
        configs_dir() / rel,
        cfg_options={"model.backbone.pretrained": None, **overrides, **options},
    )
    torch.manual_seed(0)
    return build_recognizer(cfg.model)


def loaded(art: Path, name: str) -> torch.nn.Module:
    model = ethoclip_model(name)
    notes = load_weights(model, str(art / f"{name}.pth"))
    assert "MMAction2 checkpoint" in notes[0]
    return model


def npy(art: Path, name: str) -> torch.Tensor:
    return torch.from_numpy(np.load(art / f"{name}.npy"))


def assert_close(got: torch.Tensor, want: torch.Tensor, tol: float, what: str) -> float:
    assert got.shape == want.shape, f"{what}: shape {tuple(got.shape)} vs {tuple(want.shape)}"
    delta = float((got - want).abs().max())
    assert delta <= tol, f"{what}: max |Δ| {delta:.3g} > {tol:.3g}"
    return delta


@pytest.mark.parametrize("name", list(CASES))
def test_mmaction2_checkpoint_gives_its_outputs_and_gradients(art: Path, name: str) -> None:
    """Loaded strictly, no renaming: same keys and shapes, eval outputs, loss, gradients."""
    model = loaded(art, name)
    want_keys = json.loads((art / f"{name}_keys.json").read_text())
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == want_keys
    check_eval(art, name, model)
    check_training_step(art, name, model.double())


def check_eval(art: Path, name: str, model: torch.nn.Module) -> None:
    model.eval()
    x = npy(art, f"{name}_eval_input")
    with torch.no_grad():
        flat = model.data_preprocessor(x).flatten(0, 1)
        feats = model.backbone(flat)
        feats = list(feats) if isinstance(feats, tuple) else [feats]
        for i, f in enumerate(feats):
            want = npy(art, f"{name}_feat{i}")
            scale = max(1.0, float(want.abs().max()))
            assert_close(f, want, FEATURE_TOL * scale, f"{name} features {i}")
        logits = model.cls_head(feats[0] if len(feats) == 1 else tuple(feats))
        want = npy(art, f"{name}_logits")
        scale = max(1.0, float(want.abs().max()))
        assert_close(logits, want, EVAL_TOL * scale, f"{name} logits")
        scores = model.predict(x)
    assert_close(scores, npy(art, f"{name}_scores"), EVAL_TOL, f"{name} scores")


def check_training_step(art: Path, name: str, model: torch.nn.Module) -> None:
    model.train()
    for m in model.modules():  # dropout is random on both sides: off, as in the oracle
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    x, labels = npy(art, f"{name}_train_input"), npy(art, f"{name}_train_labels")
    loss = model.loss(x, labels)
    loss.backward()
    assert abs(float(loss.detach()) - float(npy(art, f"{name}_loss"))) <= 1e-9

    want = np.load(art / f"{name}_grads.npz")
    no_grad = json.loads((art / f"{name}_no_grad.json").read_text())
    got = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert sorted(got) == sorted(want.files)
    assert sorted(k for k, p in model.named_parameters() if p.grad is None) == sorted(no_grad)
    for key in want.files:
        ref = torch.from_numpy(want[key])
        assert_close(got[key], ref, GRAD_RTOL * float(ref.abs().max()) + 1e-12, f"{name} ∂{key}")
    # BN running statistics after the step (momentum, unbiased variance)
    buffers = np.load(art / f"{name}_buffers.npz")
    state = model.state_dict()
    for key in buffers.files:
        ref = torch.from_numpy(buffers[key])
        assert_close(state[key], ref, 1e-9 * max(1.0, float(ref.abs().max())), f"{name} {key}")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("i3d", "model.backbone.pretrained"),
        ("i3d_nl_embedded", "model.backbone.pretrained"),
        ("slowonly", "model.backbone.pretrained"),
        ("slowfast", "model.backbone.slow_pathway.pretrained"),
    ],
)
def test_inflation_of_a_2d_resnet_matches_mmaction2(art: Path, name: str, key: str) -> None:
    """A torchvision ResNet-50 file inflated by ethoclip = the same file inflated by MMAction2.

    Non-local blocks and SlowFast's laterals and fast pathway have no 2D counterpart: they keep
    their random init on both sides and are left out; everything else must be equal.
    """
    model = ethoclip_model(name, **{key: str(art / "resnet50_2d.pth")})
    want = np.load(art / f"inflated_{name}.npz")  # conv kernels: their first two filters
    got = model.state_dict()
    inflated = [
        k
        for k in want.files
        if "non_local" not in k and "lateral" not in k and "fast_path" not in k
    ]
    assert len(inflated) > 300  # every conv and BN of a ResNet-50
    two_d = torch.load(art / "resnet50_2d.pth", weights_only=True)
    for k in inflated:
        ours = got[k][:2] if got[k].dim() >= 2 else got[k]
        assert_close(ours.float(), torch.from_numpy(want[k]).float(), 1e-6, k)
    # the stem's kernel is the 2D one repeated over time and divided by the temporal size
    stem = got[
        "backbone.slow_path.conv1.conv.weight"
        if name == "slowfast"
        else "backbone.conv1.conv.weight"
    ]
    expected = two_d["conv1.weight"].unsqueeze(2).expand_as(stem) / stem.shape[2]
    assert torch.allclose(stem, expected)


def test_torchvision_model_names_resolve_as_mmengine(art: Path) -> None:
    """``torchvision://resnet50`` (the I3D configs' pretrained) names MMEngine's URL."""
    from ethoclip.models._weights import _torchvision_url

    for name, url in json.loads((art / "torchvision_models.json").read_text()).items():
        assert _torchvision_url(name) == url, name


def test_wheel_configs_of_the_3d_families_build() -> None:
    """Every recognition config of these families builds (on the meta device: no memory)."""
    families = ("i3d", "slowonly", "slowfast", "csn", "r2plus1d", "c3d")
    files = [f for fam in families for f in sorted((configs_dir() / R / fam).glob("*.py"))]
    assert len(files) == 33
    for file in files:
        cfg = Config.fromfile(file, cfg_options={"model.backbone.pretrained": None})
        with torch.device("meta"):
            model = build_recognizer(cfg.model)
        assert model.cls_head.in_channels == model.backbone.out_channels, file.name


def small_3d(**backbone: Any) -> Any:
    cfg = {
        "type": "Recognizer3D",
        "backbone": {"type": "ResNet3d", "depth": 18, "base_channels": 8, "pretrained2d": False}
        | backbone,
        "cls_head": {"type": "I3DHead", "num_classes": 3, "average_clips": "prob"},
    }
    return cfg


def test_max_testing_views_scores_the_views_in_chunks_with_the_same_result() -> None:
    torch.manual_seed(0)
    whole = build_recognizer(small_3d()).eval()
    chunked = build_recognizer({**small_3d(), "test_cfg": {"max_testing_views": 2}}).eval()
    chunked.load_state_dict(whole.state_dict())
    x = torch.randint(0, 256, (1, 5, 3, 4, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(whole.predict(x), chunked.predict(x), atol=1e-6)
    with pytest.raises(ConfigError, match=r"model\.test_cfg: is not used"):
        build_recognizer({**small_3d(), "test_cfg": {"fcn_test": True}})


def test_mmaction2_3d_arguments_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"pretrained2d: must be False"):
        build_recognizer(
            small_3d(type="ResNet2Plus1d", conv_cfg={"type": "Conv2plus1d"}, pretrained2d=True)
        )
    with pytest.raises(ConfigError, match=r"conv_cfg: must be dict\(type='Conv2plus1d'\)"):
        build_recognizer(small_3d(type="ResNet2Plus1d"))
    with pytest.raises(ConfigError, match=r"norm_cfg: type must be one of BN3d, SyncBN"):
        build_recognizer(small_3d(norm_cfg={"type": "GN"}))
    with pytest.raises(ConfigError, match=r"inflat: is not an argument of ResNet3d"):
        build_recognizer(small_3d(type="ResNet3dSlowOnly", inflat=(0, 0, 1, 1)))
    with pytest.raises(ConfigError, match=r"speed_ratio: must divide resample_rate 8 \(got 3\)"):
        build_recognizer(
            {
                "type": "Recognizer3D",
                "backbone": {"type": "ResNet3dSlowFast", "speed_ratio": 3},
                "cls_head": {"type": "SlowFastHead", "num_classes": 3},
            }
        )
    with pytest.raises(ConfigError, match=r"bottleneck_mode: must be 'ip' or 'ir'"):
        build_recognizer(
            small_3d(type="ResNet3dCSN", depth=50, pretrained=None, bottleneck_mode="xx")
        )


def test_frozen_stages_freeze_the_stem_stages_and_their_laterals_from_the_start() -> None:
    from ethoclip.registry import MODELS

    slow = {"type": "resnet3d", "depth": 50, "pretrained": None, "lateral": True}
    slow |= {"conv1_kernel": (1, 7, 7), "inflate": (0, 0, 1, 1), "frozen_stages": 2}
    with torch.device("meta"):
        net = MODELS.build({"type": "ResNet3dSlowFast", "slow_pathway": slow}, key="backbone")
    frozen = {k for k, p in net.named_parameters() if not p.requires_grad}
    assert frozen == {
        k
        for k, _ in net.named_parameters()
        if k.startswith(("slow_path.conv1.", "slow_path.layer1", "slow_path.layer2"))
    }
    assert "slow_path.layer2_lateral.conv.weight" in frozen
    assert "slow_path.conv1_lateral.conv.weight" not in frozen  # as MMAction2: not a stage's


def test_with_cp_and_norm_eval_keep_the_maths() -> None:
    """Checkpointing recomputes blocks in backward: same loss and gradients; ``norm_eval``
    keeps BN statistics fixed while training."""
    torch.manual_seed(0)
    plain = build_recognizer(small_3d())
    cp = build_recognizer(small_3d(with_cp=True, norm_eval=True))
    cp.load_state_dict(plain.state_dict())
    cp.train()  # norm_eval: its BNs stay in eval mode
    for m in plain.modules():  # by hand on the other side
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    for m in [*plain.modules(), *cp.modules()]:  # dropout is random: off
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    x = torch.randint(0, 256, (2, 1, 3, 4, 32, 32), dtype=torch.uint8)
    labels = torch.tensor([0, 2])
    before = {k: v.clone() for k, v in cp.state_dict().items() if "running_" in k}
    for model in (plain, cp):
        model.loss(x, labels).backward()
    for (name, p), q in zip(plain.named_parameters(), cp.parameters(), strict=True):
        assert p.grad is not None and q.grad is not None
        assert torch.allclose(p.grad, q.grad, rtol=1e-4, atol=1e-7), name
    assert all(torch.equal(cp.state_dict()[k], v) for k, v in before.items())
