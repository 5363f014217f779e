"""ethoclip review: a static HTML page to check clips by label, video, split and time."""

from __future__ import annotations

import argparse
from typing import Any

from ..dataset import write_review
from ._common import add_command


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "review",
        help="write review.html to look through a dataset's clips",
        example="ethoclip review datasets/feb   # then open datasets/feb/review.html",
    )
    p.add_argument("dataset", metavar="DIR", help="a folder made by 'ethoclip prepare'")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    page = write_review(args.dataset)
    print(f"wrote {page}: open it in a browser (no server needed)")
    return 0
