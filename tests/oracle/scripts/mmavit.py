"""MMAction2's video transformers (TimeSformer, VideoMAE/VideoMAEv2 ViT, Video Swin, MViTv2),
built from the wheel's configs with small overrides, for ethoclip's tests/test_mma_vit.py.

Per case: MMAction2's seeded random init saved by MMEngine (``<case>.pth``), the key list with
shapes, a fixed input, eval-mode backbone outputs and logits, and the gradients of a cross
entropy on those logits (eval mode: no dropout or stochastic depth, so both sides are
deterministic). Per config with an ``optim_wrapper``: the lr and weight decay MMEngine's
constructor gives each parameter. Plus the pretrained initialisations: TimeSformer (divided)
from an ImageNet-ViT file, Swin from a 2D Swin file (``pretrained2d``).
"""

from __future__ import annotations

import copy
import json

import torch
import torch.nn.functional as F
from _mma import args, build_model, configs_dir, done, load_config, save_checkpoint

TIMESFORMER_SMALL = {
    "model.backbone.pretrained": None,
    "model.backbone.num_frames": 4,
    "model.backbone.img_size": 32,
    "model.backbone.embed_dims": 32,
    "model.backbone.num_heads": 2,
    "model.backbone.num_transformer_layers": 2,
    "model.cls_head.in_channels": 32,
    "model.cls_head.num_classes": 5,
}
VIT_SMALL = {
    "model.backbone.img_size": 32,
    "model.backbone.embed_dims": 32,
    "model.backbone.num_heads": 2,
    "model.backbone.depth": 2,
    "model.backbone.num_frames": 4,
    "model.cls_head.in_channels": 32,
    "model.cls_head.num_classes": 5,
}
SWIN_ARCH = {"embed_dims": 16, "depths": [2, 2, 2, 2], "num_heads": [1, 2, 2, 2]}
SWIN_SMALL = {
    "model.backbone.pretrained": None,
    "model.backbone.pretrained2d": False,
    "model.backbone.arch": SWIN_ARCH,
    "model.cls_head.in_channels": 128,
    "model.cls_head.num_classes": 5,
}
MVIT_ARCH = {"embed_dims": 16, "num_layers": 4, "num_heads": 1, "downscale_indices": [1, 2, 3]}
MVIT_SMALL = {
    "model.backbone.arch": MVIT_ARCH,
    "model.backbone.spatial_size": 64,
    "model.backbone.temporal_size": 4,
    "model.cls_head.in_channels": 128,
    "model.cls_head.num_classes": 5,
    # mixup/cutmix in the preprocessor: training-batch business, not the network's
    "model.data_preprocessor.blending": None,
}
TS = "recognition/timesformer/timesformer_{}_8xb8-8x32x1-15e_kinetics400-rgb.py"
VMAE = "recognition/videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400.py"
VMAE2 = "recognition/videomaev2/vit-small-p16_videomaev2-vit-g-dist-k710-pre_16x4x1_kinetics-400.py"
SWIN = "recognition/swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb.py"
MVIT = "recognition/mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py"

# name: (config, overrides, input shape (N, C, T, H, W))
CASES = {
    "timesformer_divST": (TS.format("divST"), TIMESFORMER_SMALL, (2, 3, 4, 32, 32)),
    "timesformer_jointST": (TS.format("jointST"), TIMESFORMER_SMALL, (2, 3, 4, 32, 32)),
    "timesformer_spaceOnly": (TS.format("spaceOnly"), TIMESFORMER_SMALL, (2, 3, 4, 32, 32)),
    "videomae_base": (VMAE, VIT_SMALL, (2, 3, 4, 32, 32)),
    # the same ViT at another frame size: the sinusoidal table is resized (bicubic)
    "videomae_base_48px": (VMAE, VIT_SMALL, (1, 3, 4, 48, 48)),
    # the code paths VideoMAE's configs leave off: learnt positions, layer scale, no mean pool
    "videomae_variant": (
        VMAE,
        {
            **VIT_SMALL,
            "model.backbone.use_learnable_pos_emb": True,
            "model.backbone.init_values": 0.1,
            "model.backbone.use_mean_pooling": False,
            "model.backbone.qkv_bias": False,
        },
        (2, 3, 4, 32, 32),
    ),
    "videomaev2_small": (VMAE2, VIT_SMALL, (2, 3, 4, 32, 32)),
    # 18 frames of 60²: tokens 9×15×15, windows 8×7×7 padded and shifted on every axis
    "swin_tiny": (SWIN, SWIN_SMALL, (1, 3, 18, 60, 60)),
    "mvit_small": (MVIT, MVIT_SMALL, (2, 3, 4, 64, 64)),
    "mvit_small_abs_pos": (
        MVIT,
        {**MVIT_SMALL, "model.backbone.use_abs_pos_embed": True},
        (1, 3, 4, 64, 64),
    ),
}
OPTIM_CASES = (
    "timesformer_divST",
    "timesformer_jointST",
    "timesformer_spaceOnly",
    "swin_tiny",
    "mvit_small",
)


