"""Per-step supervision: prepare's manifest says where each behaviour is inside each clip, the
loaders turn that into per-frame targets, ``HybridNet(steps=True)`` + ``StepHead`` learn them,
validation chooses per-step thresholds, and ``predict`` finds bouts on the per-step scores
stitched over a video's windows (edges to a frame, not to a window)."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ethoclip.annotations import class_names, label_intervals, load_via_project
from ethoclip.config import Config
from ethoclip.data import collate
from ethoclip.data._datasets import VideoDataset, frame_targets
from ethoclip.dataset import load_dataset, read_manifest
from ethoclip.dataset._records import ClipRecord
from ethoclip.demo._framecode import read_frame_code, stamp_frame_code
from ethoclip.demo._video import StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.errors import ConfigError, DatasetError
from ethoclip.inference import PredictOptions, predict
from ethoclip.inference._bouts import BoutOptions
from ethoclip.inference._model import ClipModel
from ethoclip.models import build_recognizer

HYBRID = "ethoclip::_base_/models/hybrid.py"


# -- the manifest ---------------------------------------------------------------------------


def test_prepare_writes_each_clips_segments_in_clip_time(
    demo_dataset: Path, demo_root: Path
) -> None:
    """Every clip's segments are the VIA project's intervals that overlap it, clipped to it and
    shifted to its first frame, read here straight from the VIA files."""
    dataset = load_dataset(demo_dataset)
    ids = {name: i for i, name in enumerate(dataset.labels)}
    checked = with_short = 0
    for record in dataset.records:
        project = load_via_project(demo_root / record.via_file)
        video = Path(record.source_video).name
        truth = []
        for i in label_intervals(project.segments_of(video), class_names(project.segments)):
            lo, hi = max(i.start, record.start), min(i.end, record.end)
            if hi > lo:
                truth.append((ids[i.label], lo - record.start, hi - record.start))
        assert record.segments is not None
        got = sorted(record.segments)
        assert [g[0] for g in got] == [t[0] for t in sorted(truth)]
        assert np.allclose([g[1:] for g in got], [t[1:] for t in sorted(truth)], atol=1e-5)
        assert all(0 <= s <= e <= record.end - record.start + 1e-6 for _, s, e in got)
        # A clip's labels all have time inside it (the clip rule needs ≥ half or a whole bout).
        assert set(record.label_ids) <= {g[0] for g in got}
        with_short += any(e - s < 2.0 for _, s, e in got)
        checked += 1
    assert checked == len(dataset.records) > 40 and with_short > 0


def test_a_manifest_without_segments_loads_and_a_malformed_one_is_named(tmp_path: Path) -> None:
    record = {f: 0 for f in ClipRecord.__dataclass_fields__}
    record.update(
        clip="clips/a.mp4", split="train", labels=["run"], label_ids=[0], session="s",
        source_video="v.mp4", via_file="p.json", segment_ids=["1"], time_map="identity",
        fps_exact="25", recipe="r",
    )  # fmt: skip
    older = {k: v for k, v in record.items() if k != "segments"}
    (tmp_path / "manifest.jsonl").write_text(json.dumps(older) + "\n")
    assert read_manifest(tmp_path)[0].segments is None  # written before segments: unknown
    (tmp_path / "manifest.jsonl").write_text(json.dumps({**older, "segments": [[0, 1.0]]}) + "\n")
    with pytest.raises(DatasetError, match=r"manifest.jsonl:1: manifest entry has a malformed"):
        read_manifest(tmp_path)
    bad = {**older, "segments": [[0, 2.0, 1.0]]}
    (tmp_path / "manifest.jsonl").write_text(json.dumps(bad) + "\n")
    with pytest.raises(DatasetError, match=r"ends before it starts"):
        read_manifest(tmp_path)


# -- the loaders ----------------------------------------------------------------------------


def test_frame_targets_follow_the_segments() -> None:
    """Frames 0, 2, 4, 6, 8 at 4 fps are at 0, 0.5, 1, 1.5, 2 s. Class 0 holds [1, 2): frames
    4 and 6 (2 s is its end, excluded); class 2 holds [0, 0.5): frame 0; class 1 none."""
    got = frame_targets(((0, 1.0, 2.0), (2, 0.0, 0.5)), 4.0, [0, 2, 4, 6, 8], 3)
    expected = torch.tensor([[0, 0, 1], [0, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0]]).float()
    assert torch.equal(got, expected)


def _pipeline(frames: int = 8, interval: int = 6) -> list[dict]:
    return [
        dict(type="DecordInit"),
        dict(type="SampleFrames", clip_len=frames, frame_interval=interval, test_mode=True),
        dict(type="DecordDecode"),
        dict(type="Resize", scale=(-1, 32)),
        dict(type="CenterCrop", crop_size=32),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="PackActionInputs"),
    ]


def test_the_list_dataset_takes_each_clips_segments_from_the_manifest_beside_it(
    demo_dataset: Path, tmp_path: Path
) -> None:
    dataset = VideoDataset(
        str(demo_dataset / "train.txt"), _pipeline(), data_prefix={"video": str(demo_dataset)}
    )
    records = {(demo_dataset / r.clip).resolve(): r for r in read_manifest(demo_dataset)}
    for sample in dataset.samples:
        assert sample.segments == records[sample.path.resolve()].segments
    item = dataset[0]
    rate = float(records[dataset.samples[0].path.resolve()].rate)
    inds = item["meta"]["frame_inds"]
    assert torch.equal(
        item["frame_label"],
        frame_targets(dataset.samples[0].segments or (), rate, inds, dataset.num_classes),
    )
    assert item["frame_label"].shape == (8, dataset.num_classes)
    # A list edited by hand (other labels than the manifest's for that clip): its targets are
    # the list's alone; the batch says whose per-step targets are real.
    edited = tmp_path / "lists"
    edited.mkdir()
    for name in ("label_map.txt", "manifest.jsonl"):
        shutil.copy(demo_dataset / name, edited / name)
    lines = (demo_dataset / "train.txt").read_text().splitlines()[:2]
    path, *labels = lines[0].split()
    other = next(str(i) for i in range(6) if str(i) not in labels)
    lines[0] = f"{path} {other}"
    (edited / "train.txt").write_text("\n".join(lines) + "\n")
    (edited / "clips").symlink_to(demo_dataset / "clips")
    mixed = VideoDataset(
        str(edited / "train.txt"),
        _pipeline(),
        data_prefix={"video": str(edited)},
        multi_class=True,  # two lines with one label each would read as single-label
    )
    assert mixed.samples[0].segments is None and mixed.samples[1].segments is not None
    batch = collate([mixed[0], mixed[1]])
    assert batch["frame_known"].tolist() == [False, True]
    assert batch["frame_label"][0].abs().sum() == 0


def test_per_step_thresholds_stay_near_the_extent_level() -> None:
    """Class 0 is on at 8 of 10 frames and scored 0.05–0.14 everywhere (not separated): its
    best-F1 cut marks all frames (F1 = 2·0.8/1.8 = 0.89), far below ½, and is held at 0.3.
    Class 1 is separated (positives 0.8–0.9, negatives 0.1–0.3): its cut, halfway between
    0.3 and 0.8 = 0.55, stays."""
    from ethoclip.evaluation import best_f1_thresholds, step_thresholds

    labels = torch.tensor([[1, 1]] * 4 + [[1, 0]] * 4 + [[0, 0]] * 2).float()
    scores = torch.stack(
        [
            torch.linspace(0.05, 0.14, 10),
            torch.tensor([0.8, 0.85, 0.9, 0.82, 0.1, 0.2, 0.3, 0.15, 0.25, 0.12]),
        ],
        dim=1,
    )
    raw = best_f1_thresholds(scores, labels)
    assert raw[0] < 0.06 and raw[1] == pytest.approx(0.55)
    assert step_thresholds(scores, labels) == [0.3, pytest.approx(0.55)]


# -- the model ------------------------------------------------------------------------------


def _dense_model(classes: int = 3, **head: object) -> torch.nn.Module:
    cfg = Config.fromfile(HYBRID)
    cfg.model.backbone.widths = (4, 8, 8, 8)
    cfg.model.cls_head.update(head)
    return build_recognizer(cfg.model, num_classes=classes, multi_label=True)


def test_the_dense_model_scores_every_step_and_adds_the_per_step_loss() -> None:
    torch.manual_seed(0)
    model = _dense_model().eval()  # eval: dropout off, the two losses are compared exactly
    clips = torch.randint(0, 255, (2, 1, 3, 12, 32, 32), dtype=torch.uint8)
    target = torch.tensor([[1.0, 0, 0], [0, 1, 1]])
    frames = torch.zeros(2, 12, 3)
    frames[0, 3:9, 0] = 1
    frames[1, :, 1] = 1
    clip_scores, steps = model.step_scores(clips)
    assert clip_scores.shape == (2, 3) and steps.shape == (2, 12, 3)
    assert torch.allclose(clip_scores, model.scores(clips))
    # The clip's scores: the share of its frames each behaviour is on, as the steps say.
    assert torch.allclose(clip_scores, steps.mean(1))
    model.cls_head.clip_score = "clip"  # or the clip logits' probabilities (I3DHead's)
    clip_logits, _ = model.run_steps(clips)
    assert torch.allclose(model.scores(clips), torch.sigmoid(clip_logits[:, 0]))
    model.cls_head.clip_score = "steps"
    clip_only = model.loss(clips, target)
    none_known = model.loss(clips, target, frames, torch.tensor([False, False]))
    assert torch.equal(clip_only, none_known)
    one_known = model.loss(clips, target, frames, torch.tensor([True, False]))
    _, step_logits = model.run_steps(clips)
    expected = clip_only + model.cls_head.step_loss(step_logits[:1, 0], frames[:1])
    assert torch.allclose(one_known, expected)
    model.train()
    model.loss(clips, target, frames, torch.tensor([True, True])).backward()
    assert model.cls_head.step_net[0].weight.grad is not None
    assert model.backbone.cnn.features[0].weight.grad is not None  # the CNN learns from steps


def test_the_step_loss_options() -> None:
    """``step_pos_weight``: the clip loss's pos_weight at every step, or plain BCE;
    ``from_clip``: step logits = the step network's + the clip's."""
    torch.manual_seed(0)
    pos = {"type": "BCELossWithLogits", "pos_weight": [4.0, 1.0, 9.0]}
    logits, target = torch.randn(2, 5, 3), (torch.rand(2, 5, 3) > 0.5).float()
    weighted = _dense_model(loss_cls=pos).cls_head
    plain = _dense_model(loss_cls=pos, step_pos_weight=False).cls_head
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    flat = logits.reshape(-1, 3), target.reshape(-1, 3)
    assert torch.allclose(plain.step_loss(logits, target), bce(*flat))
    expected = bce(*flat, pos_weight=torch.tensor([4.0, 1.0, 9.0]))
    assert torch.allclose(weighted.step_loss(logits, target), expected)
    model = _dense_model(from_clip=True).eval()
    clips = torch.randint(0, 255, (2, 1, 3, 8, 32, 32), dtype=torch.uint8)
    clip, steps = model.run_steps(clips)
    model.cls_head.from_clip = False
    _, alone = model.run_steps(clips)
    assert torch.allclose(steps, alone + clip[:, :, None, :])


def test_the_step_parts_must_go_together() -> None:
    cfg = Config.fromfile(HYBRID)
    plain = dict(cfg.model, cls_head=dict(cfg.model.cls_head, type="I3DHead"))
    for key in ("hidden", "kernel_size", "step_loss_weight", "clip_score"):
        plain["cls_head"].pop(key)
    with pytest.raises(ConfigError, match=r"cls_head: I3DHead and a backbone with per-step"):
        build_recognizer(plain, num_classes=3, multi_label=True)
    no_steps = dict(cfg.model, backbone=dict(cfg.model.backbone, steps=False))
    with pytest.raises(ConfigError, match=r"step_channels: must be a whole number"):
        build_recognizer(no_steps, num_classes=3, multi_label=True)
    with pytest.raises(ConfigError, match=r"StepHead is multi-label"):
        build_recognizer(cfg.model, num_classes=3, multi_label=False)
    blended = _dense_model()
    blended.data_preprocessor.blending = lambda x, t: (x, t)
    clips = torch.randint(0, 255, (1, 1, 3, 4, 32, 32), dtype=torch.uint8)
    with pytest.raises(ConfigError, match=r"blending: mixes clips but not their per-step"):
        blended.train().loss(clips, torch.ones(1, 3), torch.ones(1, 4, 3))


# -- prediction -----------------------------------------------------------------------------


def _coded_video(path: Path, seconds: int = 12, fps: int = 10) -> Path:
    """A video whose frames carry their own index (read back from the pixels)."""
    write_video(path, VideoSpec([StreamSpec(128, 96, cfr_times(seconds * fps, fps))]))
    return path


def test_stamp_and_read_agree() -> None:  # the oracle the next test relies on
    frame = np.zeros((96, 128, 3), np.uint8)
    stamp_frame_code(frame, 1234)
    assert read_frame_code(frame) == 1234


def test_per_step_scores_give_bout_edges_to_a_frame(tmp_path: Path) -> None:
    """A model that is right at every step (it reads each frame's index from its pixels and
    says whether the frame is in the true bout): the bouts found on its stitched per-step
    scores start and end within a frame of the truth, a 1 s bout included. The same model's
    clip scores (the share of the window the bout covers) report the 1 s bout window-wide."""
    fps = 10
    video = _coded_video(tmp_path / "v.mp4", fps=fps)
    truth = {"a": [(2.0, 3.0)], "b": [(5.0, 10.5)]}  # 1 s and 5.5 s
    classes = list(truth)

    def on(times: torch.Tensor) -> torch.Tensor:
        cols = [
            torch.stack([(times >= s) & (times < e) for s, e in spans]).any(0).float()
            for spans in truth.values()
        ]
        return torch.stack(cols, dim=-1)

    def prepare(window: np.ndarray) -> torch.Tensor:
        return torch.tensor([read_frame_code(f) for f in window], dtype=torch.float64) / fps

    def score_steps(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        steps = on(batch)
        return steps.mean(1), steps

    def model(dense: bool) -> ClipModel:
        return ClipModel(
            name="oracle",
            classes=classes,
            multi_label=True,
            thresholds=[0.5, 0.5],
            window_sec=4.0,
            fps=Fraction(fps),
            frames_per_window=4 * fps,
            clip_size=None,
            prepare=prepare,
            score=lambda b: score_steps(b)[0],
            score_steps=score_steps if dense else None,
            step_thresholds=[0.5, 0.5] if dense else None,
            step_positions=np.arange if dense else None,
        )

    options = PredictOptions(out=tmp_path / "p", bouts=BoutOptions(min_bout_sec=0.5))
    found = predict(model(True), "oracle", [str(video)], options)[0].summary
    assert found is not None and found["bouts_from"] == "per-step scores"
    got = {b["label"]: (b["start"], b["end"]) for b in found["bouts"]}
    assert set(got) == set(classes) and len(found["bouts"]) == 2
    for label, [(start, end)] in truth.items():
        assert abs(got[label][0] - start) <= 1 / fps + 1e-6, (label, got[label])
        assert abs(got[label][1] - end) <= 1 / fps + 1e-6, (label, got[label])
    # steps.csv: every frame of the video once (12 s at 10 fps), its mean over the windows.
    rows = (tmp_path / "p" / "v" / "steps.csv").read_text().splitlines()
    assert rows[0] == "time,a,b" and len(rows) == 1 + 12 * fps
    assert rows[1 + 25] == "2.500,1.0000,0.0000" and rows[1 + 30] == "3.000,0.0000,0.0000"
    options = PredictOptions(out=tmp_path / "w", bouts=BoutOptions(min_bout_sec=0.5))
    windows = predict(model(False), "oracle", [str(video)], options)[0].summary
    assert windows is not None and windows["bouts_from"] == "window scores"
    short = [b for b in windows["bouts"] if b["label"] == "a"]
    assert all(b["end"] - b["start"] > 2.5 for b in short)  # window-wide (4 s − 1 s ≈ 3 s)


# -- training -------------------------------------------------------------------------------


def _train(data: Path, work: Path) -> Path:
    from ethoclip.cli import main

    config = work.parent / f"{work.name}.py"
    assert main(["config", "new", "--data", str(data), "--out", str(config)]) == 0
    assert main(["train", str(config), "--work-dir", str(work), "--epochs", "2"]) == 0
    return next(work.glob("best_*.ckpt"))


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="config new picks a GPU model there")
def test_training_keeps_per_step_thresholds_and_predict_uses_them(
    demo_dataset: Path, demo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ethoclip.engine import read_checkpoint
    from ethoclip.inference import load_model

    ckpt = _train(demo_dataset, tmp_path / "dense")
    said = capsys.readouterr().out
    assert (
        "per-step targets from the manifest's segments: 38 of 38 training clips, 17 of 17" in said
    )
    meta = read_checkpoint(ckpt)["ethoclip"]
    assert len(meta["step_thresholds"]) == 6
    assert 0 <= meta["metrics"]["step_mean_average_precision"] <= 1
    video = next((demo_root / "Feb/2_5_park/video").glob("*.mp4"))
    options = PredictOptions(out=tmp_path / "p", stride_sec=2.0)
    summary = predict(load_model(str(ckpt), device="cpu"), str(ckpt), [str(video)], options)[0]
    assert summary.summary is not None and summary.summary["bouts_from"] == "per-step scores"
    # The same data from an older prepare (no segments): trained on clip labels alone, no
    # per-step thresholds, and predict's bouts come from the window scores.
    older = tmp_path / "older"
    older.mkdir()
    for item in demo_dataset.iterdir():
        if item.name != "manifest.jsonl":
            (older / item.name).symlink_to(item)
    lines = (demo_dataset / "manifest.jsonl").read_text().splitlines()
    stripped = [
        json.dumps({k: v for k, v in json.loads(x).items() if k != "segments"}) for x in lines
    ]
    (older / "manifest.jsonl").write_text("\n".join(stripped) + "\n")
    ckpt = _train(older, tmp_path / "clip_only")
    assert "per-step targets: none (the clips' manifest has no segments" in capsys.readouterr().out
    assert "step_thresholds" not in read_checkpoint(ckpt)["ethoclip"]
    summary = predict(load_model(str(ckpt), device="cpu"), str(ckpt), [str(video)], options)[0]
    assert summary.summary is not None and summary.summary["bouts_from"] == "window scores"


def test_a_test_pipeline_with_several_views_has_no_per_step_timeline() -> None:
    from ethoclip.inference._model import _one_view

    assert _one_view(_pipeline())
    several = [dict(t, num_clips=3) if t["type"] == "SampleFrames" else t for t in _pipeline()]
    assert not _one_view(several)
    crops = [
        dict(type="ThreeCrop", crop_size=32) if t["type"] == "CenterCrop" else t
        for t in _pipeline()
    ]
    assert not _one_view(crops)


def test_the_rule_clip_score_is_prepares_labelling_rule_on_exact_steps() -> None:
    """``clip_score='rule'`` on 0/1 steps must label a clip as ``prepare`` does (its own
    ``label_window`` is the oracle): random bouts of two classes, some cut by the clip's
    edges, some short and wholly inside. Steps every 0.05 s of a 4 s clip, at 0.025 s past
    each grid point; bout edges on a 0.1 s grid, so every step is wholly on or off and the
    share covered is exact. (A bout starting exactly on the clip's first instant counts as
    wholly inside for ``label_window`` but touches the first step here: left out.)"""
    from ethoclip.annotations._labels import LabelInterval
    from ethoclip.dataset._windows import label_window
    from ethoclip.models.heads.step import StepHead

    def step_head(**kw: Any) -> StepHead:
        bce = {"type": "BCELossWithLogits"}
        return StepHead(num_classes=2, in_channels=4, step_channels=4, loss_cls=bce, **kw)

    head, mean = step_head(clip_score="rule"), step_head(clip_score="steps")
    rng = np.random.default_rng(0)
    times = (np.arange(80) + 0.5) * 0.05
    agree, disagree_with_mean = 0, 0
    for _ in range(300):
        intervals, steps = [], np.zeros((80, 2), np.float32)
        for k, label in enumerate(("a", "b")):
            edge = -1.0
            for _ in range(int(rng.integers(0, 3))):
                start = edge + 0.1 * int(rng.integers(1, 25))
                end = start + 0.1 * int(rng.integers(2, 30))
                if abs(start) < 1e-9:
                    start = -0.5
                edge = end
                intervals.append(LabelInterval(label, start, end, ("s",)))
                steps[(times >= start) & (times < end), k] = 1.0
        labels, _ = label_window(0.0, 4.0, intervals, min_overlap=0.5)
        probs = torch.from_numpy(steps)[None, None]  # (N=1, V=1, T, K)
        rule = head.clip_from_steps(probs)[0]
        for k, label in enumerate(("a", "b")):
            assert bool(rule[k] >= 1 - 1e-6) == (label in labels), (intervals, label)
            agree += 1
        share = mean.clip_from_steps(probs)[0]
        disagree_with_mean += int(((share >= 0.5) != (rule >= 1 - 1e-6)).sum())
    assert agree == 600 and disagree_with_mean > 20  # the short whole bouts the mean misses
    # Soft steps: a whole 1.2 s bout inside outranks a 1.4 s one cut by the clip's start,
    # which the mean ranks the other way round.
    whole = torch.zeros(1, 1, 80, 1)
    whole[0, 0, 30:54] = 0.9
    cut = torch.zeros(1, 1, 80, 1)
    cut[0, 0, :28] = 0.9
    assert head.clip_from_steps(whole) > head.clip_from_steps(cut)
    assert mean.clip_from_steps(whole) < mean.clip_from_steps(cut)
    with pytest.raises(ConfigError, match="clip_score"):
        step_head(clip_score="max")
    with pytest.raises(ConfigError, match="min_overlap"):
        step_head(min_overlap=0)
