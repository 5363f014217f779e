"""Models: every registered one trains a step; scores averaged as defined; classes from the
data; weights through the real loading code (saved locally, no network)."""

from __future__ import annotations

import math
import subprocess
import sys
import urllib.error
import zipfile
from pathlib import Path

import pytest
import torch

from ethoclip.config import Config
from ethoclip.errors import CheckpointError, ConfigError
from ethoclip.models import build_recognizer, load_weights

from .realdata import Unavailable, fetch_package

# A TimeSformer small enough for a CPU test; the weights test saves one of the same shape.
TINY_TIMESFORMER = {
    "type": "TimeSformer",
    "num_frames": 4,
    "img_size": 32,
    "patch_size": 16,
    "embed_dims": 32,
    "num_heads": 2,
    "num_transformer_layers": 2,
}
# The same through transformers (Hugging Face weights load into it).
TINY_HF_TIMESFORMER = {**TINY_TIMESFORMER, "type": "HFTimeSformer"}
TINY_VIT = {
    "img_size": 32,
    "patch_size": 16,
    "embed_dims": 32,
    "depth": 2,
    "num_heads": 2,
    "num_frames": 4,
}

# (config, input shape of one sample): small sizes, so every family runs on a CPU in seconds.
FAMILIES = {
    "tiny3d": ({"type": "TinyVideoNet", "widths": (4, 8)}, "I3DHead", (1, 3, 4, 16, 16)),
    "hybrid": ({"type": "HybridNet", "widths": (4, 8)}, "I3DHead", (1, 3, 4, 16, 16)),
    "resnet18": ({"type": "ResNet", "depth": 18}, "TSNHead", (3, 3, 32, 32)),
    "r2plus1d": ({"type": "TVResNet2Plus1d18", "depth": 18}, "I3DHead", (1, 3, 4, 32, 32)),
    "r3d": ({"type": "TVResNet3d18", "depth": 18}, "I3DHead", (1, 3, 4, 32, 32)),
    "swin3d": (
        {
            "type": "SwinTransformer3D",
            "arch": {"embed_dims": 16, "depths": [2, 2, 2, 2], "num_heads": [1, 2, 2, 4]},
        },
        "I3DHead",
        (1, 3, 4, 64, 64),
    ),
    "tv_swin3d": ({"type": "TVSwinTransformer3D", "arch": "tiny"}, "I3DHead", (1, 3, 4, 32, 32)),
    "mvit": (
        {
            "type": "MViT",
            "arch": {
                "embed_dims": 16,
                "num_layers": 4,
                "num_heads": 1,
                "downscale_indices": [1, 3],
            },
            "spatial_size": 32,
            "temporal_size": 4,
        },
        "MViTHead",
        (1, 3, 4, 32, 32),
    ),
    # MMAction2's own 3D CNNs at small widths (tests/test_mma_3d.py compares them with MMAction2)
    "mma_i3d": (
        {
            "type": "ResNet3d",
            "depth": 18,
            "base_channels": 8,
            "pretrained2d": False,
            "non_local": ((0, 0), (1, 0), (0, 0), (0, 0)),
            "non_local_cfg": {"sub_sample": True, "norm_cfg": {"type": "BN3d"}},
        },
        "I3DHead",
        (1, 3, 4, 32, 32),
    ),
    "mma_slowfast": (
        {
            "type": "ResNet3dSlowFast",
            "resample_rate": 4,
            "speed_ratio": 4,
            "slow_pathway": {"type": "resnet3d", "depth": 18, "base_channels": 16, "lateral": True},
            "fast_pathway": {"type": "resnet3d", "depth": 18, "base_channels": 2},
        },
        "SlowFastHead",
        (1, 3, 8, 32, 32),
    ),
    "mma_csn": (
        {"type": "ResNet3dCSN", "depth": 50, "pretrained": None, "base_channels": 8},
        "I3DHead",
        (1, 3, 4, 32, 32),
    ),
    "mma_r2plus1d": (
        {
            "type": "ResNet2Plus1d",
            "depth": 18,
            "base_channels": 8,
            "pretrained2d": False,
            "conv_cfg": {"type": "Conv2plus1d"},
        },
        "I3DHead",
        (1, 3, 4, 32, 32),
    ),
    "timesformer": (
        TINY_TIMESFORMER,
        "TimeSformerHead",
        (2, 3, 4, 32, 32),
    ),
    "hf_timesformer": (TINY_HF_TIMESFORMER, "TimeSformerHead", (2, 3, 4, 32, 32)),
    "videomae": ({"type": "VisionTransformer", **TINY_VIT}, "TimeSformerHead", (1, 3, 4, 32, 32)),
    "hf_videomae": ({"type": "HFVideoMAE", **TINY_VIT}, "TimeSformerHead", (1, 3, 4, 32, 32)),
}


