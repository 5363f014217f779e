"""ethoclip train: train a config; checkpoints, logs and curves in the work dir."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import add_command, positive_int
from .config import add_cfg_options, load_checked


def _devices(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "train",
        help="train a recognizer from a config (MMAction2's format)",
        example="ethoclip train feb_tiny3d.py --work-dir work_dirs/feb "
        "--cfg-options train_cfg.max_epochs=20",
        description="Train the model a config describes. The work dir gets the resolved config "
        "(config.py, and config_origins.txt with where each value came from), log.jsonl, "
        "TensorBoard logs (tb/), checkpoints (epoch_N.ckpt, last.ckpt, best_<metric>.ckpt) and "
        "curves.png. Several GPUs or machines: --devices / --num-nodes, or launch with torchrun "
        "or under SLURM (see the README).",
    )
    p.add_argument("config", metavar="CONFIG")
    p.add_argument("--work-dir", type=Path, metavar="DIR", help="default: work_dirs/<config name>")
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        metavar="CKPT",
        help="continue a run: from CKPT, or from the work dir's last.ckpt",
    )
    add_cfg_options(p)
    p.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help="train N epochs: sets train_cfg.max_epochs and scales the LR schedule to match "
        "(its ends, T_max and milestones), saying what it changed",
    )
    p.add_argument(
        "--devices",
        type=_devices,
        default="auto",
        help="processes per machine (GPUs), default auto",
    )
    p.add_argument("--num-nodes", type=positive_int, default=1, help="machines (default 1)")
    p.add_argument("--accelerator", choices=("auto", "cpu", "gpu"), default="auto")
    p.add_argument(
        "--amp", action="store_true", help="mixed precision (float16 on GPUs, bfloat16 on CPUs)"
    )
    p.add_argument("--seed", type=int, help="default: randomness.seed of the config, else 0")
    p.add_argument(
        "--reinit-head",
        action="store_true",
        help="load_from a model trained on other labels: new head",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    p.set_defaults(run=run)


def _devices_value(value: int | str) -> None:
    from ..errors import ConfigError

    if isinstance(value, int) and value < 1:
        raise ConfigError(f"--devices {value}: must be at least 1 (or auto)")


def run(args: argparse.Namespace) -> int:
    _devices_value(args.devices)
    cfg = load_checked(args.config, args.cfg_options, splits=("train", "val"), epochs=args.epochs)
    # engine.default_work_dir's rule, without importing the engine (and torch) yet.
    work_dir = args.work_dir or (
        Path(cfg["work_dir"])
        if cfg.get("work_dir")
        else Path("work_dirs") / (Path(cfg.filename).stem if cfg.filename else "run")
    )
    _resume_exists(args.resume, work_dir)
    if work_dir.exists() and not work_dir.is_dir():
        from ..errors import ConfigError

        raise ConfigError(f"--work-dir {work_dir}: exists and is not a folder; choose another")
    from ..engine import TrainOptions, train

    existed = work_dir.exists()
    try:
        result = _train(train, TrainOptions, cfg, args, work_dir)
    except Exception:
        _remove_if_empty(work_dir, existed)
        raise
    best = result.best
    if best:
        print(f"best {best['metric']} {best['value']:.4f} at epoch {best['epoch']}")
    print(f"work dir: {result.work_dir} (checkpoints, log.jsonl, curves.png, tb/)")
    return 0


def _resume_exists(resume: str | bool | None, work_dir: Path) -> None:
    """``--resume`` names a file that is there (said before torch loads, not after)."""
    from ..errors import CheckpointError

    if resume is None or resume is False:
        return
    path = work_dir / "last.ckpt" if resume is True else Path(str(resume))
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no checkpoint to resume from; train without --resume first, or pass the "
            "checkpoint (e.g. --resume work_dirs/x/epoch_3.ckpt)"
        )


def _remove_if_empty(work_dir: Path, existed: bool) -> None:
    """A run that stopped before writing anything leaves no empty work dir behind."""
    try:
        if not existed and work_dir.is_dir() and not any(work_dir.iterdir()):
            work_dir.rmdir()
    except OSError:
        pass


def _train(train: Any, options: Any, cfg: Any, args: argparse.Namespace, work_dir: Path) -> Any:
    return train(
        cfg,
        options(
            work_dir=work_dir,
            resume=args.resume,
            devices=args.devices,
            num_nodes=args.num_nodes,
            accelerator=args.accelerator,
            amp=args.amp,
            seed=args.seed,
            reinit_head=args.reinit_head,
            progress_bar=not args.no_progress,
        ),
    )
