"""The console script: a Ctrl-C while the command line is still importing ends as cleanly as
one during a command (one line, exit 130), never with a traceback from deep inside an import."""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("error: interrupted while starting; nothing was done", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