def recognizer(family: str, num_classes: int = 5, multi: bool = True, **head: object):
    backbone, head_type, shape = FAMILIES[family]
    kind = "Recognizer2D" if len(shape) == 4 else "Recognizer3D"
    cfg = {
        "type": kind,
        "backbone": dict(backbone),
        "cls_head": {"type": head_type, "average_clips": "prob", **head},
        "data_preprocessor": {
            "type": "ActionDataPreprocessor",
            "mean": [128.0] * 3,
            "std": [64.0] * 3,
            "format_shape": "NCHW" if kind == "Recognizer2D" else "NCTHW",
        },
    }
    return build_recognizer(cfg, num_classes=num_classes, multi_label=multi), shape


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_model_trains_a_step_and_scores(family: str) -> None:
    torch.manual_seed(0)
    model, shape = recognizer(family)
    batch = torch.randint(0, 256, (2, *shape), dtype=torch.uint8)
    target = torch.tensor([[1.0, 0, 0, 1, 0], [0, 0, 0, 0, 0]])
    loss = model.loss(batch, target)
    assert math.isfinite(float(loss.detach()))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads)
    with torch.no_grad():
        scores = model.eval().predict(batch)
    assert scores.shape == (2, 5) and ((scores >= 0) & (scores <= 1)).all()


def test_view_averaging_follows_the_definitions() -> None:
    model, _ = recognizer("tiny3d", num_classes=2)
    head = model.cls_head
    logits = torch.tensor([[[2.0, -1.0], [0.0, 3.0]]])  # one sample, two views
    s = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    head.average_clips = "prob"  # multi-label: the mean of sigmoids, never a softmax
    assert head.average_views(logits)[0].tolist() == pytest.approx(
        [(s(2) + s(0)) / 2, (s(-1) + s(3)) / 2]
    )
    head.average_clips = "score"
    assert head.average_views(logits)[0].tolist() == pytest.approx([1.0, 1.0])
    head.average_clips = None
    assert head.average_views(logits).shape == (1, 2, 2)
    single, _ = recognizer("tiny3d", num_classes=2, multi=False)
    single.cls_head.average_clips = "prob"
    e = math.exp
    expected = [
        (e(2) / (e(2) + e(-1)) + 1 / (1 + e(3))) / 2,
        (e(-1) / (e(2) + e(-1)) + e(3) / (1 + e(3))) / 2,
    ]
    assert single.cls_head.average_views(logits)[0].tolist() == pytest.approx(expected)


def test_heads_agree_with_backbone_and_data() -> None:
    model, _ = recognizer("resnet18")
    assert model.cls_head.in_channels == 512  # inferred from the backbone
    with pytest.raises(
        ConfigError, match=r"cls_head\.in_channels: is 2048 but the backbone gives 512 features"
    ):
        recognizer("resnet18", in_channels=2048)
    with pytest.raises(
        ConfigError, match=r"num_classes is 400 in the config but the dataset has 5 classes"
    ):
        build_recognizer(
            {
                "type": "Recognizer3D",
                "backbone": FAMILIES["tiny3d"][0],
                "cls_head": {"type": "I3DHead", "num_classes": 400},
            },
            num_classes=5,
        )
    with pytest.raises(
        ConfigError, match=r"loss_cls is CrossEntropyLoss but the dataset is multi-label"
    ):
        recognizer("tiny3d", loss_cls={"type": "CrossEntropyLoss"})
    bare, _ = recognizer("tiny3d", loss_cls="BCELossWithLogits")  # the notes' bare string
    assert bare.multi_label
    with pytest.raises(ConfigError, match=r"average_clips: must be 'prob', 'score' or None"):
        recognizer("tiny3d", average_clips="mean")
    with pytest.raises(
        ConfigError, match=r"depth: must be 18 here \(got 34\): torchvision has r2plus1d_18"
    ):
        build_recognizer(
            {
                "type": "Recognizer3D",
                "backbone": {"type": "TVResNet2Plus1d18", "depth": 34},
                "cls_head": {"type": "I3DHead", "num_classes": 2},
            }
        )


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch.hub cache of the test's own (nothing from the network lands in it)."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    return tmp_path / "hub" / "checkpoints"


