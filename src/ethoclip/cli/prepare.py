"""ethoclip prepare: VIA projects + raw videos → aligned multi-label clips, lists, manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, get_args

from rich.console import Console

from ..annotations import format_report
from ..dataset import (
    DEFAULT_NAME_TEMPLATE,
    Background,
    CorrectionMode,
    InvalidInputError,
    OptionError,
    PlanOptions,
    PrepareOptions,
    PrepareResult,
    SplitBy,
    WindowMode,
    option_names,
    prepare_dataset,
)
from ..media import CRF_RANGE, TIME_MAP_METHODS, X264_PRESETS
from ._common import add_command, default_of, flags_of, given, progress_bar


def _stream(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "prepare",
        help="cut aligned multi-label clips + MMAction2 lists from VIA + videos",
        example="ethoclip prepare dog_video/Feb --out datasets/feb --clip-len 4 --stride 2",
        description="Validate everything under ROOT, then cut fixed-length clips (one H.264 "
        "stream, constant fps), write label_map.txt, train/val[/test].txt (MMAction2 "
        "VideoDataset lists), manifest.jsonl and dataset.txt. Resumable: run it again to "
        "finish or update a dataset.",
    )
    add_prepare_arguments(p)
    p.set_defaults(run=run, flags=flags_of(p))


def add_prepare_arguments(p: argparse.ArgumentParser) -> None:
    """Every option of PlanOptions/PrepareOptions; defaults stay in the dataclasses."""
    plan = lambda name: default_of(PlanOptions, name)  # noqa: E731
    prep = lambda name: default_of(PrepareOptions, name)  # noqa: E731
    S = argparse.SUPPRESS
    p.add_argument("root", metavar="ROOT", help="a session (video/ + via/) or a tree of them")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    g = p.add_argument_group("windows")
    g.add_argument(
        "--clip-len",
        dest="clip_sec",
        type=float,
        default=S,
        metavar="SEC",
        help=f"clip length in seconds (default {plan('clip_sec'):g})",
    )
    g.add_argument(
        "--stride",
        dest="stride_sec",
        type=float,
        default=S,
        metavar="SEC",
        help="seconds between window starts (default: the clip length; smaller overlaps)",
    )
    g.add_argument(
        "--windows",
        choices=get_args(WindowMode),
        default=S,
        help=f"tile annotated spans or the whole video (default {plan('windows')})",
    )
    g.add_argument(
        "--min-overlap",
        type=float,
        default=S,
        help="share of the window a label must cover to apply (default "
        f"{plan('min_overlap')}; a shorter segment must lie inside)",
    )
    g.add_argument(
        "--background",
        choices=get_args(Background),
        default=S,
        help=f"windows without a label: drop or keep as path-only lines (default "
        f"{plan('background')})",
    )
    g = p.add_argument_group("pixels")
    g.add_argument(
        "--stream",
        type=_stream,
        default=S,
        help="annotated (the stream VIA showed), best (largest) or a stream index "
        f"(default {plan('stream')})",
    )
    g.add_argument(
        "--time-map",
        choices=TIME_MAP_METHODS,
        default=S,
        help=f"map annotated time onto another stream (default {plan('time_map')}: shared clock)",
    )
    g.add_argument("--fps", type=float, default=S, help="clip frame rate (default: the source's)")
    g.add_argument(
        "--short-side", type=int, default=S, help=f"pixels (default {plan('short_side')})"
    )
    g.add_argument(
        "--crf",
        type=int,
        default=S,
        help=f"x264 quality {CRF_RANGE[0]}–{CRF_RANGE[1]}, lower is better (default {plan('crf')})",
    )
    g.add_argument(
        "--preset",
        default=S,
        help=f"x264 speed preset: {', '.join(X264_PRESETS)} (default {plan('preset')})",
    )
    g.add_argument(
        "--name-template",
        default=S,
        help=f"clip names (default {DEFAULT_NAME_TEMPLATE!r}; fields: session, "
        "video, via, start, end, labels, index)",
    )
    g = p.add_argument_group("splits")
    g.add_argument(
        "--val-fraction",
        type=float,
        default=S,
        help=f"share of clips held out for validation (default {prep('val_fraction')})",
    )
    g.add_argument(
        "--test-fraction",
        type=float,
        default=S,
        help=f"share of clips held out for testing (default {prep('test_fraction')})",
    )
    g.add_argument(
        "--split-by",
        choices=get_args(SplitBy),
        default=S,
        help=f"what may not be shared between splits (default {prep('split_by')})",
    )
    g.add_argument(
        "--seed", type=int, default=S, help=f"seed of the split (default {prep('seed')})"
    )
    add_correction_arguments(p, default=S)
    g = p.add_argument_group("run")
    g.add_argument(
        "--workers", type=int, default=S, help="parallel processes (default: one per core)"
    )
    g.add_argument(
        "--skip-invalid",
        action="store_true",
        default=S,
        help="leave out videos with problems instead of stopping",
    )
    g.add_argument(
        "--label-map", type=Path, default=S, help="fix class names and ids (one per line)"
    )
    g.add_argument(
        "--dry-run",
        action="store_true",
        default=S,
        help="validate, plan and split, print the summary, write nothing",
    )


def add_correction_arguments(p: argparse.ArgumentParser, *, default: Any) -> None:
    """The correction loop's options (shared with validate)."""
    g = p.add_argument_group("corrections (predict --export-via, corrected in VIA)")
    g.add_argument(
        "--corrections",
        type=Path,
        action="append",
        default=default,
        metavar="FILE_OR_DIR",
        help="a corrected VIA project (or a folder of them); repeatable. Each replaces the "
        "annotation of the videos it holds",
    )
    g.add_argument(
        "--corrections-mode",
        choices=get_args(CorrectionMode),
        default=default,
        help="replace the videos' own annotation, or merge with it "
        f"(default {default_of(PrepareOptions, 'corrections_mode')})",
    )


