"""The dataset readers' one convention: each takes the dataset folder or the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethoclip.dataset import read_label_map, read_manifest
from ethoclip.errors import DatasetError


def test_readers_take_the_folder_or_the_file(demo_dataset: Path, tmp_path: Path) -> None:
    records = read_manifest(demo_dataset)
    assert records and read_manifest(demo_dataset / "manifest.jsonl") == records
    names = read_label_map(demo_dataset)
    assert names == read_label_map(demo_dataset / "label_map.txt") == sorted(names)
    (tmp_path / "labels.txt").write_text("a\nb\n")
    assert read_label_map(tmp_path / "labels.txt") == ["a", "b"]  # a label file of any name
    with pytest.raises(DatasetError, match=r"empty: no manifest\.jsonl in .*empty; pass a folder"):
        (tmp_path / "empty").mkdir()
        read_manifest(tmp_path / "empty")
    with pytest.raises(
        DatasetError, match=r"gone\.jsonl: no such file \(nor a folder with manifest\.jsonl\)"
    ):
        read_manifest(tmp_path / "gone.jsonl")
    with pytest.raises(DatasetError, match=r"empty: no label_map\.txt in .*or its label_map\.txt"):
        read_label_map(tmp_path / "empty")
