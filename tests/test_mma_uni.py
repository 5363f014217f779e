"""UniFormerV2, UniFormer and X3D against MMAction2 1.2.0 itself (the oracle), from the wheel's
own config files: the same overrides on both sides, MMAction2's checkpoint loaded strictly,
the same keys and shapes, eval logits and scores within 1e-4, the same gradients, and the
same initialisation (which tensors start at zero, constant, and how spread the rest are)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ethoclip.config import Config
from ethoclip.errors import ConfigError, EthoclipError
from ethoclip.models import build_recognizer, load_weights

UV2 = "recognition/uniformerv2/"
SMALL_UV2 = {  # a 3-layer, 64-wide UniFormerV2 on 32×32 frames: the same code paths, tiny
    "model.backbone.input_resolution": 32,
    "model.backbone.width": 64,
    "model.backbone.layers": 3,
    "model.backbone.heads": 2,
    "model.backbone.t_size": 4,
    "model.backbone.return_list": [1, 2],
    "model.backbone.n_layers": 2,
    "model.backbone.n_dim": 64,
    "model.backbone.n_head": 2,
    "model.backbone.mlp_dropout": [0.0, 0.0],
    "model.backbone.clip_pretrained": False,
    "model.backbone.pretrained": None,
    "model.cls_head.num_classes": 5,
    "model.cls_head.in_channels": 64,
    "model.cls_head.dropout_ratio": 0.0,
}
CASES: dict[str, dict[str, Any]] = {
    # the config as it is (no local MHRA), shrunk
    "uniformerv2": {
        "config": UV2 + "uniformerv2-base-p16-res224_clip_8xb32-u8_kinetics400-rgb.py",
        "options": SMALL_UV2,
        "input": [2, 2, 3, 4, 32, 32],
    },
    # local MHRA before attention and MLP, temporal downsampling in the patch embedding, and
    # the Kinetics-710 config's TimeSformerHead
    "uniformerv2_lmhra": {
        "config": UV2 + "uniformerv2-base-p16-res224_clip-pre_u8_kinetics710-rgb.py",
        "options": {
            **SMALL_UV2,
            "model.backbone.no_lmhra": False,
            "model.backbone.temporal_downsample": True,
            "model.backbone.t_size": 8,
        },
        "input": [2, 1, 3, 8, 32, 32],
    },
    "uniformer": {
        "config": "recognition/uniformer/uniformer-small_imagenet1k-pre_16x4x1_kinetics400-rgb.py",
        "options": {
            "model.backbone.depth": [1, 1, 2, 1],
            "model.backbone.embed_dim": [16, 32, 64, 64],
            "model.backbone.head_dim": 16,
            "model.backbone.drop_path_rate": 0.0,
            "model.cls_head.num_classes": 5,
            "model.cls_head.in_channels": 64,
        },
        "input": [2, 2, 3, 4, 32, 32],
    },
    "x3d": {  # X3D-S at X3D-XS depth (gamma_d 1: 1, 2, 5, 3 blocks), SE every other block
        "config": "recognition/x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py",
        "options": {
            "model.backbone.gamma_d": 1.0,
            "model.cls_head.num_classes": 5,
            "model.cls_head.dropout_ratio": 0.0,
        },
        "input": [2, 2, 3, 4, 32, 32],
    },
}


def _oracle_configs() -> Path:
    from tests.mmaction2_oracle import oracle_root

    found = sorted(
        (oracle_root() / "mmaction2-1.2.0" / "venv").glob(
            "lib/python*/site-packages/mmaction/.mim/configs"
        )
    )
    if not found:
        pytest.skip("the oracle venv has no mmaction/.mim/configs")
    return found[0]


def _build(name: str) -> Any:
    case = CASES[name]
    cfg = Config.fromfile(_oracle_configs() / case["config"], case["options"])
    return build_recognizer(cfg.model)


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    """These tensors are tiny: more threads only add synchronisation, and on a loaded 2-core
    machine the depth-wise 3D convolutions ran 30× slower with 2 threads than with 1."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def oracle(mmaction2_oracle: Any) -> Path:
    return mmaction2_oracle("mmauni", CASES)


