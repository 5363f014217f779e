"""ethoclip demo-data: write the embedded synthetic project (the demo's default input)."""

from __future__ import annotations

import argparse
from typing import Any

from ..demo import generate_demo_project
from ..demo.zoo import GROUND_TRUTH, PROJECTS, generate_zoo_project
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
    p.add_argument(
        "--project",
        default="demo",
        choices=["demo", *PROJECTS],
        help="demo (the dog project, default) or a behaviour-zoo project with exact ground truth",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.project != "demo":
        return _run_zoo(args)
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


def _run_zoo(args: argparse.Namespace) -> int:
    project = PROJECTS[args.project]
    made = generate_zoo_project(project, args.out, seed=args.seed)
    print(f"wrote {project.name} ({project.about}): {len(made)} videos at {project.fps:g} fps")
    for m in made:
        labels = sorted({b.label for b in m.bouts})
        # A session filmed with another camera says so (another frame rate, another size).
        other = m.fps != project.fps or m.size != (project.width, project.height)
        note = f" ({m.fps:g} fps, {m.size[0]}×{m.size[1]})" if other else ""
        print(f"  {m.session}/video/{m.path.name}{note}: {', '.join(labels)}")
    print(f"exact bouts: {args.out}/{GROUND_TRUTH}; next: ethoclip validate {args.out}")
    return 0
