"""MMAction2's video transformers in ethoclip against MMAction2 1.2.0 itself (the oracle,
tests/oracle/scripts/mmavit.py): TimeSformer (divided, joint, space-only), the VideoMAE and
VideoMAEv2 ViT, Video Swin and MViTv2, each built from the SAME wheel config with the same
small overrides on both sides. ethoclip loads MMAction2's own checkpoint strictly (no
renaming) and must give the same keys and shapes, the same eval outputs (max |Δ| ≤ 1e-4) and
the same gradients; the optimizer's per-parameter LR and decay must be MMEngine's; the
pretrained initialisations (TimeSformer from an ImageNet ViT, Swin inflated from 2D) must give
MMAction2's tensors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from ethoclip.config import Config
from ethoclip.engine._optim import OptimWrapper, build_optimizer
from ethoclip.models import build_recognizer
from ethoclip.models._weights import load_file

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def oracle(mmaction2_oracle: Any) -> tuple[Path, dict[str, Any]]:
    art = Path(mmaction2_oracle("mmavit"))
    return art, json.loads((art / "cases.json").read_text())


def wheel_config(meta: dict[str, Any], rel: str, overrides: dict[str, Any]) -> Config:
    return Config.fromfile(Path(meta["configs_dir"]) / rel, dict(overrides))


def built(meta: dict[str, Any], name: str) -> tuple[Config, Any]:
    case = meta["cases"][name]
    cfg = wheel_config(meta, case["config"], case["overrides"])
    torch.manual_seed(0)
    return cfg, build_recognizer(cfg["model"])


def flat(out: Any) -> dict[str, torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return {"out": out}
    found = {}
    for i, stage in enumerate(out):
        for j, t in enumerate(stage if isinstance(stage, (list, tuple)) else [stage]):
            found[f"out.{i}.{j}"] = t
    return found


CASES = [
    "timesformer_divST",
    "timesformer_jointST",
    "timesformer_spaceOnly",
    "videomae_base",
    "videomae_base_48px",
    "videomae_variant",
    "videomaev2_small",
    "swin_tiny",
    "mvit_small",
    "mvit_small_abs_pos",
]


@pytest.mark.parametrize("name", CASES)
def test_mmaction2_checkpoint_loads_strictly_and_computes_the_same(
    name: str, oracle: tuple[Path, dict[str, Any]]
) -> None:
    art, meta = oracle
    _, model = built(meta, name)
    checkpoint = load_file(art / f"{name}.pth")
    state = checkpoint["state_dict"]
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert ours == json.loads((art / f"{name}.keys.json").read_text())
    model.load_state_dict(state, strict=True)  # MMAction2's names as they are
    model.eval()
    io = torch.load(art / f"{name}.io.pt", weights_only=True)
    feats = model.backbone(io["input"])
    logits = model.cls_head(feats)
    for key, value in flat(feats).items():
        assert value.shape == io[key].shape, key
        assert (value - io[key]).abs().max() <= 1e-4, key
    assert (logits - io["logits"]).abs().max() <= 1e-4
    loss = F.cross_entropy(logits, io["labels"])
    model.zero_grad()
    loss.backward()
    theirs = torch.load(art / f"{name}.grads.pt", weights_only=True)
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert set(grads) == set(theirs)
    for key, grad in grads.items():
        scale = float(theirs[key].abs().max()) + 1e-6
        assert (grad - theirs[key]).abs().max() <= 1e-4 * max(scale, 1.0), key
    model.train()
    torch.manual_seed(2)
    trained = model.cls_head(model.backbone(io["input"]))
    assert (
        trained - torch.load(art / f"{name}.train_logits.pt", weights_only=True)
    ).abs().max() <= 1e-4


@pytest.mark.parametrize(
    "name",
    [
        "timesformer_divST",
        "timesformer_jointST",
        "timesformer_spaceOnly",
        "swin_tiny",
        "mvit_small",
    ],
)
def test_optimizer_groups_are_mmengines(name: str, oracle: tuple[Path, dict[str, Any]]) -> None:
    """The config's ``optim_wrapper`` (custom_keys, norm/bias decay, Swin's constructor) gives
    every parameter the LR and weight decay MMEngine's constructor gives it."""
    art, meta = oracle
    cfg, model = built(meta, name)
    wrapper_cfg = dict(cfg["optim_wrapper"])
    wrapper_cfg.pop("type", None)
    wrapper = OptimWrapper(**wrapper_cfg)
    optimizer, notes = build_optimizer(model, wrapper)
    names = {id(p): n for n, p in model.named_parameters()}
    ours = {
        names[id(p)]: [g["lr"], g["weight_decay"]]
        for g in optimizer.param_groups
        for p in g["params"]
    }
    expected = json.loads((art / f"{name}.optim.json").read_text())
    assert ours.keys() == expected["plain"].keys()
    for key, (lr, decay) in ours.items():
        assert (lr, decay) == pytest.approx(tuple(expected["plain"][key])), key
    if name.startswith("timesformer"):
        # MMEngine names parameters 'backbone.cls_token': MMAction2's '.backbone.…' keys
        # match nothing there, and ethoclip says so
        assert sorted(notes) == sorted(
            f"paramwise_cfg.custom_keys {k!r} matches no parameter of this model"
            for k in cfg["optim_wrapper"]["paramwise_cfg"]["custom_keys"]
        )
    elif name == "swin_tiny":  # Video Swin has no absolute position embedding
        assert notes == ["paramwise_cfg 'absolute_pos_embed' matches no parameter of this model"]
    else:
        assert notes == []


