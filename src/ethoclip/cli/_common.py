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


def _number(kind: type, *, least: float | None, more_than: float | None, what: str) -> Any:
    """An argparse type: a number of ``kind`` within bounds, else argparse's one-line error."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if (kind is float and value != value) or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if least is not None and value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least:g}, got {text}")
        if more_than is not None and value <= more_than:
            raise argparse.ArgumentTypeError(f"must be more than {more_than:g}, got {text}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def positive_int(text: str) -> int:
    """A whole number ≥ 1 (batch sizes, top-k, epochs, counts)."""
    return int(_number(int, least=1, more_than=None, what="a whole number")(text))


def nonnegative_int(text: str) -> int:
    return int(_number(int, least=0, more_than=None, what="a whole number")(text))


def positive_float(text: str) -> float:
    """A number > 0 (seconds of a window or a stride)."""
    return float(_number(float, least=None, more_than=0, what="a number")(text))


def nonnegative_float(text: str) -> float:
    return float(_number(float, least=0, more_than=None, what="a number")(text))


def device_name(text: str) -> str:
    """``cpu``, ``cuda``, ``cuda:N`` or ``mps``: checked by torch later, spelled right now."""
    import re

    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; use cpu, cuda or cuda:N")
    return text


def check_device(device: str | None) -> None:
    """A device that is not on this machine: one line, not torch's traceback (imports torch)."""
    if device is None or device == "cpu":
        return
    import torch

    from ..errors import ConfigError

    if device.startswith("cuda"):
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if index >= count:
            found = f"{count} CUDA device(s)" if count else "no CUDA GPU"
            raise ConfigError(
                f"--device {device}: this machine has {found}; use --device cpu (or leave "
                "--device out to use a GPU when there is one)"
            )
    elif device == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: not available on this machine; use --device cpu")
