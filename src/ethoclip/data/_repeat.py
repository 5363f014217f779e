"""MMAction2's ``RepeatAugDataset`` (repeated augmentation, arXiv:1901.09335): each video is
opened and decoded once per item and augmented ``num_repeats`` times, so a batch of B items
holds B × num_repeats clips (``repeat_pseudo_collate`` flattens them, as MMAction2's does)."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..registry import config_error
from ._datasets import VideoDataset
from ._decode import VideoDecode, VideoInit
from ._sampling import SampleFrames


class RepeatAugDataset(VideoDataset):
    """A ``VideoDataset`` for training whose items are lists of ``num_repeats`` clips of one
    video. The pipeline starts with opening, sampling and decoding (``DecordInit``,
    ``SampleFrames``, ``DecordDecode``); ``sample_once`` uses one set of frames for all
    repeats, otherwise each repeat samples its own."""

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Mapping[str, Any] | Callable[..., Any]],
        data_prefix: Mapping[str, str] | None = None,
        data_root: str | None = None,
        num_repeats: int = 4,
        sample_once: bool = False,
        multi_class: bool | None = None,
        num_classes: int | None = None,
        start_index: int = 0,
        modality: str = "RGB",
        delimiter: str = " ",
        test_mode: bool = False,
    ) -> None:
        if test_mode:
            raise config_error("test_mode", "RepeatAugDataset is for training (MMAction2 too)")
        if isinstance(num_repeats, bool) or not isinstance(num_repeats, int) or num_repeats < 1:
            raise config_error("num_repeats", f"must be a whole number ≥ 1 (got {num_repeats!r})")
        super().__init__(
            ann_file,
            pipeline,
            data_prefix=data_prefix,
            data_root=data_root,
            multi_class=multi_class,
            num_classes=num_classes,
            start_index=start_index,
            modality=modality,
            delimiter=delimiter,
        )
        steps = self.pipeline.transforms
        kinds = (VideoInit, SampleFrames, VideoDecode)
        if len(steps) < 3 or not all(isinstance(s, k) for s, k in zip(steps, kinds, strict=False)):
            raise config_error(
                "pipeline",
                "RepeatAugDataset needs the pipeline to start with DecordInit, SampleFrames, "
                f"DecordDecode (it has {self.pipeline!r})",
            )
        self.num_repeats = num_repeats
        self.sample_once = bool(sample_once)

    def load(self, index: int, seed: int) -> Any:
        """``num_repeats`` packed clips of sample ``index`` (one decode)."""
        random.seed(seed)
        np.random.seed(seed)
        sample = self.samples[index]
        init, sampler, decode, *rest = self.pipeline.transforms
        results = init(
            {
                "filename": str(sample.path),
                "label": self.target(index),
                "start_index": self.start_index,
                "modality": "RGB",
                "sample_idx": index,
            }
        )
        # Sampled on a small dict, as MMAction2 does, so each repeat's draws are the same.
        bare = {"total_frames": results["total_frames"], "start_index": results["start_index"]}
        inds = []
        for _ in range(1 if self.sample_once else self.num_repeats):
            inds.append(sampler(bare)["frame_inds"].reshape(-1).copy())
        if self.sample_once:
            inds = inds * self.num_repeats
        results.update({k: v for k, v in bare.items() if k != "frame_inds"})
        results["frame_inds"] = np.concatenate(inds)
        results = decode(results)
        imgs = results.pop("imgs")
        ends = np.cumsum([0] + [len(i) for i in inds])
        packed = []
        for repeat in range(self.num_repeats):
            item = copy.deepcopy(results)
            item["imgs"] = imgs[ends[repeat] : ends[repeat + 1]]
            item["frame_inds"] = inds[repeat]
            for transform in rest:
                item = transform(item)
            if not isinstance(item, dict) or "inputs" not in item:
                raise config_error(None, "the pipeline must end with PackActionInputs")
            item["index"] = index
            packed.append(item)
        return packed
