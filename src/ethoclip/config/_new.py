"""``ethoclip config new``: a ready, commented config for a ``prepare`` folder and a model.

Everything that must agree with the data is read from the data: the number of classes and
multi-label mode from ``label_map.txt`` and the lists, the clip sampling from the clips' frame
count, the schedule from the number of training clips. The user never keeps them in sync.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..dataset import load_dataset
from ..errors import ConfigError
from ._rates import time_sampling


@dataclass(frozen=True)
class ModelFamily:
    base: str  # shipped model config it inherits
    kind: str  # "2d" (frames, TSN) or "3d" (clips)
    frames: int  # frames per clip the backbone takes (3D), or segments (2D)
    short_side: int  # resize before cropping
    crop: int | None  # None: the whole frame (a small model on small clips keeps everything)
    batch_size: int
    lr: float
    pretrained: bool
    about: str
    clips_seen: int | None = None  # None: epochs_for's default for the kind of training
    pairs: bool = False  # PairFrames after SampleFrames: each sampled frame and the next one


MODEL_FAMILIES = {
    "tiny3d": ModelFamily("tiny3d", "3d", 24, 64, None, 8, 3e-3, False, "small 3D CNN, CPU"),
    # 96 px: a 20-pixel animal in a 320×240 video stays 8 pixels long; 1200 clips shown: a
    # 2-core CPU trains it in minutes (benchmarks/bench_learning.py measures both).
    "motionnet": ModelFamily(
        "motionnet", "3d", 16, 96, None, 8, 2e-3, False, "MotionNet: motion-aware CNN, CPU", 1200
    ),
    # tiny3d beside the clip's motion/foreground statistics, taught per step too
    # (models/backbones/hybrid.py, models/heads/step.py). 96 px rather than 64: a small animal
    # keeps its shape (fish_tank's per-step bouts found: 10 → 17 of 32), for ~6 instead of ~3
    # CPU minutes of training (docs/benchmarks.md, "Per-step supervision").
    "hybrid": ModelFamily(
        "hybrid", "3d", 24, 96, None, 8, 3e-3, False, "TinyVideoNet + clip statistics, CPU"
    ),
    # hybrid with the CNN on the animal at up to twice the resolution, for a small animal
    # (configs/_base_/models/hybrid_zoom.py): 1.2–1.6× hybrid's CPU; on the zoo (one seed) val
    # mAP equal or higher on 4 of 5 projects, bouts mixed; not yet the default
    # (docs/benchmarks.md, "An animal-centred view").
    "hybrid_zoom": ModelFamily(
        "hybrid_zoom", "3d", 24, 192, None, 8, 3e-3, False, "hybrid, CNN on the animal at 2×, CPU"
    ),
    # hybrid_zoom with each sampled frame's next video frame too (data/_pairs.py): fast small
    # movements the 0.16 s sampling aliases (configs/_base_/models/hybrid_zoom_pairs.py).
    "hybrid_zoom_pairs": ModelFamily(
        "hybrid_zoom_pairs",
        "3d",
        24,
        192,
        None,
        8,
        3e-3,
        False,
        "hybrid_zoom + frame pairs, CPU",
        pairs=True,
    ),
    # hybrid_zoom_pairs with the CNN's view following one tracked animal frame by frame, on
    # stabilised statistics (configs/_base_/models/hybrid_follow.py; docs/benchmarks.md, tenth
    # round).
    "hybrid_follow": ModelFamily(
        "hybrid_follow",
        "3d",
        24,
        192,
        None,
        8,
        3e-3,
        False,
        "hybrid + frame pairs, CNN following one animal at 2×, CPU",
        pairs=True,
    ),
    "tsn_r18": ModelFamily("tsn_r18", "2d", 8, 128, 112, 8, 1e-4, True, "TSN, ResNet-18"),
    "tsn_r50": ModelFamily("tsn_r50", "2d", 8, 256, 224, 8, 1e-4, True, "TSN, ResNet-50"),
    "r2plus1d_r18": ModelFamily(
        "r2plus1d_r18", "3d", 16, 128, 112, 4, 1e-4, True, "R(2+1)D-18, Kinetics"
    ),
    "swin3d_tiny": ModelFamily("swin3d_tiny", "3d", 16, 224, 224, 2, 1e-4, True, "Video Swin-T"),
    "timesformer": ModelFamily(
        "timesformer_base", "3d", 8, 224, 224, 2, 5e-5, True, "TimeSformer-B (HF), Kinetics"
    ),
    "videomae": ModelFamily(
        "videomae_base", "3d", 16, 224, 224, 2, 5e-5, True, "VideoMAE ViT-B (HF), Kinetics"
    ),
}


# From scratch, a pretrained family's backbone takes a from-scratch learning rate: this many
# times its fine-tuning one (AdamW; 1e-4 → 1e-3, the rate the CPU models train at).
SCRATCH_LR_FACTOR = 10.0
POS_WEIGHT_CAP = 10.0  # a class with 1 positive in 200 clips is not weighted 199 to 1


def default_model() -> str:
    """The model ``config new`` picks when none is named: the best for this machine.

    Fine-tuning a pretrained network is better where it can run: a GPU, and the weights in
    torch.hub's cache already (``config new`` never downloads). Otherwise ``hybrid``: the small
    3D CNN ``tiny3d`` beside the clip's motion/foreground statistics, which learns from scratch
    in CPU minutes. It is the one CPU model above a hand-made baseline (those statistics and a
    logistic regression) on every zoo project measured (benchmarks/bench_learning.py): tiny3d
    alone scores higher on some projects but falls below the baseline on others (crab_pair;
    a top-view arena project: 0.46 vs 0.80), and a default must hold on projects nobody
    measured. ``--model tiny3d`` and ``--model motionnet`` stay shipped.
    """
    import torch

    from ..models._weights import hub_checkpoints

    cached = hub_checkpoints() / "r2plus1d_18-91a641e6.pth"
    if torch.cuda.is_available() and cached.is_file():
        return "r2plus1d_r18"
    return "hybrid"


def pos_weights(counts: list[int], total: int) -> list[float]:
    """Per class, negatives per positive in the training clips (BCE's ``pos_weight``), so a
    rare behaviour weighs as much as a common one; capped, and 1 for a class never seen."""
    return [round(min(POS_WEIGHT_CAP, (total - c) / c), 2) if c else 1.0 for c in counts]


def epochs_for(num_train: int, *, pretrained: bool, seen: int | None = None) -> int:
    """Enough passes to show the model ~1800 clips from scratch (~1000 when fine-tuning; or
    ``seen``), within sensible bounds: few clips get many epochs, many clips few. (The demo's
    tiny model reaches val mAP 0.93 on 133 clips in 14 epochs.)"""
    seen = seen or (1000 if pretrained else 1800)
    low, high = (3, 30) if pretrained else (10, 100)
    return max(low, min(high, math.ceil(seen / max(num_train, 1))))


def new_config(
    data_dir: str | Path,
    model: str | None = None,
    *,
    from_scratch: bool = False,
    class_balance: bool = True,
) -> str:
    """The text of a config that trains ``model`` (None: ``default_model()``) on the
    ``prepare`` output ``data_dir``; ``from_scratch``: no pretrained weights, and the learning
    rate and epochs of training from scratch."""
    if model is None:
        model = default_model()
    if model not in MODEL_FAMILIES:
        raise ConfigError(
            f"--model {model!r} is not one ethoclip ships; use one of {', '.join(MODEL_FAMILIES)}"
        )
    family = MODEL_FAMILIES[model]
    dataset = load_dataset(data_dir)
    root = dataset.root.resolve()
    train = dataset.split("train")
    val_split = "val" if "val" in dataset.splits else "train"
    clip_frames = min(r.num_frames for r in dataset.records)
    fps = train[0].fps
    test_split = "test" if "test" in dataset.splits else None
    rates = sorted({r.rate for r in dataset.records})
    rates_text = ", ".join(f"{float(r):g}" for r in rates)
    multi = dataset.multi_label
    pretrained = family.pretrained and not from_scratch
    seen = family.clips_seen if not (family.pretrained and from_scratch) else None
    epochs = epochs_for(len(train), pretrained=pretrained, seen=seen)
    lr = family.lr * (SCRATCH_LR_FACTOR if family.pretrained and not pretrained else 1.0)
    if family.kind == "3d":
        timing = time_sampling(dataset.records, family.frames)
        interval = timing.frame_interval
        sample = f"clip_len={family.frames}, frame_interval={interval}, num_clips=1"
        if timing.target_fps is None:
            sampling_note = (
                f"{family.frames} frames every {interval} of the clips' {clip_frames} "
                f"({family.frames * interval / fps:.2f} s of {clip_frames / fps:.2f} s)"
            )
        else:  # mixed frame rates: sample by time (config/_rates.py)
            sample += f", target_fps={timing.target_fps:g}"
            sampling_note = (
                f"{family.frames} frames over {timing.span_sec:.2f} s at every frame rate "
                f"(target_fps={timing.target_fps:g}: {timing.describe()})"
            )
        shape = "NCTHW"
    else:
        sample = f"clip_len=1, frame_interval=1, num_clips={family.frames}"
        sampling_note = f"{family.frames} segments of the clips' {clip_frames} frames (TSN)"
        shape = "NCHW"
    loss = "BCELossWithLogits" if multi else "CrossEntropyLoss"
    loss_cls = f"dict(type='{loss}')"
    if multi and class_balance:
        counts = [0] * dataset.num_classes
        for record in train:
            for i in record.label_ids:
                counts[i] += 1
        # Negatives per positive in the training clips, so rare behaviours count.
        loss_cls = f"dict(type='{loss}', pos_weight={pos_weights(counts, len(train))})"
    backbone = (
        "backbone=dict(pretrained=None),  # --from-scratch\n    "
        if family.pretrained and from_scratch
        else ""
    )
    metrics = (
        "('mean_average_precision', 'mmit_mean_average_precision')"
        if multi
        else "('top_k_accuracy', 'mean_class_accuracy')"
    )
    s, c = family.short_side, family.crop
    if c is None:  # the whole frame: only a random flip
        train_crop = ""
        val_crop = ""
    else:
        train_crop = (
            "    dict(type='RandomResizedCrop', area_range=(0.6, 1.0)),\n"
            f"    dict(type='Resize', scale=({c}, {c}), keep_ratio=False),\n"
        )
        val_crop = f"    dict(type='CenterCrop', crop_size={c}),\n"
    pair_step = (
        "    dict(type='PairFrames'),  # each sampled frame and the video's next one\n"
        if family.pairs
        else ""
    )
    command = f"ethoclip config new --data {data_dir} --model {model}"
    if from_scratch:
        command += " --from-scratch"
    return f"""# Written by `{command}` (ethoclip {__version__}).
# Dataset: {root}
#   {dataset.num_classes} labels ({"multi-label" if multi else "single-label"}), \
{len(train)} train / {len(dataset.records) - len(train)} held-out clips, \
{clip_frames} frames at {rates_text} fps.
# Model: {family.about}. Edit freely; `ethoclip config show THIS_FILE` shows where each value
# comes from, `ethoclip train THIS_FILE` trains.
_base_ = [
    'ethoclip::_base_/models/{family.base}.py',
    'ethoclip::_base_/schedules/adamw_cosine.py',
    'ethoclip::_base_/default_runtime.py',
]

data_root = {str(root)!r}
num_classes = {dataset.num_classes}  # = lines of label_map.txt
max_epochs = {epochs}  # ~{seen or (1000 if pretrained else 1800)} clips shown in all, for \
{len(train)} training clips

model = dict(
    {backbone}cls_head=dict(num_classes=num_classes, loss_cls={loss_cls},
                  # {"sigmoid" if multi else "softmax"} scores, averaged over views
                  average_clips='prob'))

# Sampling: {sampling_note}.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', {sample}),
{pair_step}    dict(type='DecordDecode', cache=True),  # decoded once, at the Resize's size
    dict(type='Resize', scale=(-1, {s})),
{train_crop}    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='{shape}'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', {sample}, test_mode=True),
{pair_step}    dict(type='DecordDecode', cache=True),
    dict(type='Resize', scale=(-1, {s})),
{val_crop}    dict(type='FormatShape', input_format='{shape}'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline

clip_dataset = dict(type='VideoDataset', data_prefix=dict(video=data_root),
               multi_class={multi}, num_classes=num_classes)
train_dataloader = dict(
    batch_size={family.batch_size}, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**clip_dataset, ann_file=data_root + '/train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size={family.batch_size}, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**clip_dataset, ann_file=data_root + '/{val_split}.txt', pipeline=val_pipeline,
                 test_mode=True))
{_test_loader(test_split)}

val_evaluator = dict(type='AccMetric', metric_list={metrics})
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr={lr:g}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min={lr / 100:g},
         by_epoch=True, begin=1, end=max_epochs),
]
auto_scale_lr = dict(enable=False, base_batch_size={family.batch_size})
"""


def _test_loader(split: str | None) -> str:
    """``test.txt`` when the dataset has a test split: ``ethoclip test --split test`` must not
    evaluate the validation clips (which also chose the thresholds)."""
    if split is None:
        return "test_dataloader = val_dataloader  # the dataset has no test split"
    return (
        "test_dataloader = dict(\n"
        "    batch_size=val_dataloader['batch_size'], num_workers=2, persistent_workers=True,\n"
        "    sampler=dict(type='DefaultSampler', shuffle=False),\n"
        f"    dataset=dict(**clip_dataset, ann_file=data_root + '/{split}.txt', "
        "pipeline=test_pipeline,\n"
        "                 test_mode=True))"
    )
