"""RepeatAugDataset: one decode, num_repeats augmented clips per item, flattened by the
collate (MMAction2's repeat_pseudo_collate), each repeat sampled as MMAction2 samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ethoclip.data import SampleFrames, build_dataloader, build_dataset
from ethoclip.demo import read_frame_code
from ethoclip.errors import ConfigError

from .test_data_datasets import sequential_codes

SAMPLE = {"type": "SampleFrames", "clip_len": 4, "frame_interval": 3, "num_clips": 1}
PIPELINE = [
    {"type": "DecordInit"},
    SAMPLE,
    {"type": "DecordDecode"},
    {"type": "Resize", "scale": (-1, 128)},
    {"type": "FormatShape", "input_format": "NCTHW"},
    {"type": "PackActionInputs"},
]


def repeat_cfg(root: Path, **kwargs: object) -> dict:
    return {
        "type": "RepeatAugDataset",
        "ann_file": str(root / "train.txt"),
        "data_prefix": {"video": str(root)},
        "pipeline": PIPELINE,
        "num_repeats": 3,
        **kwargs,
    }


@pytest.mark.parametrize("sample_once", [False, True])
def test_each_repeat_has_the_frames_mmaction2_samples(
    demo_dataset: Path, sample_once: bool
) -> None:
    dataset = build_dataset(repeat_cfg(demo_dataset, sample_once=sample_once), key="dataset")
    items = dataset[2]
    assert isinstance(items, list) and len(items) == 3
    truth = sequential_codes(dataset.samples[2].path)
    # The sampler draws in order, once or once per repeat, from the item's seed.
    np.random.seed((dataset.seed * 1_000_003 + 2) % 2**32)
    sampler = SampleFrames(**{k: v for k, v in SAMPLE.items() if k != "type"})
    total = {"total_frames": len(truth), "start_index": 0}
    draws = [sampler(dict(total))["frame_inds"].tolist() for _ in range(1 if sample_once else 3)]
    expected = draws * 3 if sample_once else draws
    assert [item["meta"]["frame_inds"] for item in items] == expected
    for item in items:
        assert item["inputs"].shape == (1, 3, 4, 128, 171)
        codes = [
            read_frame_code(np.ascontiguousarray(f.permute(1, 2, 0).numpy()))
            for f in item["inputs"][0].permute(1, 0, 2, 3)
        ]
        assert codes == [truth[i] for i in item["meta"]["frame_inds"]]


def test_repeats_are_flattened_into_the_batch(demo_dataset: Path) -> None:
    loader = build_dataloader(
        {
            "batch_size": 2,
            "num_workers": 0,
            "collate_fn": {"type": "repeat_pseudo_collate"},
            "dataset": repeat_cfg(demo_dataset),
        },
        key="train_dataloader",
        training=True,
    )
    batch = next(iter(loader))
    assert batch["inputs"].shape == (6, 1, 3, 4, 128, 171)  # 2 videos × 3 repeats
    assert batch["index"].tolist()[::3] == batch["index"].tolist()[1::3]


def test_repeat_aug_refusals_name_their_key(demo_dataset: Path) -> None:
    with pytest.raises(ConfigError, match=r"^dataset\.pipeline: RepeatAugDataset needs"):
        build_dataset(repeat_cfg(demo_dataset, pipeline=PIPELINE[1:]), key="dataset")
    with pytest.raises(ConfigError, match=r"^dataset\.test_mode: RepeatAugDataset is for training"):
        build_dataset(repeat_cfg(demo_dataset, test_mode=True), key="dataset")
    with pytest.raises(ConfigError, match=r"^train_dataloader\.collate_fn: custom collate"):
        build_dataloader(
            {"collate_fn": {"type": "my_collate"}, "dataset": repeat_cfg(demo_dataset)},
            key="train_dataloader",
            training=True,
        )
