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