def _mma_state(oracle: Path, name: str) -> dict[str, torch.Tensor]:
    return torch.load(oracle / f"{name}.pth", map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.parametrize("name", list(CASES))
def test_mmaction2_checkpoint_loads_strictly_and_computes_the_same(
    oracle: Path, name: str, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    model = _build(name)
    keys = json.loads((oracle / f"{name}_keys.json").read_text())
    own = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert own == keys  # same names, same shapes, nothing more or less
    notes = load_weights(model, str(oracle / f"{name}.pth"))
    assert "MMAction2" in notes[0]
    state = _mma_state(oracle, name)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())

    inputs = torch.from_numpy(np.load(oracle / f"{name}_input.npy"))
    model.eval()
    with torch.no_grad():
        logits = model.logits(inputs)
        scores = model.predict(inputs)
    expected = torch.from_numpy(np.load(oracle / f"{name}_logits.npy"))
    assert logits.shape == expected.shape
    assert (logits - expected).abs().max().item() <= 1e-4
    expected_scores = torch.from_numpy(np.load(oracle / f"{name}_scores.npy"))
    assert (scores - expected_scores).abs().max().item() <= 1e-5  # softmax averaged over views
    assert expected.std() > 1e-3  # the perturbed weights make every branch count

    model.train()
    n = inputs.shape[0]
    loss = model.loss(inputs[:, :1], torch.arange(n) % model.num_classes)
    loss.backward()
    assert abs(loss.item() - float(np.load(oracle / f"{name}_loss.npy"))) <= 1e-4
    grads = np.load(oracle / f"{name}_grads.npz")
    params = dict(model.named_parameters())
    assert set(grads.files) == {k for k, p in params.items() if p.grad is not None}
    for key in grads.files:
        theirs = torch.from_numpy(grads[key])
        scale = theirs.abs().max().item()
        torch.testing.assert_close(
            params[key].grad, theirs, rtol=1e-3, atol=1e-4 * scale + 1e-7, msg=key
        )


@pytest.mark.parametrize("name", list(CASES))
def test_fresh_weights_are_initialised_as_mmaction2_does(oracle: Path, name: str) -> None:
    torch.manual_seed(0)
    model = _build(name)
    stats = json.loads((oracle / f"{name}_init.json").read_text())
    own = {k: v.double() for k, v in model.state_dict().items() if v.is_floating_point()}
    assert set(own) == set(stats)
    for key, (mean, std, numel) in stats.items():
        value = own[key]
        if std == 0.0:  # a constant: zeros (zero-init branches, biases) or LayerNorm/BN ones
            assert value.std().item() == 0.0 if numel > 1 else True, key
            assert value.mean().item() == pytest.approx(mean, abs=1e-12), key
        elif numel >= 512:  # a random draw: the same distribution's spread
            assert value.std().item() == pytest.approx(std, rel=0.15), key
            assert abs(value.mean().item() - mean) <= 0.2 * std, key
        else:
            assert value.std().item() > 0, key


@pytest.mark.parametrize("head", ["UniFormerHead", "X3DHead"])
def test_multi_label_heads_average_sigmoids_never_softmax(head: str) -> None:
    from ethoclip.registry import MODELS

    built = MODELS.build(
        {
            "type": head,
            "num_classes": 3,
            "in_channels": 8,
            "loss_cls": {"type": "BCELossWithLogits"},
            "average_clips": "prob",
        }
    )
    logits = torch.tensor([[[2.0, 2.0, -1.0], [0.0, 4.0, 1.0]]])  # (N=1, views=2, K=3)
    scores = built.average_views(logits)
    assert torch.allclose(scores, torch.sigmoid(logits).mean(1))
    assert scores.sum() > 1.5  # co-occurring behaviours: probabilities do not sum to 1
    features = torch.randn(2, 8, 1, 2, 2) if head == "X3DHead" else torch.randn(2, 8)
    assert built(features).shape == (2, 3)


def test_every_uniformer_and_x3d_config_of_the_wheel_builds_with_mmaction2s_keys(
    mmaction2_oracle: Any,
) -> None:
    """All 29 (24 UniFormerV2, 3 UniFormer, 2 X3D) at full size, pretrained loading switched
    off by cfg-options, built on the meta device (arguments and shapes, no memory or init
    time): every state-dict key and shape is the one MMAction2 builds from the same file."""
    expected = json.loads((mmaction2_oracle("mmauni_census") / "shapes.json").read_text())
    root = _oracle_configs()
    built = {}
    for family in ("uniformerv2", "uniformer", "x3d"):
        for path in sorted((root / "recognition" / family).glob("*.py")):
            cfg = Config.fromfile(path)
            options: dict[str, Any] = {}
            backbone, head = cfg.model.backbone, cfg.model.cls_head
            if family == "uniformerv2" and backbone.get("clip_pretrained", True):
                options["model.backbone.clip_pretrained"] = False
            if backbone.get("init_cfg") is not None:
                options["model.backbone.init_cfg"] = None
            if head.get("init_cfg") is not None:
                options["model.cls_head.init_cfg"] = None
            cfg.merge_from_dict(options)
            with torch.device("meta"):
                model = build_recognizer(cfg.model)
            shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
            assert shapes == expected[path.name], path.name
            built[path.name] = (type(model.backbone).__name__, model.num_classes)
    assert len(built) == len(expected) == 29
    assert sum(kind == "UniFormerV2" for kind, _ in built.values()) == 24
    assert built["x3d_s_13x6x1_facebook-kinetics400-rgb.py"] == ("X3D", 400)
    k600 = "uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics600-rgb.py"
    assert built[k600] == ("UniFormerV2", 600)


def test_clip_pretrained_without_the_file_says_what_to_do(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache, and no network in tests
    monkeypatch.setattr(
        "ethoclip.models._weights.torch.hub.load_state_dict_from_url",
        lambda *a, **k: (_ for _ in ()).throw(OSError("no network")),
    )
    from ethoclip.models.backbones.uniformerv2 import UniFormerV2

    with pytest.raises(EthoclipError) as info:
        UniFormerV2(
            input_resolution=32,
            width=64,
            layers=2,
            heads=2,
            return_list=[1],
            n_layers=1,
            n_dim=64,
            n_head=2,
            pretrained="ViT-B/16",
        )
    message = str(info.value)
    assert "clip_pretrained" in message and "clip_pretrained=False" in message
    assert "vit-base-p16-res224_clip-rgb_20221219-b8a5da86.pth" in message


def test_clip_pretrained_loads_a_local_file_and_inflates_the_patch_embedding(
    tmp_path: Path,
) -> None:
    from ethoclip.models.backbones.uniformerv2 import UniFormerV2

    small = dict(
        input_resolution=32,
        width=64,
        layers=2,
        heads=2,
        return_list=[1],
        n_layers=1,
        n_dim=64,
        n_head=2,
        t_size=4,
    )
    torch.manual_seed(3)
    donor = UniFormerV2(clip_pretrained=False, **small)
    clip = {  # CLIP's visual encoder: a 2D patch embedding, the ViT, ln_post and proj
        k: v
        for k, v in donor.state_dict().items()
        if k.startswith(("class_embedding", "positional_embedding", "ln_pre"))
        or (k.startswith("transformer.resblocks.") and ".lmhra" not in k)
    }
    clip["conv1.weight"] = torch.randn(64, 3, 16, 16)
    clip["ln_post.weight"], clip["proj"] = torch.ones(64), torch.randn(64, 32)
    path = tmp_path / "clip.pth"
    torch.save(clip, path)
    model = UniFormerV2(
        clip_pretrained=True, pretrained=str(path), temporal_downsample=True, **small
    )
    weight = model.conv1.weight
    assert weight.shape == (64, 3, 3, 16, 16)
    assert torch.equal(weight[:, :, 1], clip["conv1.weight"])  # the centre frame
    assert not weight[:, :, [0, 2]].any()
    state = model.state_dict()
    assert torch.equal(
        state["transformer.resblocks.1.attn.in_proj_weight"],
        clip["transformer.resblocks.1.attn.in_proj_weight"],
    )

    bad = tmp_path / "other.pth"
    torch.save(
        {
            "conv1.weight": torch.randn(64, 3, 14, 14),
            "positional_embedding": clip["positional_embedding"],
        },
        bad,
    )
    with pytest.raises(ConfigError, match=r"conv1\.weight"):
        UniFormerV2(clip_pretrained=True, pretrained=str(bad), **small)


def test_kinetics710_fine_tuning_configs_load_their_init_cfg_checkpoint(
    oracle: Path, tmp_path: Path
) -> None:
    """The k710 → k400 config's two Pretrained init_cfgs, pointed at MMAction2's checkpoint:
    the backbone under 'backbone.', the head's rows chosen by a channel map."""
    checkpoint = oracle / "uniformerv2.pth"
    channel_map = tmp_path / "map.json"
    channel_map.write_text("[4, 2, 0]")
    options = {
        **SMALL_UV2,
        "model.backbone.init_cfg.checkpoint": str(checkpoint),
        "model.cls_head.init_cfg.checkpoint": str(checkpoint),
        "model.cls_head.channel_map": str(channel_map),
        "model.cls_head.num_classes": 3,
    }
    del options["model.backbone.pretrained"]
    name = UV2 + "uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb.py"
    cfg = Config.fromfile(_oracle_configs() / name, options)
    model = build_recognizer(cfg.model)
    theirs = _mma_state(oracle, "uniformerv2")
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, theirs[f"backbone.{key}"]), key
    assert torch.equal(model.cls_head.fc_cls.weight, theirs["cls_head.fc_cls.weight"][[4, 2, 0]])
    assert torch.equal(model.cls_head.fc_cls.bias, theirs["cls_head.fc_cls.bias"][[4, 2, 0]])

    channel_map.write_text("[4, 2]")
    with pytest.raises(ConfigError, match="must list 3 class indices"):
        build_recognizer(cfg.model)
    missing = Config.fromfile(
        _oracle_configs() / name, {**options, "model.backbone.init_cfg.checkpoint": "/nowhere.pth"}
    )
    with pytest.raises(ConfigError, match=r"model\.backbone\.init_cfg.*init_cfg=None"):
        build_recognizer(missing.model)


def test_x3d_frozen_stages_and_norm_eval() -> None:
    from ethoclip.models.backbones.x3d import X3D

    model = X3D(gamma_b=2.25, frozen_stages=1, norm_eval=True).train()
    assert not any(p.requires_grad for p in model.conv1_t.parameters())
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.layer3[0].conv1.bn.training  # norm_eval: BN statistics stay fixed
    assert model.out_channels == 432 and model.stage_blocks == [1, 2, 5, 3]
    with pytest.raises(ConfigError, match="se_style"):
        X3D(se_style="quarter")
    fixed_bn = X3D(
        num_stages=1,
        spatial_strides=[2],
        norm_cfg={"type": "BN3d", "requires_grad": False, "eps": 1e-3},
    )
    assert not fixed_bn.conv5.bn.weight.requires_grad and fixed_bn.conv5.bn.eps == 1e-3
    assert fixed_bn.conv5.conv.weight.requires_grad
    with pytest.raises(ConfigError, match="GN"):
        X3D(norm_cfg={"type": "GN", "num_groups": 4})

    torch.manual_seed(0)
    two_stages = dict(num_stages=2, spatial_strides=[2, 2])
    plain = X3D(**two_stages).eval()
    recompute = X3D(with_cp=True, **two_stages).eval()
    recompute.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 4, 16, 16, requires_grad=True)
    y = torch.randn(1, 3, 4, 16, 16, requires_grad=True)
    with torch.no_grad():
        x.copy_(y)
    plain(x).square().sum().backward()
    recompute(y).square().sum().backward()  # with_cp: blocks recomputed in backward, same result
    assert x.grad is not None and y.grad is not None
    torch.testing.assert_close(x.grad, y.grad)


