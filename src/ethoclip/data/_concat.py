"""MMEngine's ``ConcatDataset``: several clip datasets read as one (Kinetics-710 is K400 +
K600 + K700 this way), each through its own pipeline, with one label space."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from ..registry import DATASETS, building, config_error, current_key
from ._datasets import ClipSamples


class ConcatDataset(ClipSamples):
    """The samples of ``datasets`` in order. They must agree on the number of classes and on
    single- or multi-label; ``num_classes``/``multi_class`` given here apply to every part."""

    def __init__(
        self,
        datasets: Sequence[Mapping[str, Any] | ClipSamples],
        lazy_init: bool = False,
        ignore_keys: str | Sequence[str] | None = None,
        num_classes: int | None = None,
        multi_class: bool | None = None,
    ) -> None:
        if lazy_init:
            raise config_error(
                "lazy_init", "is not supported: the parts are built (and checked) at once"
            )
        if ignore_keys:
            raise config_error(
                "ignore_keys",
                "is not supported: the parts must agree on classes and label mode, nothing else "
                "of their metadata is compared",
            )
        if isinstance(datasets, str | Mapping) or not datasets:
            raise config_error("datasets", "must be a non-empty list of dataset dicts")
        defaults = {
            k: v
            for k, v in (("num_classes", num_classes), ("multi_class", multi_class))
            if v is not None
        }
        parts: list[ClipSamples] = []
        for index, part in enumerate(datasets):
            if isinstance(part, Mapping):
                with building(current_key("datasets")):
                    part = DATASETS.build(part, default_args=defaults, key=index)
            if not isinstance(part, ClipSamples):
                raise config_error(
                    f"datasets.{index}", f"{type(part).__name__} is not a clip dataset"
                )
            parts.append(part)
        first = parts[0]
        for index, part in enumerate(parts[1:], start=1):
            if (part.num_classes, part.multi_label) != (first.num_classes, first.multi_label):
                raise config_error(
                    f"datasets.{index}",
                    f"{part.source} has {part.num_classes} classes "
                    f"({'multi' if part.multi_label else 'single'}-label), {first.source} "
                    f"{first.num_classes} ({'multi' if first.multi_label else 'single'}-label); "
                    "concatenated datasets need one label space",
                )
        self.parts = parts
        self.ends = list(itertools.accumulate(len(p) for p in parts))
        # What the engine reads of a dataset; the pipeline shown is the first part's.
        self.source = " + ".join(p.source for p in parts)
        self.samples = [s for p in parts for s in p.samples]
        self.test_mode = first.test_mode
        self.start_index = first.start_index
        self.multi_label = first.multi_label
        self.num_classes = first.num_classes
        self.class_names = first.class_names
        self.pipeline = first.pipeline

    def _locate(self, index: int) -> tuple[ClipSamples, int]:
        part = bisect.bisect_right(self.ends, index)
        return self.parts[part], index - (self.ends[part - 1] if part else 0)

    def target(self, index: int) -> Any:
        part, local = self._locate(index)
        return part.target(local)

    def load(self, index: int, seed: int) -> dict[str, Any]:
        part, local = self._locate(index)
        packed = part.load(local, seed)
        packed["index"] = index
        return packed
