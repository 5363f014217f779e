"""``ethoclip train``: a config in, a work dir out (config with origins, logs, checkpoints,
curves). Lightning runs the loop: devices, DDP over processes and machines, mixed precision,
resume."""

from __future__ import annotations

import logging
import os
import signal
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, where
from ..errors import CheckpointError, ConfigError, EthoclipError, MediaError
from ..models._checkpoint import new_meta, read_checkpoint
from ._experiment import build_experiment, read_settings


class TrainingInterrupted(EthoclipError):
    """Ctrl-C or SIGTERM: a checkpoint that resumes the interrupted epoch was saved."""


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
        ".*You defined a `validation_step` but have no `val_dataloader`.*",
    ):
        warnings.filterwarnings("ignore", message=text)


def _write_config(cfg: Config, work_dir: Path) -> None:
    """The resolved config (loads back to the same dict) and where each value came from."""
    cfg.dump(work_dir / "config.py")
    lines = [f"{key} = {value!r}  # {where(origin)}" for key, value, origin in cfg.flat()]
    tmp = work_dir / ".config_origins.txt.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, work_dir / "config_origins.txt")


def _resume_path(options: TrainOptions, settings_resume: bool, work_dir: Path) -> str | None:
    resume = options.resume if options.resume is not None else (settings_resume or None)
    if resume is None or resume is False:
        return None
    path = work_dir / "last.ckpt" if resume is True else Path(str(resume))
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no checkpoint to resume from; train without --resume first, or pass the "
            "checkpoint (e.g. --resume work_dirs/x/epoch_3.ckpt)"
        )
    return str(path)


def _check_resume(path: str, model: Any, classes: list[str]) -> None:
    """Refuse, in one line, a checkpoint that cannot continue this run: damaged, not
    ethoclip's, or of another model or label set (Lightning would fail deep inside)."""
    data = read_checkpoint(path)
    if "optimizer_states" not in data or "loops" not in data:
        raise CheckpointError(f"{path}: holds weights only, no training state; use load_from")
    theirs = {k.removeprefix("model."): tuple(v.shape) for k, v in data["state_dict"].items()}
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if data["ethoclip"].get("classes") != classes or theirs != ours:
        differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        raise CheckpointError(
            f"{path}: a checkpoint of another model or label set ({len(differ)} weights differ, "
            f"e.g. {differ[:2]}; classes {data['ethoclip'].get('classes')}); resume only from "
            "this config's runs, or start from its weights with load_from=..."
        )


def clean_leftovers(work_dir: Path) -> list[str]:
    """Temporary files of a run that was killed (``.epoch_1.ckpt.tmp``, ``.curves.tmp.png``):
    removed, and named for the user."""
    found = sorted(p for p in work_dir.glob(".*.tmp*") if p.is_file())
    for path in found:
        path.unlink()
    return [p.name for p in found]


class _WorkersEndOnSigterm:
    """A loader worker's start. SIGTERM to the whole process group (``timeout`` does that)
    ends a worker at once and quietly: stopping is the main process's to report (and the
    loader's own shutdown ends workers with SIGTERM too)."""

    def __init__(self, then: Any) -> None:
        self.then = then

    def __call__(self, worker_id: int) -> None:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        if self.then is not None:
            self.then(worker_id)


