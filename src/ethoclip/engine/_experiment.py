"""From a config to what training needs: the settings, the data and a model that fit together.

Only ``engine`` and ``cli`` unpack configs; everything built here gets plain arguments.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader

from ..config import Config, check_config, to_plain
from ..config._runtime_keys import STEP_METRIC, runtime_findings
from ..data import (
    ClipDataset,
    ClipSamples,
    SampleFrames,
    VideoDataset,
    build_dataloader,
    cached_probe,
)
from ..dataset import MANIFEST, read_manifest
from ..errors import ConfigError, MediaError
from ..evaluation import AccMetric
from ..models import BaseRecognizer, build_recognizer
from ..registry import HOOKS, LOOPS, METRICS, OPTIM_WRAPPERS, PARAM_SCHEDULERS, building
from ._hooks import CheckpointHook, EMAHook, EmptyCacheHook, LoggerHook
from ._loops import EpochBasedTrainLoop
from ._optim import OptimWrapper
from ._schedulers import ParamScheduler

# How many clips are probed to check that sampling fits them (all, for small datasets).
_PROBE_CLIPS = 64


@dataclass
class Settings:
    """What the trainer reads from a config, built and checked once."""

    train_loop: EpochBasedTrainLoop
    optim: OptimWrapper
    schedulers: list[ParamScheduler]
    torch_schedulers: list[dict[str, Any]]
    checkpoint: CheckpointHook
    logger: LoggerHook
    evaluator: AccMetric
    lr_scale_base: int | None  # auto_scale_lr.base_batch_size when enabled
    load_from: str | None
    resume: bool
    seed: int
    deterministic: bool
    ignored: list[str] = field(default_factory=list)
    empty_cache: EmptyCacheHook | None = None
    averaging: EMAHook | None = None
    val_fp16: bool = False


def read_settings(cfg: Config) -> Settings:
    data = cfg.to_dict()
    ignored = check_config(data) + runtime_findings(data)
    with building("train_cfg"):
        train_cfg = dict(data.get("train_cfg") or {})
        if "max_epochs" not in train_cfg:
            raise ConfigError("train_cfg.max_epochs: missing; e.g. train_cfg = dict(max_epochs=30)")
        train_cfg.setdefault("type", "EpochBasedTrainLoop")
        train_cfg.pop("by_epoch", None)
    loop = LOOPS.build(train_cfg, key="train_cfg")
    if not isinstance(loop, EpochBasedTrainLoop):
        raise ConfigError(
            f"train_cfg.type: {train_cfg['type']} cannot train; use EpochBasedTrainLoop"
        )
    for name in ("val_cfg", "test_cfg"):
        if data.get(name):
            LOOPS.build(
                {"type": "ValLoop" if name == "val_cfg" else "TestLoop", **data[name]}, key=name
            )
    wrapper_cfg = dict(data.get("optim_wrapper") or {})
    if "optimizer" not in wrapper_cfg:
        raise ConfigError(
            "optim_wrapper.optimizer: missing; e.g. optimizer=dict(type='AdamW', lr=1e-3)"
        )
    wrapper_cfg.setdefault("type", "OptimWrapper")
    optim = OPTIM_WRAPPERS.build(wrapper_cfg, key="optim_wrapper")
    schedulers, torch_schedulers = [], []
    raw = data.get("param_scheduler") or []
    for index, item in enumerate(raw if isinstance(raw, list) else [raw]):
        entry = PARAM_SCHEDULERS.entry(str(item.get("type")), key=f"param_scheduler.{index}.type")
        if entry.target.startswith("torch."):
            torch_schedulers.append(dict(item))  # torch's own: built with the optimizer
        else:
            schedulers.append(PARAM_SCHEDULERS.build(item, key=f"param_scheduler.{index}"))
    hooks = dict(data.get("default_hooks") or {})
    built = {}
    for name, hook in hooks.items():
        if hook is None:
            continue
        built[name] = HOOKS.build(hook, key=f"default_hooks.{name}")
    for index, hook in enumerate(data.get("custom_hooks") or []):  # runtime_findings checked
        built[f"custom_hooks.{index}"] = HOOKS.build(hook, key=f"custom_hooks.{index}")
    evaluator = METRICS.build(
        dict(data.get("val_evaluator") or {"type": "AccMetric"}), key="val_evaluator"
    )
    scale = dict(data.get("auto_scale_lr") or {})
    randomness = dict(data.get("randomness") or {})
    return Settings(
        train_loop=loop,
        optim=optim,
        schedulers=schedulers,
        torch_schedulers=torch_schedulers,
        checkpoint=built.get("checkpoint") or CheckpointHook(),
        logger=built.get("logger") or LoggerHook(),
        evaluator=evaluator,
        lr_scale_base=int(scale["base_batch_size"]) if scale.get("enable") else None,
        load_from=data.get("load_from"),
        resume=bool(data.get("resume", False)),
        seed=int(randomness["seed"]) if randomness.get("seed") is not None else 0,
        deterministic=bool(randomness.get("deterministic", False)),
        ignored=ignored,
        empty_cache=next((h for h in built.values() if isinstance(h, EmptyCacheHook)), None),
        averaging=next((h for h in built.values() if isinstance(h, EMAHook)), None),
        val_fp16=bool((data.get("val_cfg") or {}).get("fp16")),  # built (checked) above
    )


def clip_facts(dataset: ClipSamples) -> dict[str, Any]:
    """Frames per clip, rate and length of the clips a dataset holds (for sampling checks and
    for prediction on long videos, which cuts windows the same way)."""
    if isinstance(dataset, ClipDataset):
        records = dataset.records
    else:
        manifest = Path(dataset.source).parent / MANIFEST
        records = read_manifest(manifest.parent) if manifest.is_file() else []
    if records and len({r.rate for r in records}) == 1:
        first = records[0]
        return {
            "clip_frames": min(r.num_frames for r in records),
            "fps": first.fps_exact,
            "clip_sec": round(first.num_frames / float(Fraction(first.fps_exact)), 6),
            "clip_size": [first.width, first.height],
        }
    if records:
        first = records[0]
        # Mixed frame rates: windows are cut at the slowest rate, the one config new's
        # SampleFrames(target_fps=…) samples by (config/_rates.py).
        slowest = min(records, key=lambda r: r.rate)
        return {
            "clip_frames": min(
                int(r.num_frames * slowest.rate / r.rate + Fraction(1, 10**6)) for r in records
            ),
            "fps": slowest.fps_exact,
            "clip_sec": round(min(r.duration_sec for r in records), 6),
            "clip_size": [first.width, first.height],
        }
    frames, fps, size = [], None, None
    for sample in dataset.samples[:_PROBE_CLIPS]:
        try:
            probe = cached_probe(sample.path)
        except MediaError:
            continue
        stream = probe.video_streams[0]
        frames.append(stream.frames)
        fps = fps or str(stream.fps_exact)
        size = size or [stream.width, stream.height]
    if not frames:
        return {"clip_frames": None, "fps": None, "clip_sec": None, "clip_size": None}
    rate = float(Fraction(fps)) if fps else 0.0
    return {
        "clip_frames": min(frames),
        "fps": fps,
        "clip_sec": round(min(frames) / rate, 6) if rate else None,
        "clip_size": size,
    }


def check_sampling(dataset: ClipSamples, key: str, clip_frames: int | None) -> None:
    """Refuse sampling that asks for more frames than the clips have (MMAction2 would loop)."""
    if clip_frames is None:
        return
    for index, transform in enumerate(dataset.pipeline.transforms):
        if not isinstance(transform, SampleFrames) or transform.target_fps:
            continue
        span = (transform.clip_len - 1) * transform.frame_interval + 1
        if span > clip_frames and transform.num_clips == 1:
            best = (
                max(1, (clip_frames - 1) // max(1, transform.clip_len - 1))
                if transform.clip_len > 1
                else 1
            )
            raise ConfigError(
                f"{key}.pipeline.{index}: SampleFrames takes {transform.clip_len} frames "
                f"{transform.frame_interval} apart ({span} frames) but the clips have "
                f"{clip_frames}; use frame_interval={best} (or fewer frames)"
            )


@dataclass
class Experiment:
    settings: Settings
    model: BaseRecognizer
    train_loader: DataLoader[Any]
    val_loader: DataLoader[Any] | None
    classes: list[str]
    multi_label: bool
    preprocessing: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def build_experiment(cfg: Config, settings: Settings, *, reinit_head: bool = False) -> Experiment:
    data = cfg.to_dict()
    if not data.get("train_dataloader"):
        raise ConfigError("train_dataloader: missing; the config has no training data")
    train_loader = build_dataloader(
        data["train_dataloader"], key="train_dataloader", training=True, seed=settings.seed
    )
    train_set: ClipSamples = train_loader.dataset  # type: ignore[assignment]
    train_set.seed = settings.seed
    facts = clip_facts(train_set)
    check_sampling(train_set, "train_dataloader.dataset", facts["clip_frames"])
    val_loader = None
    if data.get("val_dataloader"):
        defaults = {"num_classes": train_set.num_classes, "multi_class": train_set.multi_label}
        val_loader = build_dataloader(
            data["val_dataloader"],
            key="val_dataloader",
            training=False,
            dataset_defaults=defaults,
            seed=settings.seed,
        )
        val_set: ClipSamples = val_loader.dataset  # type: ignore[assignment]
        if val_set.class_names != train_set.class_names:
            raise ConfigError(
                f"val_dataloader.dataset: its classes {val_set.class_names[:6]} differ from the "
                f"training data's {train_set.class_names[:6]}; use lists of one dataset"
            )
        check_sampling(val_set, "val_dataloader.dataset", clip_facts(val_set)["clip_frames"])
    notes: list[str] = []
    model = build_recognizer(
        data["model"],
        num_classes=train_set.num_classes,
        multi_label=train_set.multi_label,
        source=train_set.source,
    )
    if settings.load_from:
        from ..models import load_weights

        notes += load_weights(
            model, settings.load_from, reinit_head=reinit_head, classes=train_set.class_names
        )[1:]
    if model.dense:
        notes.append(_step_note(train_set, val_loader.dataset if val_loader else None))
    if settings.checkpoint.save_best == STEP_METRIC and val_loader is not None:
        # Known now, not after the first epoch: the metric needs a per-step model and
        # validation clips with segments.
        val = getattr(val_loader.dataset, "samples", None) or []
        if not model.dense or not any(s.segments is not None for s in val):
            why = (
                "the model has no per-step head (StepHead)"
                if not model.dense
                else "no validation clip has segments (an older prepare)"
            )
            raise ConfigError(
                f"default_hooks.checkpoint.save_best: {STEP_METRIC!r} needs per-step scores on "
                f"the validation clips, but {why}; set it to 'auto', or run 'ethoclip prepare' "
                "again"
            )
    evaluator = settings.evaluator
    evaluator.names_for(train_set.multi_label)  # refuses top-k on multi-label data now
    eval_set = val_loader.dataset if val_loader is not None else train_set
    pipeline = to_plain(
        _pipeline_cfg(data, "test_dataloader") or _pipeline_cfg(data, "val_dataloader") or []
    )
    preprocessing = {
        **facts,
        "format_shape": model.format_shape,
        "mean": _values(model.data_preprocessor.mean),
        "std": _values(model.data_preprocessor.std),
        "test_pipeline": copy.deepcopy(pipeline),
        "eval_clips": len(eval_set),  # type: ignore[arg-type]
    }
    return Experiment(
        settings,
        model,
        train_loader,
        val_loader,
        list(train_set.class_names),
        train_set.multi_label,
        preprocessing,
        notes,
    )


def _step_note(train_set: ClipSamples, val_set: Any) -> str:
    """What a dense model (StepHead) learns its per-step scores from, said before training."""
    known = sum(s.segments is not None for s in train_set.samples)
    total = len(train_set.samples)
    if known == 0:
        return (
            "per-step targets: none (the clips' manifest has no segments: an older prepare, or "
            "no manifest beside the list); the model learns clip labels only and predict finds "
            "bouts on window scores: run 'ethoclip prepare' again for per-step training"
        )
    val = getattr(val_set, "samples", None) or []
    val_known = sum(s.segments is not None for s in val)
    return (
        f"per-step targets from the manifest's segments: {known} of {total} training clips, "
        f"{val_known} of {len(val)} validation clips (per-step thresholds are chosen on those)"
    )


def _pipeline_cfg(data: dict[str, Any], key: str) -> list[dict[str, Any]] | None:
    loader = data.get(key) or {}
    dataset = loader.get("dataset") or {}
    return dataset.get("pipeline")


def _values(tensor: Any) -> list[float] | None:
    return None if tensor is None else [float(v) for v in tensor.flatten()]


__all__ = [
    "ClipDataset",
    "Experiment",
    "Settings",
    "VideoDataset",
    "build_experiment",
    "read_settings",
]
