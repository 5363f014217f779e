"""Frame-folder datasets (RawframeDataset + RawFrameDecode), ConcatDataset, and the storage
arguments of MMAction2's readers: what each accepts acts, the rest is refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ethoclip.data import build_dataset
from ethoclip.errors import ConfigError
from ethoclip.registry import TRANSFORMS

PIPELINE = [
    {"type": "SampleFrames", "clip_len": 3, "frame_interval": 2, "test_mode": True},
    {"type": "RawFrameDecode", "io_backend": "disk"},
    {"type": "FormatShape", "input_format": "NCTHW"},
    {"type": "PackActionInputs"},
]


def frame_folder(root: Path, name: str, count: int, tmpl: str = "img_{:05}.png") -> Path:
    """Frames numbered from 1, each filled with its number (lossless PNG)."""
    folder = root / name
    folder.mkdir(parents=True)
    for number in range(1, count + 1):
        pixels = np.full((6, 8, 3), number * 10, np.uint8)
        pixels[0, 0] = (number, 0, 255)
        Image.fromarray(pixels).save(folder / tmpl.format(number))
    return folder


def rawframes(root: Path, lines: str, **kwargs: object) -> dict:
    (root / "list.txt").write_text(lines)
    return {
        "type": "RawframeDataset",
        "ann_file": str(root / "list.txt"),
        "data_prefix": {"img": str(root)},
        "pipeline": PIPELINE,
        "filename_tmpl": "img_{:05}.png",
        **kwargs,
    }


def numbers(sample: dict) -> list[int]:
    """The frame numbers in a packed (views, C, T, H, W) clip, read from pixel (0, 0)."""
    return sample["inputs"][0, 0, :, 0, 0].tolist()


def test_rawframe_dataset_reads_the_frames_sampled(tmp_path: Path) -> None:
    frame_folder(tmp_path, "a", 6)
    frame_folder(tmp_path, "b", 9)
    dataset = build_dataset(rawframes(tmp_path, "a 6 0\nb 9 1\n"), key="dataset")
    assert len(dataset) == 2 and dataset.num_classes == 2
    # 3 frames 2 apart span 5: a single test clip starts at (6 − 5) // 2 = 0, frames count
    # from start_index 1 → img_00001, 3, 5; for b (9 − 5) // 2 = 2 → 3, 5, 7.
    assert numbers(dataset[0]) == [1, 3, 5] and int(dataset[0]["label"]) == 0
    assert numbers(dataset[1]) == [3, 5, 7]
    assert dataset[1]["inputs"].shape == (1, 3, 3, 6, 8)


def test_rawframe_offsets_templates_and_start_index(tmp_path: Path) -> None:
    frame_folder(tmp_path, "long", 12, tmpl="{:04d}.png")
    cfg = rawframes(
        tmp_path, "long 4 6 2\n", with_offset=True, filename_tmpl="{:04d}.png", num_classes=3
    )
    # A clip of 6 frames from frame 4 on: indices 1, 3, 5 (start_index 1) + offset 4.
    assert numbers(build_dataset(cfg, key="dataset")[0]) == [5, 7, 9]
    cfg["start_index"] = 0  # frames counted from 0: 0, 2, 4 + 4
    assert numbers(build_dataset(cfg, key="dataset")[0]) == [4, 6, 8]


def test_rawframe_problems_name_their_place(tmp_path: Path) -> None:
    frame_folder(tmp_path, "a", 4)
    with pytest.raises(ConfigError, match=r"dataset\.modality: must be 'RGB' or 'Flow', not 'D'"):
        build_dataset(rawframes(tmp_path, "a 4 0\n", modality="D"), key="dataset")
    with pytest.raises(ConfigError, match=r"filename_tmpl: 'img_\{:05\}.png' does not take a dir"):
        build_dataset(rawframes(tmp_path, "a 4 0\n", modality="Flow"), key="dataset")
    with pytest.raises(ConfigError, match=r"dataset\.filename_tmpl: 'img_{x}.jpg' does not take"):
        build_dataset(rawframes(tmp_path, "a 4 0\n", filename_tmpl="img_{x}.jpg"), key="dataset")
    with pytest.raises(ConfigError, match=r"list\.txt:2: expected 'folder offset total_frames"):
        build_dataset(rawframes(tmp_path, "a 0 4 0\na\n", with_offset=True), key="dataset")
    with pytest.raises(ConfigError, match=r"list\.txt:1: frame folder .*missing not found"):
        build_dataset(rawframes(tmp_path, "missing 4 0\n"), key="dataset")
    dataset = build_dataset(rawframes(tmp_path, "a 9 0\n"), key="dataset")  # 9 > 4 frames there
    with pytest.raises(FileNotFoundError, match=r"img_00005\.png: frame 5 of .* not found"):
        dataset[0]


def test_concat_dataset_reads_each_part_through_its_own_pipeline(tmp_path: Path) -> None:
    frame_folder(tmp_path / "one", "a", 6)
    frame_folder(tmp_path / "two", "b", 9)
    first = rawframes(tmp_path / "one", "a 6 0\n", num_classes=2)
    second = rawframes(tmp_path / "two", "b 9 1\nb 9 0\n", num_classes=2)
    second["pipeline"] = [dict(PIPELINE[0], clip_len=2), *PIPELINE[1:]]
    dataset = build_dataset(
        {"type": "ConcatDataset", "datasets": [first, second]}, key="train_dataloader.dataset"
    )
    assert len(dataset) == 3 and dataset.num_classes == 2
    assert numbers(dataset[0]) == [1, 3, 5]
    assert numbers(dataset[1]) == [4, 6] and int(dataset[1]["label"]) == 1  # (9 − 3) // 2 = 3
    assert dataset[2]["index"] == 2 and int(dataset[2]["label"]) == 0
    assert dataset.label_matrix().tolist() == [[1, 0], [0, 1], [1, 0]]
    second["num_classes"] = 3
    with pytest.raises(ConfigError, match=r"^train_dataloader\.dataset\.datasets\.1: .* 3 classes"):
        build_dataset(
            {"type": "ConcatDataset", "datasets": [first, second]}, key="train_dataloader.dataset"
        )
    with pytest.raises(ConfigError, match=r"dataset\.lazy_init: is not supported"):
        build_dataset(
            {"type": "ConcatDataset", "datasets": [first], "lazy_init": True}, key="dataset"
        )


def test_storage_arguments_local_accepted_others_refused_by_name() -> None:
    for name in ("DecordInit", "PyAVInit", "OpenCVInit", "DecordDecode", "RawFrameDecode"):
        TRANSFORMS.build({"type": name, "io_backend": "disk"})
        TRANSFORMS.build({"type": name, "file_client_args": {"backend": "local"}})
        TRANSFORMS.build({"type": name, "backend_args": None})
        with pytest.raises(ConfigError, match=r"^io_backend: 'petrel' \(remote storage"):
            TRANSFORMS.build({"type": name, "io_backend": "petrel"})
        with pytest.raises(ConfigError, match=r"^backend_args: .* is not local storage"):
            TRANSFORMS.build({"type": name, "backend_args": {"backend": "petrel"}})
        with pytest.raises(ConfigError, match=r"^path_mapping: is not an argument of the reader"):
            TRANSFORMS.build({"type": name, "path_mapping": {"s3://": "/data"}})
    with pytest.raises(ConfigError, match=r"^decoding_backend: must be 'cv2', 'pillow'"):
        TRANSFORMS.build({"type": "RawFrameDecode", "decoding_backend": "nvjpeg"})


def test_pytorchvideo_ops_other_than_randaugment_are_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match=r"^op: 'AugMix' is not implemented \(ethoclip has no"):
        TRANSFORMS.build({"type": "PytorchVideoWrapper", "op": "AugMix"})


def test_arguments_that_could_not_act_are_refused_when_built() -> None:
    with pytest.raises(ConfigError, match=r"^interpolation: only 'bilinear' is supported"):
        TRANSFORMS.build(
            {"type": "RandomRescale", "scale_range": (256, 320), "interpolation": "bicubic"}
        )
    with pytest.raises(ConfigError, match=r"^algorithm_keys: no ethoclip model reads"):
        TRANSFORMS.build({"type": "PackActionInputs", "algorithm_keys": ("text",)})
