"""The ``ethoclip`` command: one thin module per subcommand over the library."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import EthoclipError
from . import (
    browse,
    config,
    demo,
    demo_data,
    doctor,
    list_,
    predict,
    prepare,
    probe,
    review,
    test,
    train,
    validate,
)

COMMANDS = [
    demo,
    doctor,
    probe,
    validate,
    demo_data,
    prepare,
    review,
    config,
    list_,
    browse,
    train,
    test,
    predict,
]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one ``error: …`` line, exit 2, like the rest."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ethoclip",
        description="From annotated animal video (VIA 3) to clip datasets and recognizers.",
        epilog="example: ethoclip demo --out demo_run",
    )
    parser.add_argument("--version", action="version", version=f"ethoclip {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = argparse.Namespace(debug=False)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except EthoclipError as exc:
        if args.debug:
            raise
        # One line, whatever the message holds (a library's text may carry newlines).
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error worth a traceback.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run() -> None:
    sys.exit(main())
