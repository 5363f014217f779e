"""ethoclip demo-data: write the embedded synthetic project (the demo's default input)."""

from __future__ import annotations

import argparse
from typing import Any

from ..demo import generate_demo_project
from ._common import add_command


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "demo-data",
        help="write the synthetic annotated project (sessions, videos, VIA)",
        example="ethoclip demo-data dog_video --seed 0",
    )
    p.add_argument("out", metavar="DIR", help="a new or empty folder")
    p.add_argument("--seed", type=int, default=0, help="same seed, same project (default 0)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    videos = generate_demo_project(args.out, seed=args.seed)
    sessions = sorted({v.session for v in videos})
    print(f"wrote {len(videos)} videos in {len(sessions)} sessions under {args.out}:")
    for v in videos:
        labels = sorted({b.label for b in v.bouts})
        note = {"two_streams": " (two video streams)", "vfr": " (variable frame rate)"}.get(
            v.kind, ""
        )
        print(f"  {v.session}/video/{v.path.name}{note}: {', '.join(labels)}")
    print(f"next: ethoclip validate {args.out}")
    return 0
