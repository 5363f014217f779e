"""MMAction2's UniFormerV2, UniFormer and X3D from the wheel's configs, for tests/test_mma_uni.py.

Params: ``{case: {"config": rel, "options": {dotted: value}, "views": V}}``; the options shrink
the model (the test applies the same ones through ethoclip's cfg_options). For each case:
the fresh model's per-tensor init statistics, then the weights perturbed (so zero-initialised
branches compute something) and saved as an MMEngine checkpoint, the keys with shapes, a uint8
input, eval-mode logits and averaged scores, and the gradients of one cross-entropy step.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from _mma import args, build_model, done, load_config, save, save_checkpoint


def init_stats(model: torch.nn.Module) -> dict[str, list[float]]:
    stats = {}
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            v = value.double()
            stats[key] = [v.mean().item(), v.std().item() if v.numel() > 1 else 0.0, v.numel()]
    return stats


@torch.no_grad()
def perturb(model: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    for name, b in model.named_buffers():
        if name.endswith("running_mean"):
            b.copy_(torch.randn(b.shape, generator=gen) * 0.1)
        elif name.endswith("running_var"):
            b.copy_(torch.rand(b.shape, generator=gen) + 0.5)


def run_case(out, name: str, case: dict) -> None:
    cfg = load_config(case["config"])
    cfg.merge_from_dict(case["options"])
    model = build_model(cfg.model, seed=0)
    save(out, f"{name}_init", init_stats(model))
    perturb(model, seed=1)
    save_checkpoint(model, out / f"{name}.pth")
    save(out, f"{name}_keys", {k: list(v.shape) for k, v in model.state_dict().items()})

    gen = torch.Generator().manual_seed(2)
    shape = case["input"]  # (N, V, C, T, H, W)
    inputs = torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8)
    save(out, f"{name}_input", inputs)
    n, views = shape[:2]

    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor({"inputs": list(inputs), "data_samples": None}, False)
        x = data["inputs"].flatten(0, 1)  # (N·V, C, T, H, W), as Recognizer3D.extract_feat
        logits = model.cls_head(model.backbone(x))
        scores = model.cls_head.average_clip(logits, num_segs=views)
    save(out, f"{name}_logits", logits.reshape(n, views, -1))
    save(out, f"{name}_scores", scores)

    model.train()
    train_inputs = inputs[:, :1]
    labels = torch.arange(n) % case["options"]["model.cls_head.num_classes"]
    data = model.data_preprocessor({"inputs": list(train_inputs), "data_samples": None}, True)
    logits = model.cls_head(model.backbone(data["inputs"].flatten(0, 1)))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    save(out, f"{name}_loss", loss.detach())
    grads = {k: p.grad.numpy() for k, p in model.named_parameters() if p.grad is not None}
    np.savez(out / f"{name}_grads.npz", **grads)


def main() -> None:
    out, params = args()
    torch.set_num_threads(2)
    for name, case in params.items():
        run_case(out, name, case)
    done(out)


if __name__ == "__main__":
    main()
