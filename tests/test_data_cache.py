"""The decoded-frame cache: the same frames as decoding, rebuilt when the clip or the pipeline
changes, inside its size bound, and no torn entry after a killed write."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ethoclip.data import Compose
from ethoclip.data._cache import FrameCache
from ethoclip.demo import read_frame_code
from ethoclip.demo._video import StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.errors import ConfigError


def _clip(path: Path, frames: int = 30, shade: int = 0) -> Path:
    def render(index: int, t: float, width: int, height: int) -> np.ndarray:
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = (40 + shade + index * 5) % 200
        return frame

    return write_video(path, VideoSpec([StreamSpec(64, 48, cfr_times(frames, 25), render=render)]))


def _pipeline(cache: Any, short_side: int = 32) -> Compose:
    decode: dict[str, Any] = {"type": "DecordDecode"}
    if cache is not None:
        decode.update(cache=str(cache), cache_gib=0.01)
    return Compose(
        [
            {"type": "DecordInit"},
            {"type": "SampleFrames", "clip_len": 4, "frame_interval": 3, "num_clips": 1},
            decode,
            {"type": "Resize", "scale": (-1, short_side)},
            {"type": "RandomCrop", "size": 24},  # random after the cache: still differs per seed
            {"type": "Flip", "flip_ratio": 0.5},
            {"type": "FormatShape", "input_format": "NCTHW"},
            {"type": "PackActionInputs"},
        ]
    )


def _load(pipeline: Compose, clip: Path, seed: int) -> np.ndarray:
    random.seed(seed)
    np.random.seed(seed)
    out = pipeline({"filename": str(clip), "label": 0, "start_index": 0, "modality": "RGB"})
    return np.asarray(out["inputs"])


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.npy"))


def test_cached_loads_equal_uncached_loads(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "a.mp4")
    plain, cached = _pipeline(None), _pipeline(tmp_path / "cache")
    outputs = set()
    for seed in range(6):
        want = _load(plain, clip, seed)
        assert np.array_equal(_load(cached, clip, seed), want)  # first: decodes and stores
        assert np.array_equal(_load(cached, clip, seed), want)  # then: from the cache
        outputs.add(want.tobytes())
    assert len(outputs) > 1  # sampling, crop and flip still vary after the cache
    (entry,) = _entries(tmp_path / "cache")
    frames = np.load(entry)
    # Every frame, at the Resize's size: 64×48 to a 32 short side is 43×32 (42.67, rounded).
    assert frames.shape == (30, 32, 43, 3)
    # Frame k of the entry is the clip's frame k: the frame code in its top band says so.
    assert [read_frame_code(f) for f in frames[[0, 7, 29]]] == [0, 7, 29]


def test_changed_clip_or_pipeline_is_decoded_again(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "a.mp4")
    cached = _pipeline(tmp_path / "cache")
    first = _load(cached, clip, 0)
    _load(_pipeline(tmp_path / "cache", short_side=40), clip, 0)  # another decode size
    assert len(_entries(tmp_path / "cache")) == 2
    _clip(tmp_path / "a.mp4", shade=60)  # prepare rewrote the clip
    stat = clip.stat()
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = _load(cached, clip, 0)
    assert not np.array_equal(first, again)
    assert np.array_equal(again, _load(_pipeline(None), clip, 0))


def test_size_bound_evicts_least_recently_used(tmp_path: Path) -> None:
    one = 30 * 24 * 32 * 3  # one clip at a 24-pixel short side
    cache = FrameCache(tmp_path / "cache", max_bytes=4 * one + 4 * 200)  # ~4 entries + headers
    frames = np.zeros((30, 24, 32, 3), np.uint8)
    for k in range(6):
        cache.put(f"k{k}", frames + k)
        assert sum(p.stat().st_size for p in _entries(tmp_path / "cache")) <= cache.max_bytes
    kept = [p.stem for p in _entries(tmp_path / "cache")]
    assert "k5" in kept and "k0" not in kept
    big = np.zeros((300, 24, 32, 3), np.uint8)  # over a quarter of the bound: never stored
    cache.put("big", big)
    assert cache.get("big") is None


def test_a_killed_write_leaves_no_entry_and_is_redone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = _clip(tmp_path / "a.mp4")
    cached = _pipeline(tmp_path / "cache")
    want = _load(_pipeline(None), clip, 1)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the run is stopped in the middle of writing

    monkeypatch.setattr(np, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        _load(cached, clip, 1)
    monkeypatch.undo()
    assert _entries(tmp_path / "cache") == []
    assert list((tmp_path / "cache").iterdir()) == []  # its temporary file is gone too
    assert np.array_equal(_load(cached, clip, 1), want)
    (entry,) = _entries(tmp_path / "cache")
    entry.write_bytes(b"\x93NUMPY torn")  # a torn file from elsewhere: decoded again
    assert np.array_equal(_load(cached, clip, 1), want)
    assert np.load(_entries(tmp_path / "cache")[0]).shape[0] == 30


def test_cache_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="cache_gib"):
        _pipeline(None).__class__([{"type": "DecordDecode", "cache": True, "cache_gib": 0}])
    with pytest.raises(ConfigError, match="cache"):
        Compose([{"type": "DecordDecode", "cache": 3}])