@pytest.mark.parametrize("kind", ["divST", "jointST"])
def test_timesformer_from_an_imagenet_vit_as_mmaction2(
    kind: str, oracle: tuple[Path, dict[str, Any]]
) -> None:
    """MMAction2's ImageNet-ViT file (MMCV names, norms.0/1): divided attention gets the
    spatial attention copied into the temporal one, ``temporal_fc`` zero, ``time_embed`` zero;
    every tensor equals what MMAction2's ``init_weights`` makes."""
    from ethoclip.models.backbones.timesformer import TimeSformer

    art, meta = oracle
    overrides = {
        **meta["timesformer_overrides"],
        "model.backbone.pretrained": str(art / "vit_imagenet.pth"),
    }
    cfg = wheel_config(meta, meta["ts_config"].format(kind), overrides)
    backbone = dict(cfg["model"]["backbone"])
    backbone.pop("type")
    torch.manual_seed(4)
    with warnings.catch_warnings(record=True):
        model = TimeSformer(**backbone)
    theirs = torch.load(art / f"timesformer_{kind}_from_vit.pt", weights_only=True)
    ours = model.state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        assert torch.equal(value, theirs[key]), key
    if kind == "divST":
        layer = "transformer_layers.layers.0.attentions"
        assert torch.equal(
            ours[f"{layer}.0.attn.in_proj_weight"], ours[f"{layer}.1.attn.in_proj_weight"]
        )
        assert not ours[f"{layer}.0.temporal_fc.weight"].any()


def test_swin_inflated_from_2d_as_mmaction2(oracle: tuple[Path, dict[str, Any]]) -> None:
    """``pretrained2d``: patch embedding repeated over time, the 23×23 bias tables resized to
    13×13 (bicubic) and repeated over time offsets, ``norm`` → ``norm3``, index buffers and
    the head dropped — every tensor as MMAction2 inflates it."""
    art, meta = oracle
    overrides = json.loads((art / "swin_inflate_overrides.json").read_text())
    overrides["model.backbone.pretrained"] = str(art / "swin2d.pth")
    cfg = wheel_config(meta, meta["cases"]["swin_tiny"]["config"], overrides)
    from ethoclip.models.backbones.swin import SwinTransformer3D

    backbone = dict(cfg["model"]["backbone"])
    backbone.pop("type")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SwinTransformer3D(**backbone)
    assert any("head.weight" in str(w.message) for w in caught)  # ignored, and said so
    theirs = torch.load(art / "swin_inflated.pt", weights_only=True)
    ours = model.state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        assert torch.allclose(value.float(), theirs[key].float(), atol=1e-6), key


def test_videomae_pretrained_file_is_loaded(tmp_path: Path) -> None:
    """MMAction2 1.2.0's VisionTransformer drops ``pretrained`` (its default ``init_cfg``
    replaces the 'Pretrained' one it sets; its configs load weights through ``load_from``).
    ethoclip loads the file the config names; a file with nothing that fits is an error."""
    from ethoclip.errors import ConfigError
    from ethoclip.models.backbones.vit_mae import VisionTransformer

    small = {"img_size": 32, "embed_dims": 32, "depth": 2, "num_heads": 2, "num_frames": 4}
    torch.manual_seed(0)
    source = VisionTransformer(**small)
    path = tmp_path / "vit.pth"
    torch.save({"state_dict": source.state_dict()}, path)
    torch.manual_seed(1)
    loaded = VisionTransformer(**small, pretrained=str(path))
    for key, value in source.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    torch.save({"state_dict": {"something.else": torch.zeros(3)}}, path)
    with pytest.raises(ConfigError, match=r"no tensor in .* fits this model"):
        VisionTransformer(**small, pretrained=str(path))


