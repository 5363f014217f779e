"""Bouts from window scores: the edge rule on score sequences with known bouts (arithmetic in
each test), smoothing in seconds, option errors, and the benchmark's bout matching."""

from __future__ import annotations

import importlib.util
import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from ethoclip.demo._video import StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.errors import ConfigError
from ethoclip.inference import BoutOptions, ClipModel, PredictOptions, find_bouts, predict
from ethoclip.inference._bouts import smoothed, smoothing_windows
from ethoclip.inference._windows import STRIDE_FRACTION

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_learning.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_learning", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_learning"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _coverage(starts: np.ndarray, length: float, bouts: list[tuple[float, float]]) -> np.ndarray:
    """The fraction of each window the bouts cover: a score that passes ½ where a bout's edge
    passes the window's centre, for bouts of at least half a window (how training labels)."""
    out = np.zeros(len(starts))
    for a, b in bouts:
        out += np.clip(np.minimum(starts + length, b) - np.maximum(starts, a), 0, None) / length
    return out


def _bouts(
    scores: np.ndarray,
    starts: np.ndarray,
    thresholds: list[float],
    *,
    length: float = 4.0,
    end: float = 60.0,
    learned: list[bool | None] | None = None,
    multi_label: bool = True,
    hysteresis: float = 0.0,
    classes: list[str] | None = None,
) -> list[tuple[str, float, float]]:
    column = scores if scores.ndim == 2 else scores[:, None]
    found = find_bouts(
        torch.tensor(column),
        starts,
        length,
        first=0.0,
        end=end,
        classes=classes or ["x"],
        thresholds=thresholds,
        multi_label=multi_label,
        options=BoutOptions(hysteresis=hysteresis, min_bout_sec=1.0),
        learned=learned,
    )
    return [(b.label, b.start, b.end) for b in found]


STARTS = np.arange(0.0, 56.0 + 1e-9, 0.5)  # 4 s windows every 0.5 s over 60 s


def test_a_low_threshold_detects_but_the_edges_stay_where_the_score_crosses_half() -> None:
    """True bout 10.3–17.9 s. A window's coverage rises as (c + 2 − 10.3) / 4 while its centre c
    passes 8.3–12.3, so it reaches ½ at c = 10.3 and the threshold 0.3 at c = 9.5: edges at the
    threshold (the rule before) would report 9.5–18.7 (IoU 7.6 / 9.2 = 0.83); at ½ they are
    exact."""
    cover = _coverage(STARTS, 4.0, [(10.3, 17.9)])
    [(_, start, end)] = _bouts(cover, STARTS, [0.3])
    assert (start, end) == (pytest.approx(10.3, abs=1e-6), pytest.approx(17.9, abs=1e-6))


def test_a_high_threshold_decides_which_bouts_count_and_half_where_they_end() -> None:
    """Bouts 10.3–17.9 s (coverage up to 1) and 30.0–32.4 s (2.4 s: coverage up to 2.4/4 =
    0.6). Threshold 0.8: only the first is detected, and its edges reach out to the ½ crossings
    (the 0.8 crossings are at 11.5 and 16.7); the second never reaches 0.8 and is not a bout."""
    cover = _coverage(STARTS, 4.0, [(10.3, 17.9), (30.0, 32.4)])
    [(_, start, end)] = _bouts(cover, STARTS, [0.8])
    assert (start, end) == (pytest.approx(10.3, abs=1e-6), pytest.approx(17.9, abs=1e-6))
    # At threshold ½ the 2.4 s bout is found too, edges exact: its coverage passes ½ at its
    # start (c + 2 − 30 = 2) and again at its end (32.4 − (c − 2) = 2).
    assert [b[1:] for b in _bouts(cover, STARTS, [0.5])] == [
        (pytest.approx(10.3, abs=1e-6), pytest.approx(17.9, abs=1e-6)),
        (pytest.approx(30.0, abs=1e-6), pytest.approx(32.4, abs=1e-6)),
    ]


def test_a_detection_that_never_reaches_half_keeps_its_threshold_edges() -> None:
    """Scores 0.1 except 0.4 at centres 12–16 s (2 s stride): on at 0.3, never ½. The line from
    (10, 0.1) to (12, 0.4) passes 0.3 at 10 + 2·(0.2/0.3) = 11.333; symmetric at 16.667."""
    starts = np.arange(0.0, 26.0 + 1e-9, 2.0)
    centres = starts + 2.0
    scores = np.where((centres >= 12) & (centres <= 16), 0.4, 0.1)
    [(_, start, end)] = _bouts(scores, starts, [0.3], end=30.0)
    assert (start, end) == (pytest.approx(11.3333, abs=1e-4), pytest.approx(16.6667, abs=1e-4))