def test_pretrained_weights_load_through_torch_hubs_cache(
    hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision

    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), hub / "resnet18-f37072fd.pth")
    for spec in (
        "https://download.pytorch.org/models/resnet18-f37072fd.pth",
        "torchvision://ResNet18_Weights.IMAGENET1K_V1",
        "torchvision://resnet18",  # MMEngine's name for the same (V1) weights
    ):
        model = build_recognizer(
            {
                "type": "Recognizer2D",
                "backbone": {"type": "ResNet", "depth": 18, "pretrained": spec},
                "cls_head": {"type": "TSNHead", "num_classes": 3},
            }
        )
        # MMAction2's names: torchvision's layer4.1.conv2 / bn2 are layer4.1.conv2.conv / .bn
        block = model.backbone.layer4[1]
        assert torch.equal(block.conv2.conv.weight, reference.layer4[1].conv2.weight)
        assert torch.equal(block.conv2.bn.running_var, reference.layer4[1].bn2.running_var)

    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(
        ConfigError,
        match=rf"model\.backbone\.pretrained: cannot get .*resnet50.*put it at "
        rf"{hub}/resnet50-11ad3fa6\.pth",
    ):
        build_recognizer(
            {
                "type": "Recognizer2D",
                "backbone": {
                    "type": "ResNet",
                    "depth": 50,
                    "pretrained": "https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
                },
                "cls_head": {"type": "TSNHead", "num_classes": 3},
            }
        )