def config(rel: str, overrides: dict):
    """The wheel's config with ``overrides`` set (a dict value replaces what was there, as
    ethoclip's ``cfg_options`` do; MMEngine's merge would refuse a dict over a string)."""
    cfg = load_config(rel)
    plain = {k: v for k, v in overrides.items() if not isinstance(v, dict)}
    cfg.merge_from_dict(copy.deepcopy(plain))
    for key, value in overrides.items():
        if isinstance(value, dict):
            *parents, last = key.split(".")
            node = cfg
            for part in parents:
                node = node[part]
            node[last] = copy.deepcopy(value)
    return cfg


def flat(out) -> dict:
    """A backbone's output (a tensor, or MViT's tuple of [patches, cls]) as named tensors."""
    if isinstance(out, torch.Tensor):
        return {"out": out.detach()}
    found = {}
    for i, stage in enumerate(out):
        for j, t in enumerate(stage if isinstance(stage, (list, tuple)) else [stage]):
            found[f"out.{i}.{j}"] = t.detach()
    return found


class Wrapped(torch.nn.Module):
    """Names as DistributedDataParallel gives them (``module.backbone…``): MMAction2's configs
    were trained on 8 GPUs, where ``custom_keys`` like '.backbone.cls_token' match."""

    def __init__(self, model):
        super().__init__()
        self.module = model


def param_settings(model, optim_cfg) -> dict:
    from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

    cfg = copy.deepcopy(optim_cfg.to_dict() if hasattr(optim_cfg, "to_dict") else optim_cfg)
    constructor = cfg.pop("constructor", "DefaultOptimWrapperConstructor")
    paramwise = cfg.pop("paramwise_cfg", None)
    wrapper = {"type": "OptimWrapper", "optimizer": cfg["optimizer"]}
    result = {}
    for label, target in (("plain", model), ("ddp", Wrapped(model))):
        built = OPTIM_WRAPPER_CONSTRUCTORS.build(
            {"type": constructor, "optim_wrapper_cfg": wrapper, "paramwise_cfg": paramwise}
        )(target)
        names = {id(p): n.removeprefix("module.") for n, p in target.named_parameters()}
        settings = {}
        for group in built.optimizer.param_groups:
            for p in group["params"]:
                settings[names[id(p)]] = [group["lr"], group["weight_decay"]]
        result[label] = settings
    result["constructor"] = constructor
    return result


def run_case(out, name, rel, overrides, shape) -> None:
    cfg = config(rel, overrides)
    model = build_model(cfg.model, seed=0)
    model.eval()
    save_checkpoint(model, out / f"{name}.pth")
    torch.manual_seed(1)
    x = torch.randn(*shape)
    labels = torch.arange(shape[0]) % 5
    feats = model.backbone(x)
    logits = model.cls_head(feats)
    loss = F.cross_entropy(logits, labels)
    model.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    torch.save(
        {
            "input": x,
            "labels": labels,
            "logits": logits.detach(),
            "loss": loss.detach(),
            **flat(feats),
        },
        out / f"{name}.io.pt",
    )
    torch.save(grads, out / f"{name}.grads.pt")
    # training mode from a fixed seed: dropout and stochastic depth draw the same numbers
    # only where both sides draw them in the same order, from the same modules
    model.train()
    torch.manual_seed(2)
    torch.save(model.cls_head(model.backbone(x)).detach(), out / f"{name}.train_logits.pt")
    (out / f"{name}.keys.json").write_text(
        json.dumps({k: list(v.shape) for k, v in model.state_dict().items()})
    )
    if name in OPTIM_CASES:
        settings = param_settings(model, cfg.optim_wrapper)
        (out / f"{name}.optim.json").write_text(json.dumps(settings))


