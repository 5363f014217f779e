"""A pipeline of transforms built from config dicts, each error naming its config key."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..registry import TRANSFORMS, config_error
from ._decode import VideoDecode
from ._transforms import Resize


class Compose:
    """Run transforms in order; a ``Resize`` right after decoding is done while decoding."""

    def __init__(self, transforms: Sequence[Mapping[str, Any] | Callable[..., Any]]) -> None:
        if not isinstance(transforms, Sequence) or isinstance(transforms, str):
            raise config_error(
                None, f"a pipeline is a list of transforms, not {type(transforms).__name__}"
            )
        self.transforms: list[Callable[..., Any]] = []
        for index, transform in enumerate(transforms):
            if isinstance(transform, Mapping):
                self.transforms.append(TRANSFORMS.build(transform, key=index))
            elif callable(transform):
                self.transforms.append(transform)
            else:
                raise config_error(
                    str(index), f"a transform is a dict with a 'type', not {transform!r}"
                )
        for current, following in zip(self.transforms, self.transforms[1:], strict=False):
            if isinstance(current, VideoDecode) and isinstance(following, Resize):
                current.resize = following

    def __call__(self, results: dict[str, Any]) -> Any:
        for transform in self.transforms:
            results = transform(results)
        return results

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(type(t).__name__ for t in self.transforms) + ")"
