"""ethoclip demo: the main job end to end on the embedded synthetic project.

Today: demo-data → validate → prepare → review. Training, testing and prediction join this
command as those stages land (see README).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..annotations import format_report
from ..dataset import OptionError, PrepareOptions, load_inputs, write_review
from ..demo import generate_demo_project
from ..errors import DatasetError
from ._common import add_command, flags_of, given
from .prepare import run_prepare


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "demo",
        help="run the pipeline on the built-in synthetic dog project",
        example="ethoclip demo --out ethoclip-demo",
        description="Write the synthetic project (6 videos, 3 sessions, VIA 3 files with a "
        "two-stream and a VFR video), validate it, cut the clip dataset and write the review "
        "page. Running it again reuses what is there.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("ethoclip-demo"),
        metavar="DIR",
        help="working folder (default ./ethoclip-demo)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=argparse.SUPPRESS,
        help="parallel processes (default: all cores)",
    )
    p.set_defaults(run=run, flags=flags_of(p))


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    # Every option is checked before the first file is written.
    try:
        options = PrepareOptions(**given(args, ["workers"]))
    except OptionError as exc:
        raise exc.renamed(args.flags) from None
    if args.out.exists() and not args.out.is_dir():
        raise DatasetError(f"{args.out}: exists and is not a folder; choose another --out")
    root, dataset = args.out / "dog_video", args.out / "dataset"
    if root.exists() and any(root.iterdir()):
        print(f"1/4 demo data: reusing {root}")
    else:
        videos = generate_demo_project(root)
        print(f"1/4 demo data: {len(videos)} videos in 3 sessions under {root}")
    inputs = load_inputs(root)
    if inputs.errors:
        print(format_report(inputs.issues))
        raise DatasetError(
            f"{root}: the demo project does not validate; delete {args.out} "
            "and run 'ethoclip demo' again"
        )
    n_segments = sum(len(p.segments) for s in inputs.sessions for p in s.projects)
    print(f"2/4 validate: {n_segments} segments, {len(inputs.class_name_of)} labels, no problems")
    print("3/4 prepare:", flush=True)
    result = run_prepare(str(root), dataset, options)
    page = write_review(dataset)
    print(f"4/4 review: open {page}")
    print(
        f"done in {time.perf_counter() - started:.1f} s. Training, testing and prediction "
        "are not in this version yet: the dataset is ready for them (MMAction2 lists in "
        f"{dataset})."
    )
    return 1 if result.failed else 0
