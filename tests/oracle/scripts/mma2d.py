"""MMAction2's 2D families (TSN, TSM (+non-local), TSM-MobileNetV2, TIN, TANet, TRN, TPN, C2D)
built from the wheel's configs, run for real; ethoclip's ``tests/test_mma_2d.py`` compares.

Per case (``<case>/``): MMAction2's checkpoint (seeded random init, ``pretrained=None``), its
key list with shapes, a fixed uint8 input, eval-mode class scores, and one training step
(its own loss, TPN's auxiliary loss included; dropout off so the step is deterministic):
the losses, every parameter's gradient norm and the full gradients of a few parameters.

``tv_load/``: random torchvision ResNet state dicts saved as files and loaded by MMAction2's
own loaders (ResNet with ``torchvision_pretrain``, ResNetTSM (+non-local)/ResNetTIN with
``pretrained2d``, TANet); for each, which torchvision tensor landed in which key.

mmcv-lite has no compiled ops, so TIN's ``mmcv.ops.tin_shift`` is supplied here: the CUDA
kernel's forward written out as loops (``out[t + shift] = in[t]``), autograd's gradient.
"""

from __future__ import annotations

import copy
import sys
import types

import _mma
import numpy as np
import torch

SEGMENTS, SIZE, BATCH = 8, 32, 2

CASES = {
    "tsn": "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py",
    "tsm": "recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py",
    "tsm_nl": "recognition/tsm/"
    "tsm_imagenet-pretrained-r50-nl-embedded-gaussian_8xb16-1x1x8-50e_kinetics400-rgb.py",
    "tsm_mobilenetv2": "recognition/tsm/"
    "tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb.py",
    "tin": "recognition/tin/tin_imagenet-pretrained-r50_8xb6-1x1x8-40e_sthv1-rgb.py",
    "tanet": "recognition/tanet/tanet_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py",
    "trn": "recognition/trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb.py",
    "tpn": "recognition/tpn/tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb.py",
    "c2d": "recognition/c2d/c2d_r50-in1k-pre_8xb32-8x8x1-100e_kinetics400-rgb.py",
}
# Parameters whose whole gradient is kept (the rest: norms only), where the model has them.
FULL_GRADS = (
    "backbone.conv1.conv.weight",
    "backbone.layer1.0.conv1.conv.net.weight",
    "backbone.layer1.0.conv1.conv.net1.offset_net.fc2.weight",
    "backbone.layer1.0.conv1.conv.net1.weight_net.conv.weight",
    "backbone.layer2.0.non_local_block.g.conv.weight",
    "backbone.layer1.0.tam.G.0.weight",
    "backbone.layer1.0.tam.L.0.weight",
    "backbone.layer2.1.conv.0.net.conv.weight",
    "backbone.layer4.2.conv3.conv.weight",
    "neck.aux_head.fc.weight",
    "neck.pyramid_fusion.conv.weight",
    "cls_head.fc_cls.weight",
    "cls_head.consensus.fc_fusion_scales.1.1.weight",
)