def test_hysteresis_holds_a_bout_but_its_end_is_the_last_half_crossing() -> None:
    """1 s stride, hysteresis 0.05 (off below 0.45). Centres 10…15 score 0.9, 0.9, 0.6, 0.48,
    0.47, 0.2: the label is held on through 0.48 and 0.47, but the score fell through ½ between
    centres 12 (0.6) and 13 (0.48): at 12 + (0.5 − 0.6)/(0.48 − 0.6) = 12.833. Its start: from
    (9, 0.1) to (10, 0.9), ½ at 9.5."""
    starts = np.arange(0.0, 26.0 + 1e-9, 1.0)
    scores = np.full(len(starts), 0.1)
    centres = starts + 2.0
    for c, v in zip((10, 11, 12, 13, 14, 15), (0.9, 0.9, 0.6, 0.48, 0.47, 0.2), strict=True):
        scores[centres == c] = v
    [(_, start, end)] = _bouts(scores, starts, [0.5], end=30.0, hysteresis=0.05)
    assert (start, end) == (pytest.approx(9.5), pytest.approx(12 + 0.1 / 0.12))


def test_a_class_not_learned_keeps_its_guarded_threshold_for_its_extent() -> None:
    """A class validation did not show to be learned, its threshold raised (by the guard) to
    0.7: its extent is where it scores ≥ 0.7, not ½, so it cannot spread over the video. Scores
    0.95 − 0.1·|c − 18| over 1 s centres c: 0.7 is crossed halfway between 15 (0.65) and 16
    (0.75), at 15.5, and at 20.5; ½ halfway between 13 (0.45) and 14 (0.55), at 13.5, and at
    22.5 — the extent of the same scores for a learned class."""
    starts = np.arange(0.0, 32.0 + 1e-9, 1.0)
    centres = starts + 2.0
    scores = np.clip(0.95 - 0.1 * np.abs(centres - 18), 0.05, None)
    assert _bouts(scores, starts, [0.7], end=36.0, learned=[False]) == [
        ("x", pytest.approx(15.5), pytest.approx(20.5))
    ]
    assert _bouts(scores, starts, [0.7], end=36.0, learned=[True]) == [
        ("x", pytest.approx(13.5), pytest.approx(22.5))
    ]


def test_single_label_bouts_only_where_the_class_is_on_top() -> None:
    """Two classes, 1 s stride: "a" 0.8 over centres 10–19, "b" 0.9 over 15–24, 0.1 elsewhere;
    where both are above ½ the top class wins, so "a" is on only at 10–14. Its start: from
    (9, 0.1) to (10, 0.8), ½ at 9 + 0.4/0.7; its end: halfway to centre 15 (where "a" still
    scores 0.8 but is not on top, so the score does not cross: the midpoint), 14.5. "b": from
    (14, 0.1) to (15, 0.9), ½ at 14.5; to (25, 0.1), at 24.5."""
    starts = np.arange(0.0, 30.0 + 1e-9, 1.0)
    centres = starts + 2.0
    a = np.where((centres >= 10) & (centres <= 19), 0.8, 0.1)
    b = np.where((centres >= 15) & (centres <= 24), 0.9, 0.1)
    found = _bouts(
        np.stack([a, b], axis=1),
        starts,
        [0.5, 0.5],
        end=34.0,
        multi_label=False,
        classes=["a", "b"],
    )
    assert found == [
        ("a", pytest.approx(9 + 0.4 / 0.7), pytest.approx(14.5)),
        ("b", pytest.approx(14.5), pytest.approx(24.5)),
    ]