def test_uniformerv2_refuses_clips_of_another_length() -> None:
    from ethoclip.models.backbones.uniformerv2 import UniFormerV2

    model = UniFormerV2(
        input_resolution=32, width=64, layers=2, heads=2, return_list=[1], n_layers=1,
        n_dim=64, n_head=2, t_size=4, clip_pretrained=False,
    )  # fmt: skip
    assert model(torch.randn(1, 3, 4, 32, 32)).shape == (1, 64)
    with pytest.raises(ValueError, match="t_size"):
        model(torch.randn(1, 3, 8, 32, 32))  # 8 frames would pass as a batch of 2 otherwise
    with pytest.raises(ConfigError, match="n_layers"):
        UniFormerV2(return_list=[8, 9], n_layers=4, clip_pretrained=False)


def test_uniformer_inflates_2d_imagenet_weights_from_a_file(tmp_path: Path) -> None:
    from ethoclip.models.backbones.uniformer import UniFormer

    small = dict(depth=[1, 1, 1, 1], embed_dim=[16, 32, 64, 64], head_dim=16)
    fresh = UniFormer(**small)
    image = {  # a 2D UniFormer: kernels without time, and an ImageNet head ethoclip ignores
        k: (v[:, :, 0] if v.dim() == 5 else v).clone().normal_() if v.is_floating_point() else v
        for k, v in fresh.state_dict().items()
    }
    image["head.weight"] = torch.randn(1000, 64)
    path = tmp_path / "uniformer_in1k.pth"
    torch.save({"model": image}, path)
    model = UniFormer(pretrained=str(path), **small)
    state = model.state_dict()
    proj = state["patch_embed1.proj.weight"]  # (16, 3, 3, 4, 4): time kernel 3, centre = 2D
    assert torch.equal(proj[:, :, 1], image["patch_embed1.proj.weight"])
    assert not proj[:, :, [0, 2]].any()
    attn = state["blocks1.0.attn.weight"]  # the depth-wise 5×5 "attention", 5×5×5 in 3D
    assert attn.shape == (16, 1, 5, 5, 5) and torch.equal(
        attn[:, :, 2], image["blocks1.0.attn.weight"]
    )
    assert torch.equal(state["blocks3.0.attn.qkv.weight"], image["blocks3.0.attn.qkv.weight"])
    with pytest.raises(ConfigError, match="pretrained"):
        UniFormer(pretrained=str(tmp_path / "none.pth"), **small)


