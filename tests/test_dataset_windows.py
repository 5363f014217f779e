from __future__ import annotations

from collections import Counter

from ethoclip.annotations import LabelInterval
from ethoclip.dataset import plan_windows
from ethoclip.dataset._split import split_groups


def iv(label: str, start: float, end: float) -> LabelInterval:
    return LabelInterval(label, start, end, (f"m_{label}_{start}",))


def test_segment_windows_tile_spans_and_label_by_overlap() -> None:
    intervals = [iv("walk", 2.0, 12.5), iv("wag", 5.0, 7.5)]
    windows, past_end = plan_windows(intervals, video_start=0.0, video_end=60.0, clip_sec=4.0)
    assert [(w.start, w.end) for w in windows] == [(2.0, 6.0), (6.0, 10.0), (8.5, 12.5)]
    # wag covers 1 s of [2, 6) (< half) but 1.5 s of [6, 10)... both < 2 s: only whole-short
    # rule applies where the 2.5 s wag lies fully inside a window: none here.
    assert [w.labels for w in windows] == [("walk",), ("walk",), ("walk",)]
    assert past_end == 0


def test_short_segment_gets_a_centred_window_and_applies_whole() -> None:
    windows, _ = plan_windows(
        [iv("jump", 10.0, 11.0)], video_start=0.0, video_end=60.0, clip_sec=4.0
    )
    assert [(w.start, w.end, w.labels) for w in windows] == [(8.5, 12.5, ("jump",))]


def test_multi_label_window_and_min_overlap() -> None:
    intervals = [iv("sit", 0.0, 8.0), iv("wag", 3.0, 8.0)]
    windows, _ = plan_windows(
        intervals, video_start=0.0, video_end=60.0, clip_sec=4.0, min_overlap=0.5
    )
    assert [w.labels for w in windows] == [("sit",), ("sit", "wag")]
    windows, _ = plan_windows(
        intervals, video_start=0.0, video_end=60.0, clip_sec=4.0, min_overlap=0.2
    )
    assert [w.labels for w in windows] == [("sit", "wag"), ("sit", "wag")]


def test_stride_overlap_and_video_end() -> None:
    windows, past_end = plan_windows(
        [iv("run", 0.0, 9.0)], video_start=0.0, video_end=9.0, clip_sec=4.0, stride_sec=2.0
    )
    assert [w.start for w in windows] == [0.0, 2.0, 4.0]  # 6–10 would pass the 9 s end
    assert past_end == 0  # the remainder (1 s) is under half a clip: no end-aligned window
    windows, past_end = plan_windows(
        [iv("run", 7.0, 9.5)], video_start=0.0, video_end=9.5, clip_sec=4.0
    )
    assert [w.start for w in windows] == [5.5]
    windows, past_end = plan_windows(
        [iv("run", 1.0, 2.0)], video_start=0.0, video_end=3.0, clip_sec=4.0
    )
    assert windows == [] and past_end == 1  # the video is shorter than one clip


def test_video_mode_keeps_background() -> None:
    windows, past_end = plan_windows(
        [iv("sit", 4.0, 8.0)], video_start=0.0, video_end=13.0, clip_sec=4.0, mode="video"
    )
    assert [(w.start, w.labels) for w in windows] == [(0.0, ()), (4.0, ("sit",)), (8.0, ())]
    assert past_end == 1 and windows[0].is_background


def test_splits_keep_groups_whole_and_labels_in_train() -> None:
    counts = {
        "a": Counter({"walk": 10, "sit": 5}),
        "b": Counter({"walk": 8, "run": 4}),
        "c": Counter({"sit": 6, "run": 3}),
        "d": Counter({"walk": 7, "sit": 2, "run": 2}),
        "e": Counter({"jump": 4}),  # the only group with jump: must stay in train
    }
    assignment, notes = split_groups(counts, val_fraction=0.25, seed=1)
    assert assignment["e"] == "train"
    val = [g for g, s in assignment.items() if s == "val"]
    assert val and all(assignment[g] in ("train", "val") for g in counts)
    for label in ("walk", "sit", "run", "jump"):
        assert any(counts[g][label] for g, s in assignment.items() if s == "train")
    assert "labels with no val clip: jump" in notes
    assert split_groups(counts, val_fraction=0.25, seed=1) == (assignment, notes)


def test_one_group_cannot_be_split() -> None:
    assignment, notes = split_groups({"only": Counter({"walk": 3})}, val_fraction=0.2)
    assert assignment == {"only": "train"}
    assert notes and "no val split" in notes[0]
