"""ethoclip validate: every problem in the VIA projects and videos under ROOT, all at once."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..annotations import format_report
from ..dataset import load_inputs
from ._common import add_command
from .prepare import add_correction_arguments


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "validate",
        help="check VIA projects and videos; list every problem",
        example="ethoclip validate dog_video/Feb",
        description="Parse every VIA project under ROOT, probe every referenced video and list "
        "every problem grouped by file. Exit 0 when clean, 1 when problems were found.",
    )
    p.add_argument("root", metavar="ROOT")
    p.add_argument("--json", action="store_true", help="problems as JSON lines")
    add_correction_arguments(p, default=None)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    inputs = load_inputs(
        args.root,
        corrections=args.corrections or (),
        corrections_mode=args.corrections_mode or "replace",
    )
    n_videos = sum(len(s.probes) for s in inputs.sessions)
    n_segments = sum(len(p.segments) for s in inputs.sessions for p in s.projects)
    if args.json:
        for issue in inputs.issues:
            print(json.dumps(issue.to_json()))
    else:
        for correction in inputs.corrections:
            print(f"correction: {correction.describe()}")
        if inputs.issues:
            print(format_report(inputs.issues))
        print(
            f"{len(inputs.sessions)} session(s), "
            f"{sum(len(s.projects) for s in inputs.sessions)} project(s), {n_segments} "
            f"segment(s), {n_videos} video(s) probed: {len(inputs.errors)} error(s), "
            f"{len(inputs.warnings)} warning(s)"
        )
    return 1 if inputs.errors else 0
