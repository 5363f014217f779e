"""ethoclip prepare: VIA projects + raw videos → aligned multi-label clips, lists, manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from ..annotations import format_report
from ..dataset import (
    DEFAULT_NAME_TEMPLATE,
    InvalidInputError,
    PlanOptions,
    PrepareOptions,
    PrepareResult,
    prepare_dataset,
)
from ..media import TIME_MAP_METHODS
from ._common import add_command


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
    p.add_argument("root", metavar="ROOT", help="a session (video/ + via/) or a tree of them")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    g = p.add_argument_group("windows")
    g.add_argument("--clip-len", type=float, default=4.0, help="seconds (default 4)")
    g.add_argument(
        "--stride",
        type=float,
        help="seconds between window starts (default: the clip length; smaller overlaps)",
    )
    g.add_argument(
        "--windows",
        choices=("segments", "video"),
        default="segments",
        help="tile annotated spans (default) or the whole video",
    )
    g.add_argument(
        "--min-overlap",
        type=float,
        default=0.5,
        help="share of the window a "
        "label must cover to apply (default 0.5; a shorter segment must lie inside)",
    )
    g.add_argument(
        "--background",
        choices=("drop", "keep"),
        default="drop",
        help="windows without a label: drop (default) or keep as background lines",
    )
    g = p.add_argument_group("pixels")
    g.add_argument(
        "--stream",
        default="annotated",
        help="annotated (default: the stream VIA showed), best (largest) or a stream index",
    )
    g.add_argument(
        "--time-map",
        choices=TIME_MAP_METHODS,
        default="auto",
        help="map annotated time onto another stream (default auto: shared clock)",
    )
    g.add_argument("--fps", type=float, help="clip frame rate (default: the source's)")
    g.add_argument("--short-side", type=int, default=256, help="pixels (default 256)")
    g.add_argument("--crf", type=int, default=20, help="x264 quality, lower is better (20)")
    g.add_argument("--preset", default="veryfast", help="x264 speed preset (veryfast)")
    g.add_argument(
        "--name-template",
        default=DEFAULT_NAME_TEMPLATE,
        help=f"clip names (default {DEFAULT_NAME_TEMPLATE!r}; fields: session, "
        "video, via, start, end, labels, index)",
    )
    g = p.add_argument_group("splits")
    g.add_argument("--val-fraction", type=float, default=0.2)
    g.add_argument("--test-fraction", type=float, default=0.0)
    g.add_argument(
        "--split-by",
        choices=("video", "session"),
        default="video",
        help="what may not be shared between splits (default video)",
    )
    g.add_argument("--seed", type=int, default=0)
    g = p.add_argument_group("run")
    g.add_argument("--workers", type=int, help="parallel processes (default: all cores)")
    g.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave out videos with problems instead of stopping",
    )
    g.add_argument("--label-map", type=Path, help="fix class names and ids (one per line)")
    g.add_argument(
        "--dry-run",
        action="store_true",
        help="validate, plan and split, print the summary, write nothing",
    )
    p.set_defaults(run=run)


def options_from_args(args: argparse.Namespace) -> PrepareOptions:
    return PrepareOptions(
        plan=PlanOptions(
            clip_len=args.clip_len,
            stride=args.stride,
            windows=args.windows,
            min_overlap=args.min_overlap,
            background=args.background,
            stream=args.stream,
            time_map=args.time_map,
            fps=args.fps,
            short_side=args.short_side,
            name_template=args.name_template,
            crf=args.crf,
            preset=args.preset,
        ),
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        split_by=args.split_by,
        seed=args.seed,
        workers=args.workers,
        skip_invalid=args.skip_invalid,
        label_map=args.label_map,
        dry_run=args.dry_run,
    )


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
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
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
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
