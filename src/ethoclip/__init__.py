"""ethoclip: annotated animal video (VIA 3) → clip datasets → behaviour recognizers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ethoclip")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
