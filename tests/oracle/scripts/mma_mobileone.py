"""MMAction2's MobileOneTSM (on mmpretrain's MobileOne) from the wheel's two s4 configs, run
for real; ethoclip's ``tests/test_mma_mobileone.py`` compares.

``tsm_mobileone/`` (MobileOneTSM) and ``tsn_mobileone/`` (TSN on ``mmpretrain.MobileOne``):
the training-time config (``init_cfg`` off), seeded build with every BN affine and statistic
drawn at random (so fusing them is not the identity) and a wider classifier, MMAction2's checkpoint and key list, a
fixed uint8 input, eval scores and one training step (dropout off). ``<case>/deploy/``: that
model after ``backbone.switch_to_deploy()`` (MMAction2's tools/convert/reparameterize_model.py
does this), its checkpoint and eval scores, and the deploy config (``deploy=True``) built by
MMAction2 with that checkpoint loaded strictly.
``pretrained2d/``: a random 2D mmpretrain MobileOne-s4 checkpoint (``backbone.*`` plus a
head), read through ``init_cfg`` by MMAction2's own loader; the backbone it made, and that
backbone reparameterised. MMAction2's deploy config refuses that training-time file: the
error is kept.
"""

from __future__ import annotations

import copy

import _mma
import numpy as np
import torch

CONFIG = "recognition/tsm/tsm_imagenet-pretrained-mobileone-s4_8xb16-1x1x16-50e_kinetics400-rgb.py"
DEPLOY = (
    "recognition/tsm/"
    "tsm_imagenet-pretrained-mobileone-s4_deploy_8xb16-1x1x16-50e_kinetics400-rgb.py"
)
# TSN with mmpretrain's own MobileOne as the backbone (type='mmpretrain.MobileOne').
TSN = "recognition/tsn/custom_backbones/"
TSN_CONFIG = TSN + "tsn_imagenet-pretrained-mobileone-s4_8xb32-1x1x8-100e_kinetics400-rgb.py"
TSN_DEPLOY = TSN + "tsn_imagenet-pretrained-mobileone-s4_deploy_8xb32-1x1x8-100e_kinetics400-rgb.py"
SIZE, BATCH = 32, 1
# Parameters whose whole gradient is kept ({w}: TSM's shift wrapper, ``net.``).
FULL_GRADS = (
    "backbone.stage0.{w}branch_conv_list.0.conv.weight",
    "backbone.stage0.{w}branch_scale.norm.weight",
    "backbone.stage1.3.{w}branch_norm.weight",
    "backbone.stage3.19.{w}se.conv1.conv.weight",
    "backbone.stage4.1.{w}branch_conv_list.0.conv.weight",
    "cls_head.fc_cls.weight",
)