def timesformer_from_vit(out) -> None:
    """An ImageNet ViT in MMAction2's format: what its space-only TimeSformer holds (MMCV
    names: ``norms.0/1``, one attention per layer), saved as a bare state dict like
    vit_base_patch16_224.pth; then MMAction2's divided TimeSformer initialised from it."""
    vit = build_model(config(TS.format("spaceOnly"), TIMESFORMER_SMALL).model.backbone, seed=3)
    torch.save(vit.state_dict(), out / "vit_imagenet.pth")
    for kind in ("divST", "jointST"):
        cfg = config(TS.format(kind), TIMESFORMER_SMALL)
        cfg.model.backbone.pretrained = str(out / "vit_imagenet.pth")
        model = build_model(cfg.model.backbone, seed=4)
        torch.save(model.state_dict(), out / f"timesformer_{kind}_from_vit.pt")


def swin_from_2d(out) -> None:
    """A 2D Swin file (weights under 'model', with the buffers and head an ImageNet one has,
    relative-position tables for 12×12 windows: resized to 7×7) inflated by MMAction2."""
    overrides = {**SWIN_SMALL, "model.backbone.pretrained2d": True}
    cfg = config(SWIN, overrides)
    torch.manual_seed(5)
    state = {}
    reference = build_model(config(SWIN, SWIN_SMALL).model.backbone, seed=6).state_dict()
    for key, value in reference.items():
        if "relative_position_index" in key:
            state[key] = torch.zeros(144, 144, dtype=torch.long)  # dropped by the inflation
        elif "relative_position_bias_table" in key:
            state[key] = torch.randn(23 * 23, value.shape[1])
        elif key == "patch_embed.proj.weight":
            state[key] = torch.randn(value.shape[0], value.shape[1], *value.shape[3:])
        elif key.startswith("norm3."):
            state[key.replace("norm3", "norm")] = torch.randn_like(value.float())
        else:
            state[key] = torch.randn_like(value.float())
    state["head.weight"] = torch.randn(10, 128)
    state["head.bias"] = torch.randn(10)
    state["layers.0.blocks.1.attn_mask"] = torch.zeros(4, 49, 49)
    torch.save({"model": state}, out / "swin2d.pth")
    cfg.model.backbone.pretrained = str(out / "swin2d.pth")
    model = build_model(cfg.model.backbone, seed=7)
    torch.save(model.state_dict(), out / "swin_inflated.pt")
    (out / "swin_inflate_overrides.json").write_text(json.dumps(overrides))


FAMILIES = ("timesformer", "videomae", "videomaev2", "swin", "mvit")


def census_overrides(rel: str) -> dict:
    """Pretrained weights off; in MViT's configs also mixup/cutmix and ``test_cfg`` (outside the
    network, refused by ethoclip's preprocessor and recognizers)."""
    overrides: dict = {"model.backbone.pretrained": None}
    if "/swin/" in rel:
        overrides["model.backbone.pretrained2d"] = False
    if "/mvit/" in rel:
        overrides.update({"model.data_preprocessor.blending": None, "model.test_cfg": None})
    return overrides


def census(out) -> None:
    """Every config of the five families at full size, built on the meta device (no memory,
    no initialisation): each model's state-dict keys and shapes."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    linspace = torch.linspace

    def cpu_linspace(*args, **kwargs):  # MMAction2 calls .item() on these: keep them real
        kwargs.setdefault("device", "cpu")
        return linspace(*args, **kwargs)

    torch.linspace = cpu_linspace
    found = {}
    try:
        for family in FAMILIES:
            for path in sorted((configs_dir() / "recognition" / family).glob("*.py")):
                rel = str(path.relative_to(configs_dir()))
                cfg = config(rel, census_overrides(rel))
                with torch.device("meta"):
                    model = MODELS.build(cfg.model)
                found[rel] = {k: list(v.shape) for k, v in model.state_dict().items()}
    finally:
        torch.linspace = linspace
    (out / "census.json").write_text(json.dumps(found))


def main() -> None:
    out, _ = args()
    torch.set_num_threads(2)
    for name, (rel, overrides, shape) in CASES.items():
        run_case(out, name, rel, overrides, shape)
    timesformer_from_vit(out)
    swin_from_2d(out)
    census(out)
    cases = {
        name: {"config": rel, "overrides": o, "shape": s} for name, (rel, o, s) in CASES.items()
    }
    (out / "cases.json").write_text(
        json.dumps(
            {
                "configs_dir": str(configs_dir()),
                "cases": cases,
                "optim": list(OPTIM_CASES),
                "timesformer_overrides": TIMESFORMER_SMALL,
                "ts_config": TS,
            }
        )
    )
    done(out)


if __name__ == "__main__":
    main()