@pytest.mark.slow
def test_huggingface_weights_load_from_a_local_folder_and_the_hub_cache(tmp_path: Path) -> None:
    from transformers import TimesformerConfig, TimesformerForVideoClassification

    config = TimesformerConfig(
        image_size=32,
        patch_size=16,
        num_frames=4,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=3,
    )
    reference = TimesformerForVideoClassification(config)
    folder = tmp_path / "tiny-timesformer"
    reference.save_pretrained(folder)
    backbone = dict(TINY_HF_TIMESFORMER)
    model = build_recognizer(
        {
            "type": "Recognizer3D",
            "backbone": {**backbone, "pretrained": str(folder)},
            "cls_head": {"type": "TimeSformerHead", "num_classes": 2},
        }
    )
    assert torch.equal(
        model.backbone.model.embeddings.cls_token, reference.timesformer.embeddings.cls_token
    )
    # hf://org/name from the hub's cache, offline (a fresh process: the cache is read at import).
    cache = tmp_path / "hf"
    snapshot = cache / "models--ethoclip--tiny-timesformer" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (snapshot / name).write_bytes((folder / name).read_bytes())
    (cache / "models--ethoclip--tiny-timesformer" / "refs").mkdir()
    (cache / "models--ethoclip--tiny-timesformer" / "refs" / "main").write_text("0" * 40)
    code = (
        "import torch, sys\n"
        "from ethoclip.models import build_recognizer\n"
        f"b = {backbone!r}\n"
        "head = {'type': 'TimeSformerHead', 'num_classes': 2}\n"
        "def build(name):\n"
        "    b2 = {**b, 'pretrained': 'hf://ethoclip/' + name}\n"
        "    return build_recognizer({'type': 'Recognizer3D', 'backbone': b2, 'cls_head': head})\n"
        "m = build('tiny-timesformer')\n"
        "print(float(m.backbone.model.embeddings.cls_token.detach().sum()))\n"
        "try:\n"
        "    build('not-cached')\n"
        "except Exception as e:\n"
        "    print(e)\n"
    )
    env = {**__import__("os").environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.splitlines()
    assert float(out[0]) == pytest.approx(
        float(reference.timesformer.embeddings.cls_token.detach().sum()), rel=1e-5
    )
    assert out[1].startswith(
        "model.backbone.pretrained: cannot get ethoclip/not-cached from the Hugging Face hub"
    )
    assert f"copy the cache to {cache}" in out[1]


def test_mmaction2_checkpoints_load_as_they_are(tmp_path: Path) -> None:
    # ethoclip's ResNet has MMAction2's names (backbone.conv1.conv.weight …): its checkpoint in
    # MMEngine's layout is an MMAction2 checkpoint. Real ones: tests/test_mma_2d.py.
    source, _ = recognizer("resnet18", num_classes=4, multi=False)
    assert "backbone.layer1.0.conv1.conv.weight" in source.state_dict()
    path = tmp_path / "tsn_mmaction.pth"
    torch.save({"meta": {"mmengine_version": "0.10.7"}, "state_dict": source.state_dict()}, path)
    target, _ = recognizer("resnet18", num_classes=4, multi=False)
    assert load_weights(target, str(path)) == [f"{path}: MMAction2 checkpoint"]
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    other, _ = recognizer("resnet18", num_classes=7, multi=False)
    with pytest.raises(
        CheckpointError,
        match=r"head does not fit \(it has 4 classes, this model 7\).*--reinit-head",
    ):
        load_weights(other, str(path))
    assert "head re-initialised (another label set)" in load_weights(
        other, str(path), reinit_head=True
    )


def test_mmaction2_timesformer_checkpoints_load_as_they_are(tmp_path: Path) -> None:
    """ethoclip's TimeSformer has MMAction2's names: its checkpoint (MMEngine's layout, meta +
    state_dict) loads without renaming; a Hugging Face one names the model it fits."""
    source, _ = recognizer("timesformer", num_classes=3)
    assert "backbone.transformer_layers.layers.1.attentions.0.temporal_fc.weight" in dict(
        source.state_dict()
    )
    path = tmp_path / "timesformer_mmaction.pth"
    torch.save({"meta": {}, "state_dict": source.state_dict()}, path)
    target, _ = recognizer("timesformer", num_classes=3)
    assert load_weights(target, str(path)) == [f"{path}: MMAction2 checkpoint"]
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    with pytest.raises(
        ConfigError, match=r"Hugging Face TimeSformer weights load into type='HFTimeSformer'"
    ):
        build_recognizer(
            {
                "type": "Recognizer3D",
                "backbone": {**TINY_TIMESFORMER, "pretrained": "hf://facebook/x"},
                "cls_head": {"type": "TimeSformerHead", "num_classes": 2},
            }
        )


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "options"),
    [
        (
            "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py",
            ["model.backbone.pretrained=None"],
        ),
        (
            "recognition/timesformer/timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb.py",
            [
                "model.backbone.pretrained=None",
                "model.backbone.embed_dims=64",
                "model.backbone.num_heads=2",
                "model.backbone.num_transformer_layers=2",
                "model.cls_head.in_channels=None",
                "train_dataloader.dataset.pipeline.1.frame_interval=6",
            ],
        ),
    ],
)
def test_the_notes_mmaction2_configs_train_a_batch_on_a_prepare_output(
    name: str, options: list[str], demo_dataset: Path, tmp_path: Path
) -> None:
    """MMAction2 1.2.0's own TSN and TimeSformer files, pointed at a demo dataset: one batch
    forward and backward with classes and multi-label mode taken from the data."""
    try:
        wheel = fetch_package("mmaction2==1.2.0")
    except Unavailable as exc:
        pytest.skip(str(exc))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path, [m for m in archive.namelist() if "/.mim/configs/" in m])
    from ethoclip.engine import build_experiment, read_settings

    data = [
        f"train_dataloader.dataset.ann_file={demo_dataset}/train.txt",
        f"train_dataloader.dataset.data_prefix.video={demo_dataset}",
        "train_dataloader.batch_size=2",
        "train_dataloader.num_workers=0",
        "model.cls_head.num_classes=None",
        "val_dataloader=None",
    ]
    cfg = Config.fromfile(tmp_path / "mmaction/.mim/configs" / name, [*data, *options])
    experiment = build_experiment(cfg, read_settings(cfg))
    model = experiment.model
    assert model.num_classes == 6 and model.multi_label  # from label_map.txt and the lists
    batch = next(iter(experiment.train_loader))
    loss = model.loss(batch["inputs"], batch["label"])
    loss.backward()
    assert math.isfinite(float(loss.detach()))
