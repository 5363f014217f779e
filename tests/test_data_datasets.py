"""Datasets over list files and prepare folders: frame-exact samples, classes from the data,
errors that name file and line; the sampler; browse."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch

from ethoclip.data import ClipDataset, DefaultSampler, VideoDataset, build_dataloader
from ethoclip.data._browse import browse
from ethoclip.dataset import load_dataset
from ethoclip.demo import read_frame_code
from ethoclip.errors import ConfigError, DatasetError

DECODE = [
    {"type": "DecordInit"},
    {"type": "SampleFrames", "clip_len": 5, "frame_interval": 7, "num_clips": 2, "test_mode": True},
    {"type": "DecordDecode"},
    {"type": "Resize", "scale": (-1, 128)},
    {"type": "FormatShape", "input_format": "NCTHW"},
    {"type": "PackActionInputs"},
]


def sequential_codes(path: Path) -> list[int]:
    """The oracle: every frame of the clip decoded from its start by plain PyAV."""
    with av.open(str(path)) as container:
        return [read_frame_code(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def test_sampled_and_decoded_frames_are_exactly_the_requested_ones(demo_dataset: Path) -> None:
    ds = VideoDataset(
        str(demo_dataset / "val.txt"), DECODE, data_prefix={"video": str(demo_dataset)}
    )
    for index in range(0, len(ds), 5):
        item = ds[index]
        inputs = item["inputs"]  # (views, C, T, H, W)
        assert inputs.shape == (2, 3, 5, 128, 171) and inputs.dtype == torch.uint8
        decoded = [
            read_frame_code(np.ascontiguousarray(f.permute(1, 2, 0).numpy()))
            for view in inputs
            for f in view.permute(1, 0, 2, 3)
        ]
        truth = sequential_codes(ds.samples[index].path)
        assert decoded == [truth[i] for i in item["meta"]["frame_inds"]]
        # 2 clips of 5 frames 7 apart (a span of 29) in 48: MMAction2 1.2.0 spreads test clips
        # from the first frame to the last start, 48 − 29 = 19 (tests/test_data_sampling.py
        # compares SampleFrames with MMAction2's own class).
        assert item["meta"]["frame_inds"] == [0, 7, 14, 21, 28, 19, 26, 33, 40, 47]


def test_classes_and_multilabel_come_from_the_data(demo_dataset: Path) -> None:
    ds = VideoDataset(
        str(demo_dataset / "train.txt"), DECODE, data_prefix={"video": str(demo_dataset)}
    )
    dataset = load_dataset(demo_dataset)
    assert ds.class_names == list(dataset.labels) and ds.num_classes == 6
    assert ds.multi_label  # lines with two labels
    wag = dataset.labels.index("wag")
    two = next(i for i, s in enumerate(ds.samples) if len(s.label_ids) == 2)
    target = ds.target(two)
    assert target.sum() == 2 and target[wag] == 1
    clips = ClipDataset(str(demo_dataset), DECODE, split="val")
    assert [s.path for s in clips.samples] == [demo_dataset / r.clip for r in dataset.split("val")]
    with pytest.raises(
        ConfigError, match=r"num_classes: is 400 in the config but 6 in label_map\.txt of"
    ):
        VideoDataset(
            str(demo_dataset / "train.txt"),
            DECODE,
            data_prefix={"video": str(demo_dataset)},
            num_classes=400,
        )
    with pytest.raises(
        ConfigError, match=r"multi_class: is False, but .*train\.txt:\d+ has 2 labels"
    ):
        VideoDataset(
            str(demo_dataset / "train.txt"),
            DECODE,
            data_prefix={"video": str(demo_dataset)},
            multi_class=False,
        )


def list_file(tmp_path: Path, text: str, name: str = "list.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_list_file_problems_name_file_and_line(demo_dataset: Path, tmp_path: Path) -> None:
    clip = next(p for p in (demo_dataset / "clips").rglob("*.mp4"))
    good = f"{clip} 0\n"
    with pytest.raises(
        ConfigError, match=r"list\.txt:2: label id 7 is not below the number of classes \(3\)"
    ):
        VideoDataset(str(list_file(tmp_path, good + f"{clip} 7\n")), DECODE, num_classes=3)
    with pytest.raises(
        ConfigError, match=r"list\.txt:2: clip .*missing\.mp4 not found.*check data_prefix"
    ):
        VideoDataset(
            str(list_file(tmp_path, good + "missing.mp4 1\n")),
            DECODE,
            data_prefix={"video": str(tmp_path)},
        )
    with pytest.raises(
        DatasetError,
        match=r"list\.txt: line 2: labels must be whole numbers, found \['clip\.mp4', 'a', 'b'\] "
        r"\(a path with the delimiter ' ' in it",
    ):
        VideoDataset(str(list_file(tmp_path, good + "my clip.mp4 a b\n")), DECODE)
    with pytest.raises(ConfigError, match=r"holds no clips \(an empty split\)"):
        VideoDataset(str(list_file(tmp_path, "\n")), DECODE, num_classes=2)
    with pytest.raises(DatasetError, match=r"nothere\.txt: list file not found; check ann_file"):
        VideoDataset(str(tmp_path / "nothere.txt"), DECODE)
    with pytest.raises(ConfigError, match=r"num_classes: is needed for multi-label data"):
        VideoDataset(str(list_file(tmp_path, good + f"{clip} 0 1\n")), DECODE)
    background = VideoDataset(
        str(list_file(tmp_path, f"{clip} 0 1\n{clip}\n")), DECODE, num_classes=2
    )
    assert background.target(1).tolist() == [0.0, 0.0]  # a path alone: an all-zero target
    single = VideoDataset(str(list_file(tmp_path, f"{clip},1\n{clip},0\n")), DECODE, delimiter=",")
    assert not single.multi_label and single.num_classes == 2 and single.target(0) == 1


def test_default_sampler_is_a_function_of_seed_and_epoch() -> None:
    data = list(range(10))
    a, b = DefaultSampler(data, seed=3), DefaultSampler(data, seed=3)
    a.set_epoch(2)
    b.set_epoch(2)
    first, second = list(a), list(b)
    assert first == second and sorted(k % 10 for k in first) == data
    assert all(k // 10 == 2 for k in first)  # the epoch travels in the key
    b.set_epoch(3)
    assert [k % 10 for k in b] != [k % 10 for k in first]
    assert [k % 10 for k in DefaultSampler(data, shuffle=False)] == data


def test_augmentation_depends_on_seed_epoch_and_index_only(demo_dataset: Path) -> None:
    pipeline = [*DECODE[:4], {"type": "RandomCrop", "size": 96}, {"type": "Flip"}, *DECODE[4:]]
    ds = VideoDataset(
        str(demo_dataset / "val.txt"), pipeline, data_prefix={"video": str(demo_dataset)}
    )
    n = len(ds)
    same_a, same_b = ds[3 * n + 4]["inputs"], ds[3 * n + 4]["inputs"]
    assert torch.equal(same_a, same_b)  # whichever worker loads it, whatever ran before
    assert not torch.equal(
        ds[3 * n + 4]["inputs"], ds[4 * n + 4]["inputs"]
    )  # a new epoch: new crop


def test_browse_writes_what_the_model_sees(demo_dataset: Path, tmp_path: Path) -> None:
    ds = VideoDataset(
        str(demo_dataset / "val.txt"), DECODE, data_prefix={"video": str(demo_dataset)}
    )
    written = browse(ds, tmp_path / "out", count=2)
    assert len(written) == 2
    first = written[0]
    assert first.gif.is_file() and first.sheet.is_file()
    assert first.gif.name.startswith(f"000_{ds.samples[0].path.stem}_frames_0-7-14-21-28-19-26")
    from PIL import Image

    with Image.open(first.gif) as gif:
        assert gif.n_frames == 10 and gif.size == (171, 128 + 14)  # 2 views × 5 frames, banner
    original = browse(ds, tmp_path / "orig", count=1, mode="original")
    with Image.open(original[0].gif) as gif:
        assert gif.size == (342, 256 + 14)  # as decoded: no resize


def test_loader_errors_name_the_full_config_key(demo_dataset: Path) -> None:
    def loader(dataset: dict[str, object]) -> None:
        build_dataloader(
            {"batch_size": 2, "dataset": dataset}, key="train_dataloader", training=True
        )

    pipeline: list[dict[str, object]] = [
        {"type": "DecordInit"},
        {"type": "SampleFrames", "clip_len": 4},
        {"type": "VideoInit"},
    ]
    with pytest.raises(ConfigError) as bad_type:
        loader({"type": "ClipDataset", "data_root": str(demo_dataset), "pipeline": pipeline})
    assert str(bad_type.value).startswith(
        "train_dataloader.dataset.pipeline.2.type: unknown transform type 'VideoInit'; "
        "did you mean 'DecordInit'? see 'ethoclip list transforms'"
    )
    with pytest.raises(
        ConfigError,
        match=r"^train_dataloader\.dataset\.pipeline\.1\.clip_lenn: SampleFrames takes no "
        r"argument 'clip_lenn'; did you mean 'clip_len'\?",
    ):
        loader(
            {
                "type": "ClipDataset",
                "data_root": str(demo_dataset),
                "pipeline": [{"type": "DecordInit"}, {"type": "SampleFrames", "clip_lenn": 4}],
            }
        )
    with pytest.raises(
        ConfigError,
        match=r"^train_dataloader\.dataset\.splt: ClipDataset takes no argument 'splt'; "
        r"did you mean 'split'\?",
    ):
        loader({"type": "ClipDataset", "data_root": str(demo_dataset), "pipeline": [], "splt": "x"})