def options_from_args(args: argparse.Namespace, flags: dict[str, str]) -> PrepareOptions:
    """Options from what the user set; every bad value is reported at once, by its flag."""
    problems: list[tuple[str, str]] = []
    try:
        plan = PlanOptions(**given(args, option_names(PlanOptions)))
    except OptionError as exc:
        problems += exc.problems
        plan = PlanOptions()
    own = [name for name in option_names(PrepareOptions) if name != "plan"]
    try:
        options = PrepareOptions(plan=plan, **given(args, own))
    except OptionError as exc:
        problems += exc.problems
    if problems:
        raise OptionError(problems).renamed(flags)
    return options


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args, args.flags)
    if options.dry_run:
        try:
            planned = prepare_dataset(args.root, args.out, options)
        except InvalidInputError as exc:
            print(format_report(exc.issues), file=sys.stderr)
            raise
        print(planned.summary, end="")
        print(f"dry run: {planned.clips} clips would be written to {args.out}; nothing written")
        return 0
    result = run_prepare(args.root, args.out, options)
    return 1 if result.failed else 0


def run_prepare(root: str, out: Path, options: PrepareOptions) -> PrepareResult:
    """Run prepare with a progress bar on stderr and a short report on stdout."""
    console = Console(stderr=True)
    with progress_bar(console) as bar:
        task = bar.add_task("writing clips", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = prepare_dataset(
                root,
                out,
                options,
                progress=progress,
                report=lambda line: print(f"warning: {line}", file=sys.stderr),
            )
        except InvalidInputError as exc:
            bar.stop()
            print(format_report(exc.issues), file=sys.stderr)
            raise
    splits = ", ".join(f"{n} {s}" for s, n in sorted(result.per_split.items()))
    print(
        f"{result.clips} clips ({splits}), {len(result.labels)} labels: "
        f"{result.written} written, {result.reused} reused, "
        f"{result.removed_stale} stale removed"
    )
    if result.skipped:
        print(f"skipped as invalid: {', '.join(result.skipped)}")
    if result.warnings:
        print(f"{len(result.warnings)} input warning(s): see {out / 'dataset.txt'}")
    for key, error in result.failed.items():
        print(f"failed: {key}: {error}", file=sys.stderr)
    print(f"dataset: {out}  (summary: {out / 'dataset.txt'}; browse: ethoclip review {out})")
    return result
