"""The default learning path: MotionNet's inputs and shapes, and what ``config new`` writes
when no model is named, with ``--from-scratch``, and for class imbalance."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ethoclip.cli import main
from ethoclip.config import Config, check_config
from ethoclip.config._new import default_model, epochs_for, new_config, pos_weights
from ethoclip.dataset import load_dataset
from ethoclip.errors import ConfigError
from ethoclip.models import build_recognizer
from ethoclip.models.backbones.motionnet import MotionNet

from .learning_fixtures import assert_takes_a_training_step


def test_motionnet_derives_motion_and_foreground_channels() -> None:
    net = MotionNet(widths=(4, 8, 8, 8))
    still = torch.ones(2, 3, 4, 32, 32)
    derived = net.inputs(still)
    assert derived.shape == (2, 9, 4, 32, 32)
    assert torch.equal(derived[:, :3], still)
    assert derived[:, 3:].abs().max() == 0  # nothing moves, nothing differs from the mean
    moving = still.clone()
    moving[:, :, 2, 10:14, 10:14] = 5.0  # something appears in frame 2 only
    derived = net.inputs(moving)
    assert derived[:, 3:6, 2, 10:14, 10:14].min() > 0  # the difference to frame 1
    assert derived[:, 3:6, 1].abs().max() == 0
    assert derived[:, 6:9, 2, 10:14, 10:14].min() > 0  # foreground: not the clip's mean
    out = net(moving)
    assert out.shape == (2, net.out_channels, 1, 1, 1) and net.out_channels == 32
    assert MotionNet(widths=(4, 8, 8), motion=False, foreground=False).inputs(still).shape[1] == 3
    assert MotionNet(widths=(4, 8, 8), pool="avg").out_channels == 8
    with pytest.raises(ConfigError, match="widths"):
        MotionNet(widths=(4, 8))


def test_motionnet_position_reaches_the_output() -> None:
    """The same blob at the top or the bottom of the frame: with coordinate channels the pooled
    features differ; without, (max) pooling makes them nearly the same."""
    torch.manual_seed(0)
    top = torch.zeros(1, 3, 4, 64, 64)
    top[:, :, :, 4:12, 28:36] = 3.0
    bottom = torch.roll(top, shifts=48, dims=3)
    for coords in (True, False):
        net = MotionNet(widths=(4, 8, 8, 8), coords=coords).eval()
        with torch.no_grad():
            gap = (net(top) - net(bottom)).abs().max().item()
        if coords:
            with_coords = gap
        else:
            assert with_coords > 4 * gap


def test_the_shipped_motionnet_config_builds_and_trains_a_step() -> None:
    cfg = Config.fromfile("ethoclip::_base_/models/motionnet.py")
    cfg.model.backbone.widths = (4, 8, 8, 8)
    model = build_recognizer(cfg.model, num_classes=3, multi_label=True)
    clips = torch.randint(0, 255, (2, 1, 3, 4, 32, 32), dtype=torch.uint8)
    model.loss(clips, torch.tensor([[1.0, 0, 0], [0, 1, 1]])).backward()
    assert model.backbone.stem[0][0].weight.grad is not None


def test_pos_weights_are_negatives_per_positive() -> None:
    assert pos_weights([10, 50, 0, 1], 100) == [9.0, 1.0, 1.0, 10.0]  # capped at 10


def test_config_new_defaults_to_the_cpu_model_with_class_weights(
    demo_dataset: Path, tmp_path: Path
) -> None:
    if not torch.cuda.is_available():
        assert default_model() == "hybrid"
    out = tmp_path / "default.py"
    assert main(["config", "new", "--data", str(demo_dataset), "--out", str(out)]) == 0
    cfg = Config.fromfile(out)
    assert check_config(cfg.to_dict()) == []
    if default_model() == "hybrid":
        assert cfg.model.backbone.type == "HybridNet" and cfg.model.backbone.steps is True
        assert cfg.model.cls_head.type == "StepHead"
        resize = next(t for t in cfg.train_pipeline if t.type == "Resize")
        assert tuple(resize.scale) == (-1, 96)  # the CNN's input size
    dataset = load_dataset(demo_dataset)
    train = dataset.split("train")
    counts = [sum(i in r.label_ids for r in train) for i in range(dataset.num_classes)]
    assert cfg.model.cls_head.loss_cls.pos_weight == pos_weights(counts, len(train))
    assert all(w >= 1.0 for w in cfg.model.cls_head.loss_cls.pos_weight)
    decode = next(t for t in cfg.train_pipeline if t.type == "DecordDecode")
    assert decode.cache is True


def test_config_new_from_scratch_sets_a_from_scratch_schedule(
    demo_dataset: Path, tmp_path: Path
) -> None:
    n = len(load_dataset(demo_dataset).split("train"))
    (tmp_path / "tuned.py").write_text(new_config(demo_dataset, "tsn_r18"))
    (tmp_path / "scratch.py").write_text(new_config(demo_dataset, "tsn_r18", from_scratch=True))
    tuned = Config.fromfile(tmp_path / "tuned.py")
    scratch = Config.fromfile(tmp_path / "scratch.py")
    assert tuned.model.backbone.pretrained.startswith("https://")
    assert scratch.model.backbone.pretrained is None
    assert scratch.optim_wrapper.optimizer.lr == pytest.approx(
        10 * tuned.optim_wrapper.optimizer.lr
    )
    assert tuned.train_cfg.max_epochs == epochs_for(n, pretrained=True)
    assert scratch.train_cfg.max_epochs == epochs_for(n, pretrained=False)
    assert scratch.param_scheduler[1].end == scratch.train_cfg.max_epochs


def test_config_new_hybrid_zoom_decodes_at_twice_the_size_its_statistics_see(
    demo_dataset: Path, tmp_path: Path
) -> None:
    """``--model hybrid_zoom``: every pipeline decodes at 192 px, twice what the statistics were
    designed at, and the backbone pools them back by that factor (2) and zooms for the CNN; the
    user edits nothing. A model built from it takes a training step on a 192-px batch."""
    out = tmp_path / "zoom.py"
    assert main(["config", "new", "--data", str(demo_dataset), "--model", "hybrid_zoom",
                 "--out", str(out)]) == 0  # fmt: skip
    cfg = Config.fromfile(out)
    assert check_config(cfg.to_dict()) == []
    for key in ("train_pipeline", "val_pipeline", "test_pipeline"):
        resize = next(t for t in cfg[key] if t.type == "Resize")
        assert tuple(resize.scale) == (-1, 192)
    plain = Config.fromfile("ethoclip::_base_/models/hybrid.py").model.backbone
    assert cfg.model.backbone.stats_pool * 96 == 192 and cfg.model.backbone.zoom == 0.9
    assert {k: v for k, v in cfg.model.backbone.items() if k not in ("stats_pool", "zoom")} == {
        **plain
    }
    assert_takes_a_training_step(cfg, frames=8, size=(192, 256))
