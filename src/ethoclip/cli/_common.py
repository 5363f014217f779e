"""Small helpers shared by the command modules."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


def add_command(
    sub: Any, name: str, *, help: str, example: str, description: str | None = None
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` ends with an example, and that takes ``--debug`` too."""
    parser = sub.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # SUPPRESS: when given only before the command, this must not reset it to False.
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    return parser


def default_of(cls: type, name: str) -> Any:
    """A dataclass field's default: help texts quote it from its one home."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.default
    raise KeyError(name)


def given(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """The options among ``names`` that the user set (their flags default to SUPPRESS)."""
    return {name: value for name, value in vars(args).items() if name in names}


def flags_of(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Option name (dest) → the flag a user types, for error messages."""
    return {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings}


def progress_bar(console: Console) -> Progress:
    """The commands' progress bar: label, bar, done/total and time left; gone when finished."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
