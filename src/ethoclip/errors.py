"""Errors that reach the user.

Every message says what is wrong, where (file, place, value) and what to do; the CLI prints it as
one line ``error: …`` and exits 2. Code that finds a problem in *user input* raises one of these,
never ``assert`` or a bare ``ValueError``.
"""

from __future__ import annotations


class EthoclipError(Exception):
    """Base class: a problem with the user's input or environment, explained for people."""


class MediaError(EthoclipError):
    """A video file cannot be opened, probed or decoded as asked."""


class AnnotationError(EthoclipError):
    """A VIA project cannot be read or does not describe what ethoclip needs."""


class ConfigError(EthoclipError):
    """A config file or option is invalid."""


class DatasetError(EthoclipError):
    """Input discovery, window planning or dataset writing cannot go on."""


class CheckpointError(EthoclipError):
    """A checkpoint is missing, damaged or does not describe itself."""


__all__ = [
    "AnnotationError",
    "CheckpointError",
    "ConfigError",
    "DatasetError",
    "EthoclipError",
    "MediaError",
]