def test_a_uniformerv2_config_trains_a_batch_on_a_prepare_output(demo_dataset: Path) -> None:
    """The wheel's UniFormerV2 K400 file, shrunk, pointed at the demo dataset, through ethoclip's
    engine: classes and multi-label mode from the data, one batch forward and backward. Its
    UniformSample and PytorchVideoWrapper steps are swapped for ethoclip's SampleFrames and a
    CenterCrop (neither is implemented yet)."""
    from ethoclip.engine import build_experiment, read_settings

    pipeline = "train_dataloader.dataset.pipeline"
    options = {
        **SMALL_UV2,
        "model.cls_head.num_classes": None,
        "train_dataloader.dataset.ann_file": f"{demo_dataset}/train.txt",
        "train_dataloader.dataset.data_prefix.video": str(demo_dataset),
        "train_dataloader.batch_size": 2,
        "train_dataloader.num_workers": 0,
        "train_dataloader.persistent_workers": False,
        "val_dataloader": None,
        f"{pipeline}.1": {"type": "SampleFrames", "clip_len": 4, "frame_interval": 2},
        f"{pipeline}.3.scale": (-1, 40),
        f"{pipeline}.4": {"type": "CenterCrop", "crop_size": 40},
        f"{pipeline}.6.scale": (32, 32),
    }
    name = UV2 + "uniformerv2-base-p16-res224_clip_8xb32-u8_kinetics400-rgb.py"
    cfg = Config.fromfile(_oracle_configs() / name, options)
    experiment = build_experiment(cfg, read_settings(cfg))
    model = experiment.model
    assert model.num_classes == 6 and model.multi_label
    batch = next(iter(experiment.train_loader))
    assert tuple(batch["inputs"].shape) == (2, 1, 3, 4, 32, 32)
    loss = model.loss(batch["inputs"], batch["label"])
    loss.backward()
    assert math.isfinite(float(loss.detach()))
    assert model.backbone.transformer.dec[0].attn.in_proj_weight.grad is not None
