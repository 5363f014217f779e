"""ethoclip list: what the registries hold, each name with a line and its origin."""

from __future__ import annotations

import argparse
from typing import Any

from ..registry import REGISTRIES
from ._common import add_command


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "list",
        help="list the type names configs can use (models, transforms, …)",
        example="ethoclip list models",
    )
    p.add_argument(
        "what", choices=sorted(REGISTRIES), metavar="WHAT", help=", ".join(sorted(REGISTRIES))
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    entries = REGISTRIES[args.what].entries()
    width = max(len(e.name) for e in entries)
    for entry in entries:
        origin = (
            "MMAction2"
            if entry.mmaction2
            else ("torch" if entry.target.startswith("torch") else "ethoclip")
        )
        print(f"{entry.name.ljust(width)}  {origin:<9}  {entry.description}")
    return 0
