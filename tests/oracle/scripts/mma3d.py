"""MMAction2's 3D CNN recognizers (I3D, non-local I3D, SlowOnly, SlowFast, CSN, R(2+1)D, C3D),
built from the wheel's own config files, for tests/test_mma_3d.py.

Per case: MMAction2's model (``pretrained=None``, its own seeded init) saved by MMEngine, the
state-dict keys and shapes, a fixed uint8 clip batch, its eval outputs (backbone features,
head logits, ``predict`` scores), and every parameter's gradient after one training-mode loss
(its head's loss; dropout off on both sides, BN in training mode). Then 2D→3D inflation:
a random torchvision ResNet-50 state dict in a file, which MMAction2 inflates via
``pretrained=<file>``; the inflated backbones are saved (conv kernels' first two filters).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from _mma import args, build_model, done, load_config, save, save_checkpoint

R = "recognition/"
# case → (config file in the wheel, MMEngine-style overrides besides pretrained=None, frames)
CASES = {
    "i3d": (R + "i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py", {}, 8),
    "i3d_nl_embedded": (
        R
        + "i3d/i3d_imagenet-pretrained-r50-nl-embedded-gaussian_8xb8-32x2x1-100e_kinetics400-rgb.py",
        {},
        8,
    ),
    "i3d_nl_gaussian": (
        R + "i3d/i3d_imagenet-pretrained-r50-nl-gaussian_8xb8-32x2x1-100e_kinetics400-rgb.py",
        {},
        8,
    ),
    "i3d_nl_dot": (
        R + "i3d/i3d_imagenet-pretrained-r50-nl-dot-product_8xb8-32x2x1-100e_kinetics400-rgb.py",
        {},
        8,
    ),
    "slowonly": (R + "slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py", {}, 4),
    "slowfast": (R + "slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py", {}, 8),
    "ircsn": (
        R + "csn/ircsn_ig65m-pretrained-r50-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb.py",
        {},
        8,
    ),
    # ip-CSN's only configs are R152; depth 50 keeps the artifacts small (same code path)
    "ipcsn": (R + "csn/ipcsn_r152_32x2x1-180e_kinetics400-rgb.py", {"backbone.depth": 50}, 8),
    "r2plus1d": (R + "r2plus1d/r2plus1d_r34_8xb8-32x2x1-180e_kinetics400-rgb.py", {}, 8),
    # 16×32×32 clips give 512×1×2×2 features after pool5 (MMAction2's 8192 is for 112×112)
    "c3d": (
        R + "c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py",
        {"backbone.out_dim": 2048},
        16,
    ),
}
SIZE = 32
EVAL_VIEWS = 3  # one sample, three views: average_clips='prob' averages their softmaxes
TRAIN_BATCH = 3  # three one-view samples for the training step


def set_path(cfg: dict, dotted: str, value: object) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        cfg = cfg[p]
    cfg[leaf] = value


def model_cfg(rel: str, overrides: dict) -> dict:
    cfg = load_config(rel)
    model = copy.deepcopy(cfg.model.to_dict() if hasattr(cfg.model, "to_dict") else dict(cfg.model))
    set_path(model, "backbone.pretrained", None)
    for key, value in overrides.items():
        set_path(model, key, value)
    return model


def clips(n: int, views: int, frames: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, views, 3, frames, SIZE, SIZE), generator=g, dtype=torch.uint8)


def flat(value: object) -> list[torch.Tensor]:
    return list(value) if isinstance(value, (tuple, list)) else [value]  # type: ignore[list-item]


def calibrate_bn(model, x: torch.Tensor) -> None:
    """BN statistics of one batch (fresh ones are mean 0, variance 1: a random R50 in eval
    mode then overflows — MMAction2's dot-product non-local I3D gives NaN everywhere)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    model.train()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average: after one batch, that batch's statistics
    with torch.no_grad():
        data = model.data_preprocessor({"inputs": list(x), "data_samples": []}, False)
        model.backbone(data["inputs"].view((-1, *data["inputs"].shape[2:])))
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum


def run_case(out, name: str, rel: str, overrides: dict, frames: int) -> None:
    from mmaction.structures import ActionDataSample
    from mmengine.model import revert_sync_batchnorm

    cfg = model_cfg(rel, overrides)
    model = revert_sync_batchnorm(build_model(cfg, seed=0))  # SyncBN needs a process group
    calibrate_bn(model, clips(2, 2, frames, seed=3))
    save_checkpoint(model, out / f"{name}.pth")
    save(out, f"{name}_keys", {k: list(v.shape) for k, v in model.state_dict().items()})

    # eval: backbone features, logits, and the recognizer's scores (average_clips)
    model.eval()
    x = clips(1, EVAL_VIEWS, frames, seed=1)
    save(out, f"{name}_eval_input", x)
    samples = [ActionDataSample() for _ in range(x.shape[0])]
    with torch.no_grad():
        data = model.data_preprocessor({"inputs": list(x), "data_samples": samples}, False)
        inputs = data["inputs"].view((-1, *data["inputs"].shape[2:]))
        feats = flat(model.backbone(inputs))
        for i, f in enumerate(feats):
            save(out, f"{name}_feat{i}", f)
        save(out, f"{name}_logits", model.cls_head(feats[0] if len(feats) == 1 else tuple(feats)))
        predicted = model(**data, mode="predict")
        save(out, f"{name}_scores", torch.stack([s.pred_score for s in predicted]))

    # one training-mode loss: BN uses batch statistics; dropout off (random on both sides).
    # In float64: BN over 3 clips of 1×1×1 features (the last stage at 32×32) magnifies
    # float32 rounding ~1e4× (MMAction2's own loss moves 1.5e-3 between 1 and 2 threads).
    model.double()
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    x = clips(TRAIN_BATCH, 1, frames, seed=2)
    labels = torch.tensor([3, 0, 7])
    save(out, f"{name}_train_input", x)
    save(out, f"{name}_train_labels", labels)
    samples = [ActionDataSample().set_gt_label(int(k)) for k in labels]
    data = model.data_preprocessor({"inputs": list(x), "data_samples": samples}, True)
    data["inputs"] = data["inputs"].double()
    losses = model(**data, mode="loss")
    loss = losses["loss_cls"]
    loss.backward()
    save(out, f"{name}_loss", loss)
    # stored in float32 (half the disk; 6e-8 relative is far below the test's 1e-6)
    grads = {k: p.grad.float().numpy() for k, p in model.named_parameters() if p.grad is not None}
    np.savez(out / f"{name}_grads.npz", **grads)
    save(out, f"{name}_no_grad", [k for k, p in model.named_parameters() if p.grad is None])
    # running statistics after the step (BN momentum and unbiased variance)
    np.savez(
        out / f"{name}_buffers.npz",
        **{k: v.numpy() for k, v in model.state_dict().items() if "running_" in k},
    )


def random_resnet50(path) -> None:
    """A torchvision ResNet-50 with random weights and BN statistics, in torchvision's format."""
    import torchvision

    torch.manual_seed(5)
    net = torchvision.models.resnet50(weights=None)
    state = net.state_dict()
    g = torch.Generator().manual_seed(6)
    for k, v in state.items():
        if v.dtype.is_floating_point:
            state[k] = torch.randn(v.shape, generator=g) * 0.05 + (
                1.0 if "running_var" in k else 0.0
            )
            if "running_var" in k:
                state[k] = state[k].abs()
    torch.save(state, path)


def inflation(out) -> None:
    file = out / "resnet50_2d.pth"
    random_resnet50(file)
    for name, rel, key in [
        ("i3d", CASES["i3d"][0], "backbone.pretrained"),
        ("i3d_nl_embedded", CASES["i3d_nl_embedded"][0], "backbone.pretrained"),
        ("slowonly", CASES["slowonly"][0], "backbone.pretrained"),
        ("slowfast", CASES["slowfast"][0], "backbone.slow_pathway.pretrained"),
    ]:
        cfg = model_cfg(rel, {})
        set_path(cfg, key, str(file))
        model = build_model(cfg, seed=0)
        # every backbone tensor; of conv kernels the first two output channels (all input
        # channels, the whole kernel: what the inflation rule touches), to keep this small
        state = model.state_dict()
        np.savez(
            out / f"inflated_{name}.npz",
            **{
                k: (v[:2] if v.dim() >= 2 else v).numpy()
                for k, v in state.items()
                if k.startswith("backbone.")
            },
        )


def main() -> None:
    out, _ = args()
    torch.set_num_threads(2)
    from mmengine.runner.checkpoint import get_torchvision_models

    save(
        out,
        "torchvision_models",
        {k: v for k, v in get_torchvision_models().items() if k.startswith("resnet")},
    )
    for name, (rel, overrides, frames) in CASES.items():
        run_case(out, name, rel, overrides, frames)
    inflation(out)
    done(out)


if __name__ == "__main__":
    main()
