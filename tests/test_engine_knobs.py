"""The model knobs a config can set, each tested by what it does (not by being accepted):
frozen stages, ``norm_eval``, ``partial_bn``, ``with_cp``, label smoothing, class weights and
``pos_weight``; and every registry entry's ``module:attr`` target loads.

Backbones are reached through the registry by type name and tested on the knobs their class
takes, so a rewritten backbone keeps being tested by the same rules.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ethoclip import registry
from ethoclip.registry import MODELS
from ethoclip.registry._static import static_params

# Small members of each family that has the knobs, and an input for each.
# (MMAction2's 2D ResNet checkpoints only Bottleneck blocks, as MMAction2 does: depth 50.)
BACKBONES: dict[str, tuple[dict[str, Any], tuple[int, ...]]] = {
    "ResNet": ({"depth": 50}, (2, 3, 32, 32)),
    "ResNet3d": ({"depth": 18, "base_channels": 8, "pretrained2d": False}, (2, 3, 4, 32, 32)),
    "ResNet2Plus1d": (
        {
            "depth": 18,
            "base_channels": 8,
            "pretrained2d": False,
            "conv_cfg": {"type": "Conv2plus1d"},
        },
        (2, 3, 4, 32, 32),
    ),
}


def backbone(name: str, knob: str, **knobs: Any) -> tuple[nn.Module, torch.Tensor]:
    args, shape = BACKBONES[name]
    cls = MODELS.get(name)
    takes = static_params(f"{cls.__module__}:{cls.__qualname__}")  # **kwargs followed to bases
    if takes is None or knob not in takes.accepted:
        pytest.skip(f"{name}: {knob} is not among the arguments read from its source")
    torch.manual_seed(0)
    model = MODELS.build({"type": name, **args, **knobs}, key="backbone")
    return model.train(), torch.randn(*shape)


def bn_stats(model: nn.Module) -> dict[str, torch.Tensor]:
    return {
        f"{name}.{buf}": getattr(m, buf).clone()
        for name, m in model.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
        for buf in ("running_mean", "running_var")
    }


def step(model: nn.Module, x: torch.Tensor) -> None:
    model(x).float().square().mean().backward()


@pytest.mark.parametrize("name", BACKBONES)
def test_frozen_stages_get_no_gradient_and_keep_their_statistics(name: str) -> None:
    model, x = backbone(name, "frozen_stages", frozen_stages=1)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen and len(frozen) < len(list(model.parameters()))
    before = bn_stats(model)
    step(model, x)
    for n, p in model.named_parameters():
        assert (p.grad is None) == (n in frozen), n
    after = bn_stats(model)
    frozen_bns = {k for k in before if f"{k.rsplit('.', 1)[0]}.weight" in frozen}
    assert frozen_bns and all(torch.equal(before[k], after[k]) for k in frozen_bns)
    assert any(not torch.equal(before[k], after[k]) for k in before.keys() - frozen_bns)


@pytest.mark.parametrize("name", BACKBONES)
def test_norm_eval_keeps_every_batchnorm_statistic(name: str) -> None:
    model, x = backbone(name, "norm_eval", norm_eval=True)
    before = bn_stats(model)
    step(model, x)
    after = bn_stats(model)
    assert before and all(torch.equal(before[k], after[k]) for k in before)
    # …while the BN weights still learn: norm_eval fixes statistics, not parameters.
    assert all(p.grad is not None for p in model.parameters())
    plain, _ = backbone(name, "norm_eval", norm_eval=False)
    step(plain, x)
    assert any(not torch.equal(before[k], v) for k, v in bn_stats(plain).items())


@pytest.mark.parametrize("name", BACKBONES)
def test_partial_bn_keeps_all_but_the_first_batchnorm(name: str) -> None:
    model, x = backbone(name, "partial_bn", partial_bn=True)
    before = bn_stats(model)
    step(model, x)
    after = bn_stats(model)
    first = next(iter(before)).rsplit(".", 1)[0]
    changed = {k.rsplit(".", 1)[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {first}


@pytest.mark.parametrize("name", BACKBONES)
def test_with_cp_gives_the_same_gradients(name: str) -> None:
    grads = []
    for with_cp in (False, True):
        model, x = backbone(name, "with_cp", with_cp=with_cp)
        x.requires_grad_(True)
        step(model, x)
        grads.append([p.grad for p in model.parameters()] + [x.grad])
    for plain, checkpointed in zip(*grads, strict=True):
        torch.testing.assert_close(checkpointed, plain, rtol=1e-5, atol=1e-7)


def head(loss_cls: dict[str, Any], eps: float, multi: bool) -> Any:
    return MODELS.build(
        {
            "type": "I3DHead",
            "num_classes": 3,
            "in_channels": 4,
            "loss_cls": loss_cls,
            "label_smooth_eps": eps,
            "multi_class": multi,
        },
        key="cls_head",
    )


def test_label_smoothing_and_class_weights_match_mmaction2(mmaction2_oracle: Any) -> None:
    art = json.loads((Path(mmaction2_oracle("head_losses")) / "losses.json").read_text())
    logits = torch.tensor(art["logits"])
    single, multi = torch.tensor(art["single"]), torch.tensor(art["multi"])
    cases = {
        "ce": ({"type": "CrossEntropyLoss"}, 0.0, False),
        "ce_smooth": ({"type": "CrossEntropyLoss"}, 0.1, False),
        "ce_weight": ({"type": "CrossEntropyLoss", "class_weight": [1.0, 2.0, 0.5]}, 0.0, False),
        "ce_weight_smooth": (
            {"type": "CrossEntropyLoss", "class_weight": [1.0, 2.0, 0.5]},
            0.1,
            False,
        ),
        "bce": ({"type": "BCELossWithLogits"}, 0.0, True),
        "bce_smooth": ({"type": "BCELossWithLogits"}, 0.1, True),
        "bce_weight": ({"type": "BCELossWithLogits", "class_weight": [1.0, 2.0, 0.5]}, 0.0, True),
    }
    for name, (loss_cls, eps, is_multi) in cases.items():
        got = head(loss_cls, eps, is_multi).loss(logits, multi if is_multi else single)
        assert float(got) == pytest.approx(art["losses"][name], rel=1e-6), name


def test_label_smoothing_changes_the_loss_by_the_expected_amount() -> None:
    """Cross-entropy on targets smoothed toward uniform: (1 − ε)·CE + ε·mean_k(−log p_k)."""
    logits, labels, eps = torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([0]), 0.1
    logp = torch.log_softmax(logits, -1)[0].tolist()  # ≈ [-0.241, -3.241, -1.741]
    plain = -logp[0]
    expected = (1 - eps) * plain + eps * sum(-v for v in logp) / 3
    ce = head({"type": "CrossEntropyLoss"}, 0.0, False).loss(logits, labels)
    smoothed = head({"type": "CrossEntropyLoss"}, eps, False).loss(logits, labels)
    assert float(ce) == pytest.approx(plain)
    assert float(smoothed) == pytest.approx(expected)
    assert float(smoothed) - float(ce) == pytest.approx(eps * (sum(-v for v in logp) / 3 - plain))
    # Multi-label: the target 1 becomes 1 − ε + ε/K and 0 becomes ε/K, per class.
    z, t = torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([[1.0, 0.0, 1.0]])
    smooth_t = [1 - eps + eps / 3, eps / 3, 1 - eps + eps / 3]
    sig = [1 / (1 + math.exp(-v)) for v in z[0].tolist()]
    by_hand = -sum(
        ti * math.log(s) + (1 - ti) * math.log(1 - s) for ti, s in zip(smooth_t, sig, strict=True)
    )
    got = head({"type": "BCELossWithLogits"}, eps, True).loss(z, t)
    assert float(got) == pytest.approx(by_hand / 3)


def test_class_weight_and_pos_weight_scale_each_term() -> None:
    z, t = torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([[1.0, 0.0, 1.0]])
    sig = [1 / (1 + math.exp(-v)) for v in z[0].tolist()]
    pos = [-math.log(s) for s in sig]  # the term of a positive target
    neg = [-math.log(1 - s) for s in sig]  # …of a negative one
    terms = [pos[0], neg[1], pos[2]]
    weighted = head({"type": "BCELossWithLogits", "class_weight": [1.0, 2.0, 0.5]}, 0.0, True)
    assert float(weighted.loss(z, t)) == pytest.approx(
        (terms[0] + 2 * terms[1] + 0.5 * terms[2]) / 3
    )
    # pos_weight multiplies only the positives' terms: classes 0 and 2 here, not class 1.
    pw = head({"type": "BCELossWithLogits", "pos_weight": [3.0, 5.0, 2.0]}, 0.0, True)
    assert float(pw.loss(z, t)) == pytest.approx((3 * terms[0] + terms[1] + 2 * terms[2]) / 3)
    # Single-label: the mean over samples weighted by their class's weight (torch's rule).
    logits, labels = torch.tensor([[2.0, -1.0, 0.5], [0.3, 1.2, -0.7]]), torch.tensor([0, 2])
    logp = torch.log_softmax(logits, -1)
    w = [1.0, 2.0, 0.5]
    expected = (w[0] * -logp[0, 0] + w[2] * -logp[1, 2]) / (w[0] + w[2])
    ce = head({"type": "CrossEntropyLoss", "class_weight": w}, 0.0, False)
    assert float(ce.loss(logits, labels)) == pytest.approx(float(expected))


def test_every_registry_entry_loads() -> None:
    """Each name's ``module:attr`` target imports: a typo in the table fails here, not in a
    user's run."""
    registries = [r for r in vars(registry).values() if isinstance(r, registry.Registry)]
    assert len(registries) >= 8
    for reg in registries:
        for entry in reg.entries(include_fallback=False):
            assert callable(entry.load()), f"{reg.name}: {entry.name} → {entry.target}"


def test_no_import_runs_back_up_to_the_cli() -> None:
    """Imports point one way: cli → engine/inference → models/data → config → dataset. (The
    entry points, ``_entry.py`` and ``__main__.py``, sit above the cli and start it.)"""
    src = Path(__file__).resolve().parents[1] / "src" / "ethoclip"
    upward = [
        f"{path.relative_to(src)}:{number}"
        for path in src.rglob("*.py")
        if path.relative_to(src).parts[0] not in ("cli", "_entry.py", "__main__.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "from ..cli" in line or "ethoclip.cli" in line
    ]
    assert not upward, upward
