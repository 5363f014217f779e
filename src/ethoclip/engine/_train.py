"""``ethoclip train``: a config in, a work dir out (config with origins, logs, checkpoints,
curves). Lightning runs the loop: devices, DDP over processes and machines, mixed precision,
resume."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import CheckpointError, ConfigError, EthoclipError
from ._checkpoint import new_meta
from ._experiment import build_experiment, read_settings

LAST = "last.ckpt"


class TrainingInterrupted(EthoclipError):
    """Ctrl-C: a resumable checkpoint was saved."""


@dataclass
class TrainOptions:
    work_dir: Path | None = None
    resume: str | bool | None = None  # True: the work dir's last checkpoint
    devices: int | str = "auto"
    num_nodes: int = 1
    accelerator: str = "auto"
    amp: bool = False
    seed: int | None = None
    reinit_head: bool = False
    progress_bar: bool = True


@dataclass
class TrainResult:
    work_dir: Path
    epochs: int
    best: dict[str, Any] | None
    metrics: dict[str, Any]
    checkpoints: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_work_dir(cfg: Config) -> Path:
    if cfg.get("work_dir"):
        return Path(cfg["work_dir"])
    stem = Path(cfg.filename).stem if cfg.filename else "run"
    return Path("work_dirs") / stem


def _quiet() -> None:
    """Lightning's start-up chatter and library deprecation notices are not the user's business."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for text in (
        ".*does not have many workers.*",
        ".*isinstance\\(treespec, LeafSpec\\).*",
        ".*`weights_only` was not set.*",
        ".*Checkpoint directory .* exists and is not empty.*",
        ".*The number of training batches .* is smaller than the logging interval.*",
        ".*You're resuming from a checkpoint that ended before the epoch ended.*",
    ):
        warnings.filterwarnings("ignore", message=text)


def _write_config(cfg: Config, work_dir: Path) -> None:
    """The resolved config (loads back to the same dict) and where each value came from."""
    from ..cli.config import where

    cfg.dump(work_dir / "config.py")
    lines = [f"{key} = {value!r}  # {where(origin)}" for key, value, origin in cfg.flat()]
    tmp = work_dir / ".config_origins.txt.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, work_dir / "config_origins.txt")


def _resume_path(options: TrainOptions, settings_resume: bool, work_dir: Path) -> str | None:
    resume = options.resume if options.resume is not None else (settings_resume or None)
    if resume is None or resume is False:
        return None
    path = work_dir / LAST if resume is True else Path(str(resume))
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no checkpoint to resume from; train without --resume first, or pass the "
            "checkpoint (e.g. --resume work_dirs/x/epoch_3.ckpt)"
        )
    return str(path)


def train(cfg: Config, options: TrainOptions | None = None, *, console: Any = None) -> TrainResult:
    """Train the model ``cfg`` describes; returns where everything went and the final metrics."""
    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.loggers import TensorBoardLogger
    from rich.console import Console

    from ._callbacks import EpochEnd
    from ._module import RecognizerModule

    options = options or TrainOptions()
    console = console or Console(soft_wrap=True, highlight=False)
    _quiet()
    settings = read_settings(cfg)
    if options.seed is not None:
        settings.seed = options.seed
    work_dir = options.work_dir or default_work_dir(cfg)
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{work_dir}: cannot create the work dir ({exc.strerror}); choose another --work-dir"
        ) from None
    resume = _resume_path(options, settings.resume, work_dir)
    pl.seed_everything(settings.seed, workers=False, verbose=False)
    if settings.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    experiment = build_experiment(cfg, settings, reinit_head=options.reinit_head)
    for note in experiment.notes:
        console.print(f"note: {note}")
    _write_config(cfg, work_dir)
    meta = new_meta(
        config=cfg.to_dict(),
        config_text=cfg.dump(),
        model=experiment.model,
        classes=experiment.classes,
        multi_label=experiment.multi_label,
        preprocessing=experiment.preprocessing,
        seed=settings.seed,
    )
    batch_size = int(experiment.train_loader.batch_size or 1)
    module = RecognizerModule(experiment.model, settings, meta, batch_size)
    accelerator = options.accelerator
    device_kind = (
        "cuda"
        if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
        else "cpu"
    )
    if options.amp and not settings.optim.amp:
        settings.optim.amp = True  # --amp: as if the config said AmpOptimWrapper
    precision = settings.optim.precision(device_kind) or "32-true"
    if device_kind == "cuda" and not settings.deterministic:
        # TF32 matmuls (float16's ten-bit mantissa, float32's range) on Ampere and later:
        # TimeSformer-B trained 2.6x faster on an H100 in float32 (benchmarks/bench_gpu.py).
        # `randomness.deterministic=True` keeps full float32.
        torch.set_float32_matmul_precision("high")
    devices = (
        options.devices if options.devices != "auto" else (1 if device_kind == "cpu" else "auto")
    )
    processes = (devices if isinstance(devices, int) else 1) * options.num_nodes
    callback = EpochEnd(experiment.val_loader, work_dir, console)
    trainer = pl.Trainer(
        default_root_dir=str(work_dir),
        max_epochs=settings.train_loop.max_epochs,
        accelerator="gpu" if device_kind == "cuda" else "cpu",
        devices=devices,
        num_nodes=options.num_nodes,
        strategy="ddp"
        if processes > 1 or (devices == "auto" and torch.cuda.device_count() > 1)
        else "auto",
        precision=precision,  # type: ignore[arg-type]
        accumulate_grad_batches=settings.optim.accumulative_counts,
        limit_val_batches=0,  # validation runs in EpochEnd, on MMEngine's schedule
        num_sanity_val_steps=0,
        enable_checkpointing=False,  # EpochEnd writes ethoclip's checkpoints
        use_distributed_sampler=False,  # DefaultSampler shards by itself
        logger=TensorBoardLogger(str(work_dir), name="tb", version=""),
        log_every_n_steps=settings.logger.interval,
        callbacks=[callback],
        enable_progress_bar=options.progress_bar,
        enable_model_summary=False,
    )
    if trainer.is_global_zero:
        console.print(
            f"training {type(experiment.model).__name__} "
            f"({type(experiment.model.backbone).__name__}) on "
            f"{len(experiment.train_loader.dataset)} clips, "  # type: ignore[arg-type]
            f"{len(experiment.classes)} classes "
            f"({'multi' if experiment.multi_label else 'single'}-label); {trainer.world_size} "
            f"process(es) on {device_kind}, precision {precision}; work dir {work_dir}"
        )
        if settings.ignored:
            console.print(f"ignored (only MMEngine reads them): {', '.join(settings.ignored)}")
    try:
        trainer.fit(module, train_dataloaders=experiment.train_loader, ckpt_path=resume)
    except SystemExit:
        if trainer.interrupted:
            raise TrainingInterrupted(
                f"interrupted; resume with 'ethoclip train {cfg.filename} --work-dir {work_dir} "
                f"--resume {work_dir / 'interrupted.ckpt'}'"
            ) from None
        raise
    for note in module.notes:
        console.print(f"note: {note}")
    checkpoints = sorted(work_dir.glob("*.ckpt"))
    return TrainResult(
        work_dir=work_dir,
        epochs=settings.train_loop.max_epochs,
        best=module.meta.get("best"),
        metrics=dict(module.meta.get("metrics") or {}),
        checkpoints=checkpoints,
        notes=module.notes,
    )