def tin_shift_loops(data: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """mmcv's tin_shift_forward_cuda_kernel, element for element: (N, T, C, HW), (N, G)."""
    n, t, c, _ = data.shape
    groups = shift.shape[1]
    group_channel = c // groups
    out = torch.zeros_like(data)
    for b in range(n):
        for g in range(groups):  # the kernel's channel j belongs to group j // group_channel
            s = int(shift[b, g])
            channels = slice(g * group_channel, (g + 1) * group_channel)
            for i in range(t):
                if 0 <= i + s < t:
                    out[b, i + s, channels] = data[b, i, channels]
    return out


def patch_tin_shift() -> None:
    ops = types.ModuleType("mmcv.ops")
    ops.tin_shift = tin_shift_loops  # type: ignore[attr-defined]
    sys.modules["mmcv.ops"] = ops


def model_cfg(rel: str, **backbone: object) -> dict:
    cfg = copy.deepcopy(_mma.load_config(rel).model)
    cfg.backbone.pretrained = None
    if cfg.backbone.type in ("ResNetTSM", "ResNetTIN", "MobileNetV2TSM"):
        cfg.backbone.pretrained2d = False  # with pretrained=None MMAction2 would load None
    cfg.backbone.update(backbone)
    return cfg


def inputs(cfg: dict, three_d: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (N, V, C, [T,] H, W) and what MMAction2's preprocessor makes of it."""
    g = torch.Generator().manual_seed(7)
    shape = (BATCH, 1, 3, SEGMENTS, SIZE, SIZE) if three_d else (BATCH, SEGMENTS, 3, SIZE, SIZE)
    raw = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    pre = cfg.data_preprocessor
    view = (-1, 1, 1, 1) if three_d else (-1, 1, 1)
    mean = torch.tensor(pre.mean, dtype=torch.float32).view(view)
    std = torch.tensor(pre.std, dtype=torch.float32).view(view)
    return raw, (raw.float() - mean) / std


def run_case(out, name: str, rel: str) -> None:
    from mmaction.structures import ActionDataSample

    folder = out / name
    folder.mkdir()
    cfg = model_cfg(rel)
    model = _mma.build_model(cfg, seed=0)
    _mma.save_checkpoint(model, folder / "checkpoint.pth")
    state = model.state_dict()
    _mma.save(folder, "keys", [[k, list(v.shape)] for k, v in state.items()])
    three_d = cfg.type == "Recognizer3D"
    raw, x = inputs(cfg, three_d)
    _mma.save(folder, "input", raw)
    # 3D recognizers fold the views into the batch themselves.
    model.eval()
    with torch.no_grad():
        np.random.seed(0)  # TRN draws its relations from numpy, in eval too
        scores, _ = model.extract_feat(x, stage="head")
    _mma.save(folder, "eval_scores", scores)
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    labels = torch.arange(BATCH) % 5
    samples = [ActionDataSample().set_gt_label(int(label)) for label in labels]
    np.random.seed(1)
    losses = model.loss(x, samples)
    total = sum(v for k, v in losses.items() if "loss" in k)
    total.backward()
    _mma.save(folder, "labels", labels)
    _mma.save(folder, "losses", {k: float(v) for k, v in losses.items() if "loss" in k})
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    _mma.save(folder, "grad_norms", {n: float(g.norm()) for n, g in grads.items()})
    kept = [n for n in FULL_GRADS if n in grads]
    for i, n in enumerate(kept):
        _mma.save(folder, f"grad_{i}", grads[n])
    _mma.save(folder, "grad_names", kept)


def random_torchvision_state(depth: int) -> dict[str, torch.Tensor]:
    import torchvision

    torch.manual_seed(3)
    net = getattr(torchvision.models, f"resnet{depth}")(weights=None)
    state = net.state_dict()
    # Every tensor random (BN weights and statistics too), so each loaded tensor is told
    # apart from any initialisation by its values.
    for key, value in state.items():
        if key.endswith("running_var"):
            value.uniform_(0.5, 1.5)
        elif key.endswith("num_batches_tracked"):
            value.fill_(7)
        else:
            value.normal_()
    return state


def sources(state: dict, tv: dict) -> dict[str, str]:
    """For each tensor of ``state`` that is a tensor of ``tv`` (all random), the tv key."""
    index: dict[tuple, list[str]] = {}
    for key, value in tv.items():
        index.setdefault((tuple(value.shape), float(value.double().sum())), []).append(key)
    found = {}
    for key, value in state.items():
        for tv_key in index.get((tuple(value.shape), float(value.double().sum())), []):
            if torch.equal(value, tv[tv_key]) and not key.endswith("num_batches_tracked"):
                found[key] = tv_key
                break
    return found


def run_tv_load(out) -> None:
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    folder = out / "tv_load"
    folder.mkdir()
    files = {}
    for depth in (18, 50):
        files[depth] = folder / f"resnet{depth}_torchvision.pth"
        torch.save(random_torchvision_state(depth), files[depth])
    non_local = dict(
        non_local=((0, 0, 0), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 0, 0)),
        non_local_cfg=dict(sub_sample=True, use_scale=False, norm_cfg=dict(type="BN3d"),
                           mode="embedded_gaussian"),
    )  # fmt: skip
    backbones = {
        "resnet": dict(type="ResNet", depth=18, torchvision_pretrain=True),
        "resnet_tsm": dict(type="ResNetTSM", depth=18, pretrained2d=True),
        "resnet_tsm_nl": dict(type="ResNetTSM", depth=50, pretrained2d=True, **non_local),
        "resnet_tin": dict(type="ResNetTIN", depth=18, pretrained2d=True, shift_div=4),
        "tanet": dict(type="TANet", depth=50, num_segments=8),
    }
    for name, cfg in backbones.items():
        torch.manual_seed(0)
        tv_file = files[cfg["depth"]]
        loaded = MODELS.build({**cfg, "pretrained": str(tv_file)})
        loaded.init_weights()  # MMAction2 loads torchvision weights here (TANet: when built)
        tv = torch.load(tv_file)
        _mma.save(folder, f"{name}_config", {**cfg, "file": tv_file.name})
        _mma.save(folder, f"{name}_sources", sources(dict(loaded.state_dict()), tv))


def main() -> None:
    out, _ = _mma.args()
    torch.set_num_threads(2)
    patch_tin_shift()
    for name, rel in CASES.items():
        run_case(out, name, rel)
    run_tv_load(out)
    _mma.save(out, "cases", CASES)
    _mma.done(out)


if __name__ == "__main__":
    main()
