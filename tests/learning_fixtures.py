"""A checkpoint made without training: a tiny model built from a config exactly as ``train``
builds it, saved in ``train``'s format (weights at initialisation). For tests of what reads
checkpoints (``test``, ``predict``, ``load_from``), where what the model learned is irrelevant."""

from __future__ import annotations

from pathlib import Path

import torch

from ethoclip.config import Config
from ethoclip.engine._experiment import build_experiment, read_settings
from ethoclip.models._checkpoint import new_meta

TINY = """\
data_root = {data!r}
model = dict(type='Recognizer3D', backbone=dict(type='TinyVideoNet', widths=(4, 8)),
             cls_head=dict(type='I3DHead', num_classes=None, average_clips='prob'),
             data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.0] * 3,
                                    std=[64.0] * 3, format_shape='NCTHW'))
pipe = [dict(type='DecordInit'), dict(type='SampleFrames', clip_len=4, frame_interval=8,
                                      test_mode=True),
        dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 32)),
        dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
train_dataloader = dict(batch_size=4, num_workers=0,
    dataset=dict(type='ClipDataset', data_root=data_root, split='train', pipeline=pipe))
val_dataloader = dict(batch_size=4, num_workers=0,
    dataset=dict(type='VideoDataset', ann_file=data_root + '/val.txt',
                 data_prefix=dict(video=data_root), pipeline=pipe, test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=('mean_average_precision',))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=0.01))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=2, by_epoch=True, milestones=[1])]
"""


def tiny_config(data: Path, folder: Path) -> Path:
    path = folder / "tiny.py"
    path.write_text(TINY.format(data=str(data)))
    return path


def fabricate_checkpoint(config: Path, out: Path, *, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    cfg = Config.fromfile(config)
    settings = read_settings(cfg)
    experiment = build_experiment(cfg, settings)
    meta = new_meta(
        config=cfg.to_dict(),
        config_text=cfg.dump(),
        model=experiment.model,
        classes=experiment.classes,
        multi_label=experiment.multi_label,
        preprocessing=experiment.preprocessing,
        seed=0,
    )
    meta["thresholds"] = [0.5] * len(experiment.classes)  # as validation would have chosen
    state = {f"model.{k}": v for k, v in experiment.model.state_dict().items()}
    torch.save({"state_dict": state, "ethoclip": meta}, out)
    return out


def assert_takes_a_training_step(cfg: Config, frames: int, size: tuple[int, int]) -> None:
    """A shrunken model built from ``cfg`` takes one training step on a random uint8 batch of
    ``frames`` frames at ``size`` (h, w), and its backbone gets gradients."""
    from ethoclip.models import build_recognizer

    cfg.model.backbone.widths = (4, 8, 8, 8)
    model = build_recognizer(cfg.model, num_classes=cfg.num_classes, multi_label=True)
    clips = torch.randint(0, 255, (2, 1, 3, frames, *size), dtype=torch.uint8)
    labels = torch.zeros(2, cfg.num_classes)
    labels[0, 0] = labels[1, 1:3] = 1.0
    model.loss(clips, labels).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.backbone.parameters())
