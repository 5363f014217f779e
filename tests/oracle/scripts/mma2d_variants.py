"""Variants of MMAction2's 2D configs that the main script (``mma2d.py``) does not cover: TSM's
``shift_place='block'`` with ``temporal_pool`` (ResNet-18, TSMHead temporal_pool), and the
non-local TSMs' other modes (the wheel's dot-product and Gaussian configs). Same artefacts
per case as ``mma2d.py``, plus ``overrides.json`` (what was changed in the config).
"""

from __future__ import annotations

import _mma
import mma2d
import numpy as np
import torch

TSM = "recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py"
VARIANTS = {
    "tsm_block_tpool": (
        TSM,
        {
            "model.backbone.depth": 18,
            "model.backbone.shift_place": "block",
            "model.backbone.temporal_pool": True,
            "model.cls_head.in_channels": 512,
            "model.cls_head.temporal_pool": True,
        },
    ),
    "tsm_nl_dot": (
        "recognition/tsm/"
        "tsm_imagenet-pretrained-r50-nl-dot-product_8xb16-1x1x8-50e_kinetics400-rgb.py",
        {},
    ),
    "tsm_nl_gaussian": (
        "recognition/tsm/tsm_imagenet-pretrained-r50-nl-gaussian_8xb16-1x1x8-50e_kinetics400-rgb.py",
        {},
    ),
}


def run(out, name: str, rel: str, overrides: dict) -> None:
    from mmaction.structures import ActionDataSample

    folder = out / name
    folder.mkdir()
    cfg = mma2d.model_cfg(rel)
    for dotted, value in overrides.items():
        *path, last = dotted.split(".")[1:]  # below 'model'
        node = cfg
        for part in path:
            node = node[part]
        node[last] = value
    _mma.save(folder, "overrides", {"config": rel, **overrides})
    model = _mma.build_model(cfg, seed=0)
    _mma.save_checkpoint(model, folder / "checkpoint.pth")
    _mma.save(folder, "keys", [[k, list(v.shape)] for k, v in model.state_dict().items()])
    raw, x = mma2d.inputs(cfg, False)
    _mma.save(folder, "input", raw)
    model.eval()
    with torch.no_grad():
        scores, _ = model.extract_feat(x, stage="head")
    _mma.save(folder, "eval_scores", scores)
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    labels = torch.arange(mma2d.BATCH) % 5
    samples = [ActionDataSample().set_gt_label(int(label)) for label in labels]
    np.random.seed(1)
    losses = model.loss(x, samples)
    sum(v for k, v in losses.items() if "loss" in k).backward()
    _mma.save(folder, "labels", labels)
    _mma.save(folder, "losses", {k: float(v) for k, v in losses.items() if "loss" in k})
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    _mma.save(folder, "grad_norms", {n: float(g.norm()) for n, g in grads.items()})
    kept = [n for n in mma2d.FULL_GRADS if n in grads]
    for i, n in enumerate(kept):
        _mma.save(folder, f"grad_{i}", grads[n])
    _mma.save(folder, "grad_names", kept)


def main() -> None:
    out, _ = _mma.args()
    torch.set_num_threads(2)
    for name, (rel, overrides) in VARIANTS.items():
        run(out, name, rel, overrides)
    _mma.save(out, "cases", {name: rel for name, (rel, _) in VARIANTS.items()})
    _mma.done(out)


if __name__ == "__main__":
    main()