def model_cfg(rel: str, checkpoint: str | None = None) -> dict:
    cfg = copy.deepcopy(_mma.load_config(rel).model)
    if checkpoint is None:
        cfg.backbone.init_cfg = None
        if cfg.backbone.type == "MobileOneTSM":
            cfg.backbone.pretrained2d = False  # MMAction2 insists on an init_cfg otherwise
    else:
        cfg.backbone.init_cfg.checkpoint = checkpoint
    return cfg


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Random BN affines and statistics; a classifier drawn wide enough that the scores are
    of order 1 (MMAction2's init_std gives ~0.01, which would make |Δ| ≤ 1e-4 lax)."""
    g = torch.Generator().manual_seed(seed)
    model.cls_head.fc_cls.weight.data.normal_(0.0, 0.05, generator=g)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean = torch.randn(n, generator=g) * 0.1
            m.running_var = torch.rand(n, generator=g) + 0.5


def inputs(cfg: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (N, segments, C, H, W) and what MMAction2's preprocessor makes of it."""
    # TSM: the head's 16 (the backbone shifts within 8); TSN: the configs' 8 clips.
    segments = cfg.cls_head.get("num_segments", 8)
    g = torch.Generator().manual_seed(7)
    raw = torch.randint(0, 256, (BATCH, segments, 3, SIZE, SIZE), generator=g, dtype=torch.uint8)
    pre = cfg.data_preprocessor
    mean = torch.tensor(pre.mean, dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(pre.std, dtype=torch.float32).view(-1, 1, 1)
    return raw, (raw.float() - mean) / std


def eval_scores(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        scores, _ = model.extract_feat(x, stage="head")
    return scores


def save_keys(folder, model: torch.nn.Module) -> None:
    _mma.save(folder, "keys", [[k, list(v.shape)] for k, v in model.state_dict().items()])


def run_training_config(out, name: str, rel: str, deploy_rel: str) -> None:
    from mmaction.structures import ActionDataSample

    folder = out / name
    folder.mkdir()
    cfg = model_cfg(rel)
    model = _mma.build_model(cfg, seed=0)
    randomise(model, seed=1)
    _mma.save_checkpoint(model, folder / "checkpoint.pth")
    save_keys(folder, model)
    raw, x = inputs(cfg)
    _mma.save(folder, "input", raw)
    _mma.save(folder, "eval_scores", eval_scores(model, x))
    run_deploy(out / name / "deploy", copy.deepcopy(model), x, deploy_rel)

    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    labels = torch.arange(BATCH) % 5
    samples = [ActionDataSample().set_gt_label(int(label)) for label in labels]
    losses = model.loss(x, samples)
    total = sum(v for k, v in losses.items() if "loss" in k)
    total.backward()
    _mma.save(folder, "labels", labels)
    _mma.save(folder, "losses", {k: float(v) for k, v in losses.items() if "loss" in k})
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    _mma.save(folder, "grad_norms", {n: float(g.norm()) for n, g in grads.items()})
    wrapped = "net." if cfg.backbone.type == "MobileOneTSM" else ""
    kept = [n.format(w=wrapped) for n in FULL_GRADS]
    assert all(n in grads for n in kept), sorted(set(kept) - set(grads))
    for i, n in enumerate(kept):
        _mma.save(folder, f"grad_{i}", grads[n])
    _mma.save(folder, "grad_names", kept)


def run_deploy(folder, model: torch.nn.Module, x: torch.Tensor, deploy_rel: str) -> None:
    folder.mkdir()
    model.eval()
    model.backbone.switch_to_deploy()
    _mma.save_checkpoint(model, folder / "checkpoint.pth")
    save_keys(folder, model)
    _mma.save(folder, "eval_scores", eval_scores(model, x))
    # The deploy config, as MMAction2 tests it: built fused, the fused checkpoint loaded.
    deployed = _mma.build_model(model_cfg(deploy_rel), seed=0)
    _mma.save(folder, "config_keys", [[k, list(v.shape)] for k, v in deployed.state_dict().items()])
    deployed.load_state_dict(model.state_dict(), strict=True)
    _mma.save(folder, "config_eval_scores", eval_scores(deployed, x))


def random_2d_checkpoint(path) -> None:
    """A 2D MobileOne-s4 as mmpretrain's ImageClassifier saves it, every tensor random."""
    from mmpretrain.models import MobileOne

    torch.manual_seed(5)
    state = MobileOne("s4").state_dict()
    for key, value in state.items():
        if key.endswith("running_var"):
            value.uniform_(0.5, 1.5)
        elif key.endswith("num_batches_tracked"):
            value.fill_(7)
        else:
            value.normal_()
    full = {f"backbone.{k}": v for k, v in state.items()}
    full["head.fc.weight"] = torch.randn(1000, 2048)
    full["head.fc.bias"] = torch.randn(1000)
    torch.save({"meta": {"note": "random, for ethoclip's tests"}, "state_dict": full}, path)


def run_pretrained2d(out) -> None:
    folder = out / "pretrained2d"
    folder.mkdir()
    file = folder / "mobileone_s4_2d.pth"
    random_2d_checkpoint(file)
    model = _mma.build_model(model_cfg(CONFIG, str(file)), seed=0)  # init_weights loads it
    backbone = model.backbone
    torch.save(dict(backbone.state_dict()), folder / "tsm_loaded.pth")
    backbone.eval()
    backbone.switch_to_deploy()
    torch.save(dict(backbone.state_dict()), folder / "tsm_loaded_deploy.pth")
    try:
        _mma.build_model(model_cfg(DEPLOY, str(file)), seed=0)
        refused = None
    except Exception as exc:  # what MMAction2 says of a training-time file for deploy=True
        refused = f"{type(exc).__name__}: {str(exc)[:2000]}"
    _mma.save(folder, "deploy_init", {"file": file.name, "refused": refused})


def main() -> None:
    out, _ = _mma.args()
    torch.set_num_threads(2)
    np.random.seed(0)
    run_training_config(out, "tsm_mobileone", CONFIG, DEPLOY)
    run_training_config(out, "tsn_mobileone", TSN_CONFIG, TSN_DEPLOY)
    run_pretrained2d(out)
    configs = {"training": CONFIG, "deploy": DEPLOY, "tsn": TSN_CONFIG, "tsn_deploy": TSN_DEPLOY}
    _mma.save(out, "configs", configs)
    _mma.done(out)


if __name__ == "__main__":
    main()
