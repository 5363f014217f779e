"""MMAction2 transforms ethoclip knows but refuses, each with the reason and what to do."""

from __future__ import annotations

from typing import Any

from ..registry import config_error


class PytorchVideoWrapper:
    """MMAction2's wrapper around pytorchvideo's transforms (``RandAugment``, ``AugMix``):
    refused, since ethoclip does not depend on pytorchvideo and its augmentations are not
    reimplemented here."""

    def __init__(self, op: str = "", **kwargs: Any) -> None:
        raise config_error(
            "type",
            f"PytorchVideoWrapper(op={op!r}) runs pytorchvideo's {op or 'transform'}, which "
            "ethoclip does not include (no pytorchvideo dependency); remove this step from the "
            "pipeline (or replace it with ColorJitter/Flip)",
        )