@contextmanager
def _stop_on_sigterm(*loaders: Any) -> Iterator[list[int]]:
    """SIGTERM (``timeout``, ``kill``, a cluster's scheduler) stops training as Ctrl-C does."""
    for loader in (x for x in loaders if x is not None):
        loader.worker_init_fn = _WorkersEndOnSigterm(loader.worker_init_fn)
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        if len(received) == 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def train(cfg: Config, options: TrainOptions | None = None, *, console: Any = None) -> TrainResult:
    """Train the model ``cfg`` describes; returns where everything went and the final metrics."""
    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.loggers import TensorBoardLogger
    from rich.console import Console

    from ..models._memory import keep_freed_memory
    from ._callbacks import BestCheckpoint, EmptyCache, EpochCheckpoint, EpochLog, EpochStart
    from ._module import RecognizerModule

    keep_freed_memory()  # each step reuses the last one's pages (loader workers inherit it)
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
    if resume:
        _check_resume(resume, experiment.model, experiment.classes)
    leftovers = clean_leftovers(work_dir)
    if leftovers:
        console.print(f"removed what a killed run left: {', '.join(leftovers)}")
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
    loop, hook = settings.train_loop, settings.checkpoint
    callbacks: list[pl.Callback] = []
    if hook.save_best and experiment.val_loader is not None:
        callbacks.append(
            BestCheckpoint(str(hook.save_best), hook.rule, loop.validates_after, dirpath=work_dir)
        )
    callbacks.append(
        EpochCheckpoint(
            lambda epoch: epoch % hook.interval == 0 or epoch == loop.max_epochs,
            dirpath=work_dir,
            filename="epoch_{epoch}",
            monitor="epoch",  # keep the newest max_keep_ckpts
            mode="max",
            save_top_k=hook.max_keep_ckpts,
            save_last=hook.save_last,
        )
    )
    epoch_start = EpochStart()
    callbacks.append(epoch_start)  # last: it holds the other callbacks' state too
    if settings.empty_cache is not None:
        callbacks.append(EmptyCache(settings.empty_cache))
    if settings.averaging is not None:
        from ._averaging import ModelAveraging

        callbacks.append(ModelAveraging(settings.averaging))
    trainer = pl.Trainer(
        default_root_dir=str(work_dir),
        max_epochs=loop.max_epochs,
        accelerator="gpu" if device_kind == "cuda" else "cpu",
        devices=devices,
        num_nodes=options.num_nodes,
        strategy="ddp"
        if processes > 1 or (devices == "auto" and torch.cuda.device_count() > 1)
        else "auto",
        precision=precision,  # type: ignore[arg-type]
        accumulate_grad_batches=settings.optim.accumulative_counts,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # DefaultSampler shards by itself
        logger=[
            EpochLog(work_dir, console, loop.max_epochs, lambda: module.meta.get("best")),
            TensorBoardLogger(str(work_dir), name="tb", version=""),
        ],
        log_every_n_steps=settings.logger.interval,
        callbacks=callbacks,
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
        with _stop_on_sigterm(experiment.train_loader, experiment.val_loader) as signalled:
            trainer.fit(
                module,
                train_dataloaders=experiment.train_loader,
                val_dataloaders=experiment.val_loader,
                ckpt_path=resume,
            )
    except MediaError as exc:  # from a loader worker: its traceback, then the error's line
        line = str(exc).strip().splitlines()[-1].removeprefix("ethoclip.errors.MediaError: ")
        raise MediaError(
            f"{line}; if it is a clip that 'ethoclip prepare' cut, run prepare again: it "
            "re-cuts damaged clips"
        ) from None
    except (KeyboardInterrupt, SystemExit, Exception) as exc:
        # Lightning turns Ctrl-C into SystemExit; a signal may also kill the loader's workers
        # first (their error then arrives instead).
        if not (signalled or isinstance(exc, KeyboardInterrupt | SystemExit)):
            raise
        _interrupted(trainer, epoch_start, cfg, work_dir)
    for note in module.notes:
        console.print(f"note: {note}")
    checkpoints = sorted(work_dir.glob("*.ckpt"))
    return TrainResult(
        work_dir=work_dir,
        epochs=loop.max_epochs,
        best=module.meta.get("best"),
        metrics=dict(module.meta.get("metrics") or {}),
        checkpoints=checkpoints,
        notes=module.notes,
    )


def _interrupted(trainer: Any, epoch_start: Any, cfg: Config, work_dir: Path) -> None:
    path, epoch = work_dir / "interrupted.ckpt", trainer.current_epoch + 1
    if trainer.is_global_zero and epoch_start.write(path):
        raise TrainingInterrupted(
            f"interrupted in epoch {epoch}; saved {path}, the state that epoch started from: "
            f"resume with 'ethoclip train {cfg.filename} --work-dir {work_dir} --resume {path}'"
        ) from None
    raise TrainingInterrupted(f"interrupted in epoch {epoch}, before anything to save")
