"""Honest outputs: thresholds that cannot fire everywhere, classes validation did not show to
be learned marked in every output, bout edges sharper than the window stride."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from ethoclip.annotations import class_names, label_intervals, load_via_project
from ethoclip.demo._video import StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.engine import best_f1_thresholds, class_evidence
from ethoclip.inference import (
    Bout,
    BoutOptions,
    ClipModel,
    PredictOptions,
    find_bouts,
    match_bouts,
    predict,
)
from ethoclip.inference._bouts import guarded_thresholds


def test_a_threshold_never_marks_more_than_twice_the_positives() -> None:
    # 10 clips, 3 positives (0.30, 0.11, 0.10). F1 = 2tp / (2tp + fp + fn). Marking all 10:
    # tp 3, fp 7 → 6/13 = 0.46, the best of every cut, so unconstrained the cut falls to 0.05
    # and the class is "on" everywhere. At most 2 × 3 = 6 may be marked: the best of those is
    # the cut at 0.30 (tp 1, fp 1, fn 2 → 2/5 = 0.4) → halfway to the next score, 0.29.
    scores = torch.tensor([[0.35, 0.30, 0.29, 0.20, 0.18, 0.16, 0.15, 0.14, 0.11, 0.10]]).T
    labels = torch.tensor([[0, 1, 0, 0, 0, 0, 0, 0, 1, 1]], dtype=torch.float).T
    assert best_f1_thresholds(scores, labels) == pytest.approx([(0.30 + 0.29) / 2])
    # Positives only at the bottom (0.11, 0.10): every allowed cut (≤ 4 marked) finds none
    # (F1 0), so the threshold sits above every score rather than at an arbitrary one.
    bottom = torch.tensor([[0, 0, 0, 0, 0, 0, 0, 0, 1, 1]], dtype=torch.float).T
    assert best_f1_thresholds(scores, bottom)[0] > 0.35
    # Scores that do not separate at all: likewise.
    flat = torch.full((6, 1), 0.2)
    assert best_f1_thresholds(flat, torch.tensor([[1, 0, 0, 0, 0, 0]]).T.float())[0] > 0.2


def test_class_evidence_says_which_classes_were_learned_and_why_not() -> None:
    scores = torch.tensor([[0.9, 0.1, 0.5], [0.8, 0.9, 0.5], [0.2, 0.2, 0.5], [0.1, 0.8, 0.5]])
    labels = torch.tensor([[1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 0, 1]], dtype=torch.float)
    ev = class_evidence(scores, labels, [0.5, 0.5, 0.5], ["a", "b", "c"])
    # a: ranked perfectly (AP 1) but only 2 positives to judge by; b: 1 positive.
    assert ev[0]["reason"] == "2 positive validation clip(s); at least 3 needed"
    assert ev[0]["val_ap"] == 1.0 and ev[0]["val_positives"] == 2 and not ev[0]["learned"]
    assert ev[1]["reason"].startswith("1 positive") and not ev[1]["learned"]
    # c: 3 positives of 4, all tied at 0.5: one cut, precision 3/4 at recall 1 → AP 0.75.
    assert ev[2]["val_ap"] == pytest.approx(0.75) and ev[2]["learned"] is True
    # 4 positives ranked under 4 negatives: precision 1/5, 2/6, 3/7, 4/8 at each → AP 0.365.
    bottom = torch.tensor([[0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]]).T
    truth = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1]], dtype=torch.float).T
    [weak] = class_evidence(bottom, truth, [0.5], ["d"])
    ap = (1 / 5 + 2 / 6 + 3 / 7 + 4 / 8) / 4
    assert weak["val_ap"] == pytest.approx(ap, abs=1e-4)
    assert weak["reason"] == f"validation AP {ap:.2f} < 0.5" and weak["learned"] is False


def _windows(length: float, stride: float, duration: float) -> np.ndarray:
    return np.arange(0.0, duration - length + 1e-9, stride)


def _coverage(starts: np.ndarray, length: float, bouts: list[tuple[float, float]]) -> np.ndarray:
    """The fraction of each window a set of true bouts covers: the score a model that learned
    the behaviour gives (training labels a window when the behaviour covers half of it)."""
    out = np.zeros(len(starts))
    for a, b in bouts:
        out += np.clip(np.minimum(starts + length, b) - np.maximum(starts, a), 0, None) / length
    return out


def test_bout_edges_fall_between_window_centres_where_the_score_crosses() -> None:
    """4 s windows every 2 s; true bout 13.3–29.1 s. A window's coverage falls linearly as its
    centre passes an edge, and crosses ½ exactly when the centre is on the edge, so the edge is
    found to rounding; the old rule (the midpoint between two centres) was off by up to 1 s."""
    starts = _windows(4.0, 2.0, 60.0)
    cover = _coverage(starts, 4.0, [(13.3, 29.1)])
    bouts = find_bouts(
        torch.tensor(cover)[:, None],
        starts,
        4.0,
        first=0.0,
        end=60.0,
        classes=["x"],
        thresholds=[0.5],
        multi_label=True,
        options=BoutOptions(smooth_sec=0.0, hysteresis=0.0, min_bout_sec=1.0),
    )
    assert [(b.start, b.end) for b in bouts] == [
        (pytest.approx(13.3, abs=1e-4), pytest.approx(29.1, abs=1e-4))
    ]
    [m] = match_bouts([Bout("x", 13.3, 29.1, 1, 1)], bouts)
    assert m.iou == pytest.approx(1.0, abs=1e-4) and m.start_error_sec == pytest.approx(0, abs=1e-4)


def test_a_class_not_learned_is_never_on_for_most_of_a_video() -> None:
    scores = np.array([[0.30, 0.9], [0.31, 0.9], [0.32, 0.9], [0.29, 0.9], [0.33, 0.9]])
    # Validation put both thresholds at 0.1, under every score here; only the class that was
    # not learned is held to its median (0.31), so it is on in at most half the windows.
    guarded = guarded_thresholds(scores, [0.1, 0.1], [False, True])
    assert guarded[1] == 0.1 and guarded[0] > 0.31
    assert (scores[:, 0] >= guarded[0]).sum() == 2


def _model(classes: list[str], learned: list[bool], scores: np.ndarray) -> ClipModel:
    """A model whose scores are given per window (the n-th call's n-th rows): what prediction
    does with scores, not how a network gets them, is under test here."""
    rows = iter(torch.tensor(scores, dtype=torch.float32))

    def score(batch: torch.Tensor) -> torch.Tensor:
        return torch.stack([next(rows) for _ in range(len(batch))])

    evidence = [
        {
            "class": c,
            "val_ap": 0.9 if ok else 0.2,
            "val_positives": 10,
            "val_clips": 40,
            "threshold": 0.5,
            "learned": ok,
            "reason": "" if ok else "validation AP 0.20 < 0.5",
        }
        for c, ok in zip(classes, learned, strict=True)
    ]
    return ClipModel(
        name="given-scores",
        classes=classes,
        multi_label=True,
        thresholds=[0.5] * len(classes),
        window_sec=2.0,
        fps=Fraction(10),
        frames_per_window=20,
        clip_size=None,
        prepare=lambda frames: torch.zeros(1),
        score=score,
        evidence=evidence,
    )


def test_every_output_marks_the_classes_that_were_not_learned(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", VideoSpec([StreamSpec(64, 48, cfr_times(200, 10))]))
    # 20 s at 10 fps, 2 s windows every 1 s: 19 windows. "rear" (not learned) scores 0.6
    # everywhere, which its threshold of 0.5 would turn into one 20 s bout.
    n = 19
    walk = np.where((np.arange(n) >= 4) & (np.arange(n) < 10), 0.9, 0.1)
    scores = np.stack([walk, np.full(n, 0.6)], axis=1)
    model = _model(["walk", "rear"], [True, False], scores)
    options = PredictOptions(stride_sec=1.0, out=tmp_path / "p", bouts=BoutOptions(smooth_sec=0.0))
    via = tmp_path / "via.json"
    predict(model, "given-scores", [str(video)], options, export_via=via)
    folder = tmp_path / "p" / "v"
    rows = list(csv.DictReader((folder / "bouts.csv").open()))
    assert {r["label"]: r["class_learned"] for r in rows} == {"walk": "yes"}
    summary = json.loads((folder / "predictions.json").read_text())
    by_class = {c["class"]: c for c in summary["classes"]}
    assert by_class["rear"]["learned"] is False
    assert by_class["rear"]["reason"] == "validation AP 0.20 < 0.5"
    assert by_class["rear"]["threshold_used"] >= 0.6  # held just above its median here
    assert by_class["walk"]["learned"] is True and by_class["walk"]["threshold_used"] == 0.5
    project = json.loads(via.read_text())
    assert "NOT LEARNED" in project["attribute"]["1"]["desc"]
    assert "rear (validation AP 0.20 < 0.5)" in project["attribute"]["1"]["desc"]
    assert "[not learned: rear]" in project["project"]["pname"]
    parsed = load_via_project(via)
    intervals = label_intervals(parsed.segments_of("v.mp4"), class_names(parsed.segments))
    assert [i.label for i in intervals] == ["walk"]  # labels stay the class names
    assert (folder / "ethogram.png").stat().st_size > 0


def test_a_not_learned_class_keeps_its_bouts_marked(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", VideoSpec([StreamSpec(64, 48, cfr_times(200, 10))]))
    n = 19
    rear = np.where(np.arange(n) >= 12, 0.9, 0.1)  # a real-looking bout of a weak class
    model = _model(["walk", "rear"], [True, False], np.stack([np.full(n, 0.1), rear], axis=1))
    options = PredictOptions(stride_sec=1.0, out=tmp_path / "p", bouts=BoutOptions(smooth_sec=0.0))
    predict(model, "given-scores", [str(video)], options)
    rows = list(csv.DictReader((tmp_path / "p/v/bouts.csv").open()))
    assert [(r["label"], r["class_learned"]) for r in rows] == [("rear", "no")]
    summary = json.loads((tmp_path / "p/v/predictions.json").read_text())
    assert summary["bouts"][0]["class_learned"] is False
