"""ethoclip test: a checkpoint's metrics on a split or list file, with metrics.json and plots."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ._common import add_command, check_device, device_name, positive_int


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "test",
        help="metrics of a checkpoint (mAP, per-class AP/F1, top-k …), metrics.json and plots",
        example="ethoclip test work_dirs/feb/last.ckpt --split test --out eval",
    )
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument(
        "--data",
        metavar="DIR_OR_LIST",
        help="a prepare folder or a list file (default: the config's)",
    )
    p.add_argument("--split", choices=("val", "test", "train"), default="val")
    p.add_argument("--out", type=Path, metavar="DIR", help="write metrics.json and plots there")
    p.add_argument("--batch-size", type=positive_int, default=4, help="clips per batch (4)")
    p.add_argument("--device", type=device_name, help="cpu or cuda (default: cuda when available)")
    p.set_defaults(run=run)


def _num(value: float | None) -> str:
    return (
        "  n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.3f}"
    )


def _check_inputs(args: argparse.Namespace) -> None:
    """Files and folders, before torch and the model load."""
    from ..errors import CheckpointError, ConfigError

    if not Path(args.checkpoint).is_file():
        raise CheckpointError(
            f"{args.checkpoint}: checkpoint not found; pass a .ckpt file from a work dir"
        )
    if args.data is not None and not Path(args.data).exists():
        raise ConfigError(f"--data {args.data}: no such folder or list file")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise ConfigError(f"--out {args.out}: exists and is not a folder; choose another --out")


def run(args: argparse.Namespace) -> int:
    _check_inputs(args)
    check_device(args.device)
    from ..engine._evaluate import evaluate

    result = evaluate(
        args.checkpoint,
        data=args.data,
        split=args.split,
        out=args.out,
        batch_size=args.batch_size,
        device=args.device,
    )
    split = f"split {result['split']!r}: " if result.get("split") else ""
    print(f"evaluated {split}{result['clips']} clips of {result['list']}")
    for note in result.get("notes", []):
        print(f"note: {note}")
    if result["multi_label"]:
        print(
            f"mAP {_num(result['mAP'])}  mmit mAP {_num(result['mmit_mAP'])}  "
            f"micro F1 {_num(result['micro_f1'])}  macro F1 {_num(result['macro_f1'])}"
        )
        width = max(len(c) for c in result["per_class"])
        f1_head = "F1*" if result.get("in_sample") else " F1"
        print(f"  {'label'.ljust(width)}     AP    {f1_head}  threshold  clips")
        for name, row in result["per_class"].items():
            print(
                f"  {name.ljust(width)}  {_num(row['ap'])}  {_num(row['f1'])}  "
                f"{_num(row['threshold'])}  {row['support']:>9}"
            )
        if result.get("in_sample"):
            print("  * in-sample: the thresholds were tuned on these clips")
    else:
        print(
            f"top-1 {_num(result['top1'])}  top-5 {_num(result['top5'])}  "
            f"mean class accuracy {_num(result['mean_class_accuracy'])}"
        )
    if args.out:
        print(f"wrote {args.out / 'metrics.json'} and {len(result['plots'])} plots")
    return 0