def test_smoothing_is_in_seconds() -> None:
    """The window itself and the centres within smooth_sec / 2 either side: 6 s at a 2 s
    stride is 3 windows (the old default, "--smooth 3" windows), 1 s at 0.5 s also 3, 0.9 s at
    0.5 s only the window itself, 0 none."""
    assert smoothing_windows(6.0, np.arange(0, 20, 2.0)) == 3
    assert smoothing_windows(1.0, np.arange(0, 20, 0.5)) == 3
    assert smoothing_windows(0.9, np.arange(0, 20, 0.5)) == 1
    assert smoothing_windows(0.0, np.arange(0, 20, 0.5)) == 1
    assert smoothing_windows(4.0, np.arange(0, 20, 0.5)) == 9
    step = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]])
    # 3 windows: the averages around the step are 1/3 and 2/3; the edges repeat the end rows.
    np.testing.assert_allclose(
        smoothed(step, np.arange(6) * 2.0, 6.0)[:, 0], [0, 0, 1 / 3, 2 / 3, 1, 1]
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"smooth_sec": -1.0}, "--smooth must be a number of seconds, 0 or more (got -1.0)"),
        ({"smooth_sec": float("nan")}, "--smooth must be a number of seconds"),
        ({"hysteresis": 1.0}, "--hysteresis must be in [0, 1) (got 1.0)"),
        ({"min_bout_sec": -0.5}, "--min-bout must not be negative (got -0.5)"),
    ],
)
def test_bad_bout_options_say_which_and_what(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        BoutOptions(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def _model(scores: np.ndarray, window_sec: float = 2.0) -> ClipModel:
    rows = iter(torch.tensor(scores, dtype=torch.float32))
    return ClipModel(
        name="given-scores",
        classes=["walk"],
        multi_label=True,
        thresholds=[0.5],
        window_sec=window_sec,
        fps=Fraction(10),
        frames_per_window=20,
        clip_size=None,
        prepare=lambda frames: torch.zeros(1),
        score=lambda batch: torch.stack([next(rows) for _ in range(len(batch))]),
    )


def test_the_default_stride_is_an_eighth_of_the_window(tmp_path: Path) -> None:
    """20 s at 10 fps, 2 s windows: the default stride is 2 / 8 = 0.25 s, so windows start at
    0, 0.25, …, 18 (the last start that fits): 18 / 0.25 + 1 = 73 windows. A bout scored 0.9
    for centres 6.0–10.0 s (starts 5–9) and 0.1 elsewhere has its edges halfway between the
    neighbouring centres: 5.875 and 10.125."""
    assert STRIDE_FRACTION == 1 / 8
    video = write_video(tmp_path / "v.mp4", VideoSpec([StreamSpec(64, 48, cfr_times(200, 10))]))
    starts = np.arange(73) * 0.25
    walk = np.where((starts >= 5.0 - 1e-9) & (starts <= 9.0 + 1e-9), 0.9, 0.1)
    (result,) = predict(
        _model(walk[:, None]), "given-scores", [str(video)], PredictOptions(out=tmp_path / "p")
    )
    assert result.summary is not None and result.summary["windows"] == 73
    [bout] = result.summary["bouts"]
    assert (bout["start"], bout["end"]) == (pytest.approx(5.875), pytest.approx(10.125))


def test_a_stride_longer_than_the_window_is_refused_before_any_video(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        predict(
            _model(np.zeros((1, 1))),
            "given-scores",
            [str(tmp_path / "never-read.mp4")],
            PredictOptions(out=tmp_path / "p", stride_sec=3.0),
        )
    assert "--stride 3 s is longer than the model's window (2 s)" in str(info.value)
    assert "use a stride of at most 2 s" in str(info.value)


def test_the_benchmark_pairs_each_true_bout_with_its_best_same_label_bout() -> None:
    """True a 10–14 and a 20–21.5 (b 30–30.5 is under 1 s: not counted). Predicted a 10.5–14.5
    (IoU 3.5 / 4.5 = 0.78: found), a 20.8–23 (IoU 0.7 / 3 = 0.23: paired, not found), a
    40–41 (overlaps nothing), b 10–14 (another label: never paired with a). Boundary errors:
    starts 0.5, 0.8; ends 0.5, 1.5; pooled median (0.5 + 0.8) / 2 = 0.65, mean 3.3 / 4."""
    bench = _bench()
    truth = [("a", 10.0, 14.0), ("a", 20.0, 21.5), ("b", 30.0, 30.5)]
    predicted = [("a", 10.5, 14.5), ("a", 20.8, 23.0), ("a", 40.0, 41.0), ("b", 10.0, 14.0)]
    score = bench.score_bouts(truth, predicted)
    assert (score.hits, score.total, score.paired) == (1, 2, 2)
    assert score.start_errors == pytest.approx([0.5, 0.8])
    assert score.end_errors == pytest.approx([0.5, 1.5])
    assert score.median_error() == pytest.approx(0.65)
    assert score.mean_error() == pytest.approx(0.825)
    both = score.add(bench.score_bouts([("a", 0.0, 2.0)], []))
    assert (both.hits, both.total, both.paired) == (1, 3, 2)
    assert bench.BoutScore().median_error() != bench.BoutScore().median_error()  # nan: none


def test_a_perfect_clip_classifier_reports_a_short_bout_as_wide_as_window_minus_it() -> None:
    """prepare labels a 4 s window with a 1.2 s bout (40.0–41.2) only when it holds all of it:
    centres in [41.2 − 2, 40.0 + 2] = [39.2, 42.0], 2.8 s wide. With perfect scores (1 exactly
    there) the bout is reported that wide, to the stride: the first centre on the 0.25 s grid is
    39.25 and the last 42.0, edges halfway to their neighbours, 39.125–42.125: IoU 1.2 / 3.0 =
    0.4, not found at 0.5. A 3 s bout (10–13) labels exactly the centres inside it: 9.875–13.125
    (IoU 3 / 3.25 = 0.92)."""
    bench = _bench()
    truth = [("a", 10.0, 13.0), ("a", 40.0, 41.2)]
    ideal = bench.ideal_bouts(
        truth, ["a"], duration=60.0, window_sec=4.0, stride_sec=0.25, options=BoutOptions()
    )
    assert [(label, round(a, 3), round(b, 3)) for label, a, b in ideal] == [
        ("a", 9.875, 13.125),
        ("a", 39.125, 42.125),
    ]
    score = bench.score_bouts(truth, ideal)
    assert (score.hits, score.total) == (1, 2)


def test_the_benchmark_writes_again_a_project_cut_off_before_its_ground_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed while rendering left videos and no ground_truth.json (the generator writes
    it last): the next run must not read that folder as a project, nor stop on it."""
    import dataclasses

    from ethoclip.demo import zoo

    full = zoo.PROJECTS["perch_bird"]
    one = dataclasses.replace(full.videos[0], duration_sec=4.0)
    tiny = dataclasses.replace(full, videos=(one,), width=full.width // 4, height=full.height // 4)
    monkeypatch.setitem(zoo.PROJECTS, "perch_bird", tiny)
    root = tmp_path / "perch_bird"
    stale = root / one.session / "video" / "cut_off.mp4"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a video")

    truth = _bench().make_project("perch_bird", root)

    assert not stale.exists()
    assert (root / zoo.GROUND_TRUTH).is_file()
    assert list(truth) == [f"{one.session}/video/{one.stem}.mp4"]
    assert truth == {
        video: [(b.label, b.start_sec, b.end_sec) for b in bouts]
        for video, bouts in zoo.read_ground_truth(root).items()
    }
    assert not list(root.glob(".*.tmp"))  # the ground truth was renamed into place, whole


def test_the_benchmark_puts_the_demo_in_place_only_once_it_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo has no ground-truth file to mark it complete: a run cut off while writing it
    must leave nothing at the project's path, and the next run writes it whole."""
    import ethoclip.demo

    root = tmp_path / "demo"

    def cut_off(out: Path) -> None:
        (out / "video").mkdir(parents=True)
        (out / "video" / "half.mp4").write_bytes(b"half a video")
        raise KeyboardInterrupt

    monkeypatch.setattr(ethoclip.demo, "generate_demo_project", cut_off)
    with pytest.raises(KeyboardInterrupt):
        _bench().make_project("demo", root)
    assert not root.exists()

    def whole(out: Path) -> None:  # a project without VIA files: no bouts to read
        (out / "video").mkdir(parents=True)
        (out / "video" / "all.mp4").write_bytes(b"a whole video")

    monkeypatch.setattr(ethoclip.demo, "generate_demo_project", whole)
    assert _bench().make_project("demo", root) == {}
    assert (root / "video" / "all.mp4").is_file() and not (root / "video" / "half.mp4").exists()
    assert not (tmp_path / "demo.partial").exists()


def test_the_benchmark_reads_every_validation_of_a_training_log_in_order(tmp_path: Path) -> None:
    """The learning table's "last" column: the last validation's mAP beside the best one's, read
    from the log the trainer writes (iteration lines and other metrics are skipped)."""
    bench = _bench()
    log = tmp_path / "log.jsonl"
    lines = [
        {"epoch": 1, "iter": 9, "loss": 1.2},
        {"epoch": 1, "train_loss": 1.1, "val": {"acc/mean_average_precision": 0.70}},
        {"epoch": 2, "train_loss": 0.9, "val": {"step_mean_average_precision": 0.4}},
        {"epoch": 3, "train_loss": 0.8, "val": {"acc/mean_average_precision": 0.55}},
    ]
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    assert bench.val_curve(log) == [(1, 0.70), (3, 0.55)]
    assert bench.val_curve(log, "step_mean_average_precision") == [(2, 0.4)]