def test_mvit_init_cfg_pretrained_takes_the_backbone_of_a_checkpoint(tmp_path: Path) -> None:
    """``init_cfg=dict(type='Pretrained', checkpoint=…, prefix='backbone.')``, as MMAction2's
    sthv2 MViT config starts from its Kinetics one: the backbone's tensors, prefix removed."""
    from ethoclip.errors import ConfigError
    from ethoclip.models.backbones.mvit import MViT

    arch = {"embed_dims": 8, "num_layers": 2, "num_heads": 1, "downscale_indices": [1]}
    small = {"arch": arch, "spatial_size": 32, "temporal_size": 4}
    torch.manual_seed(0)
    source = MViT(**small)
    path = tmp_path / "mvit.pth"
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in source.state_dict().items()}}, path)
    cfg = {"type": "Pretrained", "checkpoint": str(path), "prefix": "backbone."}
    torch.manual_seed(1)
    loaded = MViT(**small, init_cfg=cfg)
    for key, value in source.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    with pytest.raises(ConfigError, match=r"no tensor in the checkpoint starts with 'head\.'"):
        MViT(**small, init_cfg={**cfg, "prefix": "head."})
    with pytest.raises(ConfigError, match=r"init_cfg: only dict\(type='Pretrained'"):
        MViT(**small, init_cfg={"type": "Kaiming"})


def test_swin_checkpointing_and_frozen_stages() -> None:
    """``with_cp`` recomputes the blocks in the backward pass without changing a number;
    ``frozen_stages=1`` freezes the patch embedding and the first stage, kept in eval mode."""
    from ethoclip.models.backbones.swin import SwinTransformer3D

    arch = {"embed_dims": 8, "depths": [2, 2], "num_heads": [1, 2]}
    x = torch.randn(1, 3, 4, 32, 32)
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = SwinTransformer3D(arch, out_indices=(1,), window_size=(2, 3, 3), with_cp=with_cp)
        model.train()
        model(x).square().mean().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for key, grad in grads[0].items():
        assert torch.allclose(grad, grads[1][key], atol=1e-6), key
    frozen = SwinTransformer3D(arch, out_indices=(1,), frozen_stages=1).train()
    assert not any(p.requires_grad for p in frozen.patch_embed.parameters())
    assert not any(p.requires_grad for p in frozen.layers[0].parameters())
    assert all(p.requires_grad for p in frozen.layers[1].parameters())
    assert not frozen.layers[0].training and frozen.layers[1].training


def test_every_wheel_config_of_the_families_builds_mmaction2s_network(
    oracle: tuple[Path, dict[str, Any]],
) -> None:
    """All 20 configs of recognition/{timesformer, videomae, videomaev2, swin, mvit} at full
    size, built on the meta device (no memory, no initialisation) from the same config and
    overrides: the same state-dict keys and shapes as MMAction2's. Pretrained weights are off;
    MViT's mixup/cutmix and test_cfg are off (see the oracle script); the sthv2 MViT's
    ``init_cfg`` URL is dropped here only: MMAction2 reads it in init_weights, ethoclip when
    building."""
    art, meta = oracle
    expected = json.loads((art / "census.json").read_text())
    assert len(expected) == 20
    for rel, keys in expected.items():
        overrides: dict[str, Any] = {"model.backbone.pretrained": None}
        if "/swin/" in rel:
            overrides["model.backbone.pretrained2d"] = False
        if "/mvit/" in rel:
            overrides.update(
                {
                    "model.data_preprocessor.blending": None,
                    "model.test_cfg": None,
                    "model.backbone.init_cfg": None,
                }
            )
        cfg = wheel_config(meta, rel, overrides)
        with torch.device("meta"):
            model = build_recognizer(cfg["model"])
        assert {k: list(v.shape) for k, v in model.state_dict().items()} == keys, rel


def test_a_trained_model_rebuilds_without_its_init_cfg_weights() -> None:
    """A checkpoint holds the weights: rebuilding it must not fetch ``init_cfg``'s file."""
    from ethoclip.models._checkpoint import rebuild_spec

    arch = {"embed_dims": 8, "num_layers": 2, "num_heads": 1, "downscale_indices": [1]}
    backbone = {"type": "MViT", "arch": arch, "spatial_size": 32, "temporal_size": 4}
    model_cfg = {
        "type": "Recognizer3D",
        "backbone": backbone,
        "cls_head": {"type": "MViTHead", "num_classes": 3},
    }
    model = build_recognizer(model_cfg)
    url = "https://download.openmmlab.com/never-fetched.pth"
    with_init = {
        **model_cfg,
        "backbone": {**backbone, "init_cfg": {"type": "Pretrained", "checkpoint": url}},
    }
    spec = rebuild_spec(with_init, model)
    assert spec["backbone"]["init_cfg"] is None and spec["backbone"]["pretrained"] is None
    rebuilt = build_recognizer(spec)
    assert rebuilt.state_dict().keys() == model.state_dict().keys()
