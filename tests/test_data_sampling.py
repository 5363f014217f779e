"""Frame samplers against MMAction2 1.2.0's own classes (their source from the wheel, run with
numpy): the same frame indices in every setting of a grid, with the same random state."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from ethoclip.data import DenseSampleFrames, SampleFrames, UniformSample
from ethoclip.errors import ConfigError

from .mma_source import loading

FRAMES = (1, 2, 5, 9, 16, 31, 64, 97, 250)  # short videos (fewer frames than a clip) included


def _run(make: Callable[[], Any], results: dict[str, Any], seed: int) -> Any:
    """Frame indices (and num_clips), or "refused" for an error or indices outside the video
    (MMAction2 turns a division by zero into int32's minimum where ethoclip refuses)."""
    np.random.seed(seed)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            out = make()(dict(results))
        except ConfigError:
            return "refused"
        except (ZeroDivisionError, ValueError):
            return "refused"  # MMAction2 fails where ethoclip refuses by name
    inds = np.asarray(out["frame_inds"]).astype(np.int64)
    start = results["start_index"]
    if inds.min() < start or inds.max() >= results["total_frames"] + start:
        return "refused"
    return inds.tolist(), out["num_clips"]


def compare(
    ours: type, theirs: type, grid: Iterator[dict[str, Any]], inputs: list[dict[str, Any]]
) -> tuple[int, list[str]]:
    settings, differ = 0, []
    for seed, (kwargs, results) in enumerate(itertools.product(list(grid), inputs)):
        settings += 1
        mine = _run(lambda: ours(**kwargs), results, seed)  # noqa: B023
        oracle = _run(lambda: theirs(**kwargs), results, seed)  # noqa: B023
        if mine != oracle:
            differ.append(f"{kwargs} {results}: ethoclip {mine}, MMAction2 {oracle}")
    return settings, differ


def grid(**axes: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    for values in itertools.product(*axes.values()):
        yield dict(zip(axes, values, strict=True))


def frames(*totals: int, start: tuple[int, ...] = (0, 1)) -> list[dict[str, Any]]:
    return [{"total_frames": n, "start_index": s} for n in totals for s in start]


def test_sample_frames_takes_mmaction2s_frames_in_every_setting() -> None:
    oracle = loading("SampleFrames")["SampleFrames"]
    settings, differ = compare(
        SampleFrames,
        oracle,
        grid(
            clip_len=(1, 2, 4, 8, 16),
            frame_interval=(1, 2, 5),
            num_clips=(1, 2, 3, 8),
            test_mode=(False, True),
            twice_sample=(False, True),
            out_of_bound_opt=("loop", "repeat_last"),
            keep_tail_frames=(False, True),
        ),
        frames(*FRAMES),
    )
    assert settings == 17280
    assert not differ, f"{len(differ)} of {settings} settings differ, e.g. {differ[:3]}"


def test_sample_frames_test_mode_matches_in_the_cases_that_differed() -> None:
    """The cases the earlier sampler got wrong, named: TSN/TSM twice_sample (centres then
    starts), a single 3D clip at (N − span) // 2, several 3D clips spread first to last."""
    oracle = loading("SampleFrames")["SampleFrames"]
    for kwargs, total in [
        ({"clip_len": 1, "num_clips": 8, "twice_sample": True}, 48),
        ({"clip_len": 16, "frame_interval": 3}, 48),  # span 46: offset 2 // 2 = 1
        ({"clip_len": 8, "frame_interval": 2}, 20),  # span 15: offset 5 // 2 = 2
        ({"clip_len": 32, "frame_interval": 2, "num_clips": 3}, 300),  # offsets 0, 118, 237
        ({"clip_len": 8, "frame_interval": 8, "num_clips": 10, "twice_sample": True}, 90),
    ]:
        ours = SampleFrames(test_mode=True, **kwargs)({"total_frames": total, "start_index": 0})
        theirs = oracle(test_mode=True, **kwargs)({"total_frames": total, "start_index": 0})
        assert ours["frame_inds"].tolist() == theirs["frame_inds"].tolist(), kwargs
        assert ours["num_clips"] == theirs["num_clips"]
    three = SampleFrames(clip_len=32, frame_interval=2, num_clips=3, test_mode=True)
    starts = three({"total_frames": 300, "start_index": 0})["frame_inds"][::32].tolist()
    assert starts == [0, 118, 237]  # max offset 300 − 63 = 237, spread over 2 gaps


def test_sample_frames_with_target_fps_and_jitter_matches() -> None:
    oracle = loading("SampleFrames")["SampleFrames"]
    settings, differ = compare(
        SampleFrames,
        oracle,
        grid(
            clip_len=(1, 4, 8),
            frame_interval=(1, 2, 4),
            num_clips=(1, 3),
            test_mode=(False, True),
            twice_sample=(False, True),
            temporal_jitter=(False, True),
            target_fps=(None, 10, 15),
        ),
        [
            {"total_frames": n, "start_index": 0, "avg_fps": fps}
            for n in (3, 20, 77, 300)
            for fps in (15.0, 29.97, 60.0)
        ],
    )
    assert settings == 5184
    assert not differ, f"{len(differ)} of {settings} settings differ, e.g. {differ[:3]}"


def test_uniform_sample_matches_mmaction2() -> None:
    oracle = loading("UniformSample")["UniformSample"]
    settings, differ = compare(
        UniformSample,
        oracle,
        grid(clip_len=(1, 3, 8, 16, 32), num_clips=(1, 2, 3, 5), test_mode=(False, True)),
        frames(*FRAMES, 300),
    )
    assert settings == 800
    # Training with num_clips > 1 is refused by ethoclip (MMAction2 draws one clip but reports
    # num_clips, so its FormatShape fails later): those are the only differences.
    assert {d.split("}")[0] for d in differ} == {
        f"{{'clip_len': {c}, 'num_clips': {k}, 'test_mode': False"
        for c in (1, 3, 8, 16, 32)
        for k in (2, 3, 5)
    }
    assert all("ethoclip refused" in d for d in differ)


def test_dense_sample_frames_matches_mmaction2() -> None:
    oracle = loading("SampleFrames", "DenseSampleFrames")["DenseSampleFrames"]
    settings, differ = compare(
        DenseSampleFrames,
        oracle,
        grid(
            clip_len=(1, 4, 8),
            frame_interval=(1, 2, 8),
            num_clips=(1, 2, 4),
            sample_range=(8, 32, 64),
            num_sample_positions=(1, 3, 10),
            test_mode=(False, True),
            out_of_bound_opt=("loop", "repeat_last"),
        ),
        frames(5, 40, 97, 300, start=(0,)),
    )
    assert settings == 3888
    assert not differ, f"{len(differ)} of {settings} settings differ, e.g. {differ[:3]}"


def test_arguments_mmaction2_ignores_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"^twice_sample: has no effect in DenseSampleFrames"):
        DenseSampleFrames(clip_len=8, twice_sample=True)
    with pytest.raises(ConfigError, match=r"^twice_sample: with clip_len > 1 needs num_clips ≥ 2"):
        SampleFrames(clip_len=8, twice_sample=True, test_mode=True)
    with pytest.raises(ConfigError, match=r"^num_clips: is 2, but UniformSample draws one clip"):
        UniformSample(clip_len=8, num_clips=2)
    with pytest.raises(ConfigError, match=r"^frame_interval: must be a whole number ≥ 1"):
        SampleFrames(clip_len=8, frame_interval=0)
