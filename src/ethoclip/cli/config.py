"""ethoclip config show|new: a resolved config with the origin of every value; a new config."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..config import Config, where
from ..errors import ConfigError
from ._common import add_command


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "config",
        help="show a resolved config (with where each value comes from), or write a new one",
        example="ethoclip config show my_tsn.py --cfg-options train_dataloader.batch_size=4",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = add_command(
        actions,
        "show",
        help="the resolved config, each key with the file:line or option that set it",
        example="ethoclip config show tsn.py --diff timesformer.py",
    )
    show.add_argument(
        "config", metavar="CONFIG", help="a .py/.yaml/.json config or ethoclip::<path>"
    )
    add_cfg_options(show)
    show.add_argument("--json", action="store_true", help="one JSON object: values and origins")
    show.add_argument("--diff", metavar="OTHER", help="only what OTHER changes")
    show.set_defaults(run=run_show)
    new = add_command(
        actions,
        "new",
        help="write a ready config for a 'prepare' folder and a shipped model",
        example="ethoclip config new --data datasets/feb --model tiny3d --out feb_tiny3d.py",
    )
    from ..config._new import MODEL_FAMILIES

    new.add_argument("--data", required=True, type=Path, metavar="DIR", help="a prepare output")
    new.add_argument(
        "--model",
        metavar="NAME",
        help=f"one of {', '.join(MODEL_FAMILIES)} (default: the best for this machine: "
        "hybrid without a GPU or cached pretrained weights)",
    )
    new.add_argument(
        "--from-scratch",
        action="store_true",
        help="no pretrained weights; a from-scratch learning rate and number of epochs",
    )
    new.add_argument("--out", type=Path, metavar="FILE", help="default: <model>_<data folder>.py")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(run=run_new)


def add_cfg_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cfg-options",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override config keys, MMEngine syntax: a.b=1 c=[1,2] d.0.e=None",
    )


def load(path: str, options: list[str]) -> Config:
    return Config.fromfile(path, cfg_options=options or None)


def load_checked(
    path: str,
    options: list[str],
    *,
    splits: tuple[str, ...] = ("train", "val", "test"),
    epochs: int | None = None,
    training: bool = True,
) -> Config:
    """A config read and checked whole (keys, types, arguments, schedule, data) before anything
    heavy is imported; notes and warnings go to stderr, every problem in one ConfigError.
    ``epochs``: ``--epochs N``, which shortens the run and its schedule together."""
    from ..preflight import check, shorten

    cfg = load(path, options)
    if epochs is not None:
        changes, notes = shorten(cfg.to_dict(), epochs)
        cfg.merge_from_dict(changes, source=f"--epochs {epochs}")
        print(f"note: --epochs {epochs}: {'; '.join(notes)}", file=sys.stderr)
    report = check(cfg, splits=splits, training=training)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return cfg


def _value(value: Any) -> str:
    return repr(value)


def run_show(args: argparse.Namespace) -> int:
    cfg = load(args.config, args.cfg_options)
    rows = cfg.flat()
    if args.diff:
        other = load(args.diff, [])
        before = {key: (value, origin) for key, value, origin in rows}
        after = {key: (value, origin) for key, value, origin in other.flat()}
        changes = []
        for key in [*before, *(k for k in after if k not in before)]:
            if key not in after:
                changes.append(("-", key, before[key]))
            elif key not in before:
                changes.append(("+", key, after[key]))
            elif before[key][0] != after[key][0]:
                changes.append(("-", key, before[key]))
                changes.append(("+", key, after[key]))
        if args.json:
            print(
                json.dumps(
                    [
                        {"change": c, "key": k, "value": v, "origin": where(o)}
                        for c, k, (v, o) in changes
                    ],
                    default=repr,
                )
            )
        else:
            for change, key, (value, origin) in changes:
                print(f"{change} {key} = {_value(value)}  # {where(origin)}")
            print(f"{sum(1 for c in changes if c[0] == '+')} value(s) differ")
        return 0
    from ..preflight import preflight

    report = preflight(cfg)
    ignored = report.ignored
    problems = "; ".join(report.problems) or None
    if args.json:
        print(
            json.dumps(
                {
                    "config": cfg.to_dict(),
                    "origins": {key: where(origin) for key, _, origin in rows},
                    "ignored": ignored,
                    "problems": problems,
                    "warnings": report.warnings,
                    "notes": report.notes,
                },
                default=repr,
            )
        )
    else:
        width = min(60, max((len(k) + len(_value(v)) for k, v, _ in rows), default=0) + 3)
        for key, value, origin in rows:
            text = f"{key} = {_value(value)}"
            print(f"{text.ljust(width)}  # {where(origin)}")
        if ignored:
            print(f"ignored (only MMEngine reads them): {', '.join(ignored)}")
        for note in report.notes:
            print(f"note: {note}")
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if problems:
        raise ConfigError(problems)
    return 0


def run_new(args: argparse.Namespace) -> int:
    from ..config._new import default_model, new_config

    model = args.model or default_model()
    text = new_config(args.data, model, from_scratch=args.from_scratch)
    out = args.out or Path(f"{model}_{args.data.resolve().name}.py")
    if out.exists() and not args.force:
        raise ConfigError(f"{out}: exists; pass --force to overwrite it, or choose another --out")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    print(
        f"wrote {out}: check it with 'ethoclip config show {out}', "
        f"train with 'ethoclip train {out}'"
    )
    return 0
