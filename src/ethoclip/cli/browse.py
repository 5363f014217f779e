"""ethoclip browse: what a config's data pipeline feeds the model, as GIFs and contact sheets."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ConfigError
from ._common import add_command
from .config import add_cfg_options, load_checked


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "browse",
        help="write GIFs and contact sheets of what the model sees after the pipeline",
        example="ethoclip browse feb_tsn.py --out browse_out --split train -n 8",
    )
    p.add_argument("config", metavar="CONFIG")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--split", choices=("train", "val", "test"), default="train")
    p.add_argument("-n", type=int, default=8, dest="count", help="samples (default 8)")
    p.add_argument(
        "--mode",
        choices=("pipeline", "original"),
        default="pipeline",
        help="after the whole pipeline (default) or as decoded, before augmentation",
    )
    add_cfg_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise ConfigError(f"-n must be at least 1 (got {args.count})")
    cfg = load_checked(
        args.config, args.cfg_options, splits=(args.split,), training=args.split == "train"
    )
    key = f"{args.split}_dataloader"
    loader = cfg.get(key)
    if not loader or "dataset" not in loader:
        raise ConfigError(f"{args.config}: no {key}.dataset in the config; pick another --split")
    from ..data import build_dataset
    from ..data._browse import browse

    dataset = build_dataset(loader["dataset"], key=f"{key}.dataset")
    written = browse(dataset, args.out, count=args.count, mode=args.mode)
    for item in written:
        print(f"{item.gif.name}  ({'+'.join(item.labels)})")
    print(f"wrote {len(written)} GIFs and contact sheets to {args.out}")
    return 0
