"""Does the default path learn behaviour, on projects nobody tuned it to?

For each behaviour-zoo project (and the demo): write it, ``prepare`` it with the defaults,
``config new`` with the default model, train on the CPU, test on the validation clips, and
``predict`` every held-out (validation) video; beside it, a hand-made baseline on the same
clips (~20 motion and foreground statistics per clip, one logistic regression per class).
Prints per project: val mAP and per-class AP of both, how many true bouts (≥ 1 s) of the
held-out videos the predicted bouts.csv finds at IoU ≥ 0.5, the boundary error of the bouts
found, what a perfect clip classifier would find with the same windows and bout rule (the
ceiling clip labels allow), the CPU minutes spent training, and the ratio of the model's mAP to
the baseline's (targets, issue 15: mAP ≥ 0.85 and above the baseline, ≥ 70 % of bouts found,
training ≤ 15 minutes).

    python benchmarks/bench_learning.py [--projects perch_bird,fish_tank,crab_pair,demo]
        [--work DIR] [--model NAME] [--cfg-options KEY=VALUE ...] [--short-side N]
        [--baseline-only] [--threads 2]
        [--checkpoint PROJECT=CKPT ...] [--predict-stride SEC] [--predict-smooth SEC]

``--cfg-options`` and ``--short-side`` (the model's input size) are for ablations; the work
folder keeps the generated projects and prepared clips between runs (training starts over).
``--checkpoint`` skips training (and the baseline) for a project and measures the bouts of a
model trained before (its val mAP is the one stored in the checkpoint): for iterating on the
prediction side. Bout matching: each true bout ≥ 1 s is paired with the predicted bout of its
label that overlaps it most (temporal IoU > 0); it is found when that IoU is ≥ 0.5. Boundary
error: |predicted start − true start| and |predicted end − true end| of every paired bout,
pooled; median and mean in seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

ZOO = ("perch_bird", "fish_tank", "crab_pair")
MIN_BOUT_SEC = 1.0
IOU = 0.5


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (data-loader workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def make_project(name: str, root: Path) -> dict[str, list[tuple[str, float, float]]]:
    """The project under ``root`` (kept if there) → exact bouts per video path (from root)."""
    from ethoclip.demo import generate_demo_project
    from ethoclip.demo.zoo import (
        GROUND_TRUTH,
        PROJECTS,
        generate_zoo_project,
        read_ground_truth,
    )

    if name == "demo":
        if not root.exists():
            # The demo has no file written last to mark it whole: it is written beside and
            # renamed into place, so a run cut off while rendering leaves no half project here.
            partial = root.with_name(f"{root.name}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            generate_demo_project(partial)
            partial.rename(root)
        # The demo keeps no ground-truth file: its VIA projects are it (VIA's rounding aside).
        from ethoclip.annotations import load_via_project

        truth: dict[str, list[tuple[str, float, float]]] = {}
        for via in sorted(root.glob("**/via/*.json")):
            session = via.parent.parent.relative_to(root).as_posix()
            for seg in load_via_project(via).segments:
                key = f"{session}/video/{seg.video}"
                truth.setdefault(key, []).append((seg.labels[0][1], seg.start, seg.end))
        return truth
    if root.exists() and not (root / GROUND_TRUTH).is_file():
        # The generator writes the ground truth last: without it, an earlier run was cut off.
        print(f"{name}: {root} is an unfinished project (no {GROUND_TRUTH}); writing it again")
        shutil.rmtree(root)
    if not root.exists():
        generate_zoo_project(PROJECTS[name], root)
    return {
        video: [(b.label, b.start_sec, b.end_sec) for b in bouts]
        for video, bouts in read_ground_truth(root).items()
    }


def prepare(root: Path, out: Path, stride_sec: float | None = None) -> None:
    from ethoclip.cli.prepare import run_prepare
    from ethoclip.dataset import PlanOptions, PrepareOptions

    # Always: prepare reuses every clip whose recipe is unchanged (seconds), and the manifest
    # is then the current ethoclip's (per-step segments included).
    run_prepare(str(root), out, PrepareOptions(plan=PlanOptions(stride_sec=stride_sec)))


def train_default(
    data: Path,
    work: Path,
    model: str | None,
    options: list[str],
    short_side: int | None,
    clips_seen: int | None = None,
) -> tuple[Path, float, float, str]:
    """config new (default model) → train. (best checkpoint, CPU s, wall s, model name)"""
    from ethoclip.config import Config
    from ethoclip.config._new import default_model, new_config
    from ethoclip.engine import TrainOptions, train

    name = model or default_model()
    if clips_seen is not None:  # ablation: another schedule length for the family
        import dataclasses

        from ethoclip.config import _new

        family = dataclasses.replace(_new.MODEL_FAMILIES[name], clips_seen=clips_seen)
        _new.MODEL_FAMILIES[name] = family
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    config = work / f"{name}.py"
    config.write_text(new_config(data, name), encoding="utf-8")
    cfg = Config.fromfile(config, cfg_options=options or None)
    if short_side is not None:
        for key in ("train_pipeline", "val_pipeline", "test_pipeline"):
            for step in cfg[key]:
                if step["type"] == "Resize" and step["scale"][0] == -1:
                    step["scale"] = (-1, short_side)
        for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
            cfg[key]["dataset"]["pipeline"] = cfg[key.replace("dataloader", "pipeline")]
    cpu, wall = cpu_seconds(), time.perf_counter()
    train(cfg, TrainOptions(work_dir=work, progress_bar=False, devices=1, accelerator="cpu"))
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    best = sorted(work.glob("best_*.ckpt"))
    return (best[0] if best else work / "last.ckpt"), cpu, wall, name


def val_curve(log: Path, metric: str = "acc/mean_average_precision") -> list[tuple[int, float]]:
    """(epoch, ``metric``) of every validation in a training's ``log.jsonl``, in order.

    The best epoch's mAP is the largest of these, chosen on the same validation clips it is
    reported on: with 11–19 clips a class with 3 positives moves by up to ~0.3 on one clip, so
    the maximum over ~26 epochs flatters the model. The last epoch's value is printed beside
    it (a schedule's end needs no choice)."""
    curve = []
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if metric in (entry.get("val") or {}):
            curve.append((int(entry["epoch"]), float(entry["val"][metric])))
    return curve


@dataclass
class BoutScore:
    """True bouts ≥ MIN_BOUT_SEC paired with predicted ones (see the module's docstring)."""

    hits: int = 0  # paired at IoU ≥ IOU
    total: int = 0  # true bouts ≥ MIN_BOUT_SEC
    paired: int = 0  # with a same-label predicted bout overlapping them at all
    start_errors: list[float] = field(default_factory=list)  # |Δstart| per paired bout, s
    end_errors: list[float] = field(default_factory=list)  # |Δend| per paired bout, s
    by_label: dict[str, list[int]] = field(default_factory=dict)  # label → [hits, total]

    def add(self, other: BoutScore) -> BoutScore:
        labels = {**self.by_label, **other.by_label}
        return BoutScore(
            self.hits + other.hits,
            self.total + other.total,
            self.paired + other.paired,
            self.start_errors + other.start_errors,
            self.end_errors + other.end_errors,
            {
                k: [sum(s.by_label.get(k, [0, 0])[i] for s in (self, other)) for i in (0, 1)]
                for k in sorted(labels)
            },
        )

    @property
    def edge_errors(self) -> list[float]:
        return self.start_errors + self.end_errors

    def median_error(self) -> float:
        return float(np.median(self.edge_errors)) if self.edge_errors else float("nan")

    def mean_error(self) -> float:
        return float(np.mean(self.edge_errors)) if self.edge_errors else float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "total": self.total,
            "paired": self.paired,
            "edge_error_median_s": self.median_error(),
            "edge_error_mean_s": self.mean_error(),
            "start_error_median_s": float(np.median(self.start_errors))
            if self.start_errors
            else float("nan"),
            "end_error_median_s": float(np.median(self.end_errors))
            if self.end_errors
            else float("nan"),
            "by_label": self.by_label,
        }


def val_positives(data: Path) -> dict[str, int]:
    """Validation clips per label: how much a per-class AP can mean (one clip of 4 moves it)."""
    from ethoclip.dataset import load_dataset

    dataset = load_dataset(data)
    val = dataset.split("val") if "val" in dataset.splits else dataset.records
    counts = dict.fromkeys(dataset.labels, 0)
    for record in val:
        for i in record.label_ids:
            counts[dataset.labels[i]] += 1
    return counts


def score_bouts(
    truth: list[tuple[str, float, float]], predicted: list[tuple[str, float, float]]
) -> BoutScore:
    """Pair each true bout ≥ 1 s with the same-label predicted bout of the highest IoU."""
    from ethoclip.inference import Bout, match_bouts

    wanted = [Bout(label, a, b, 1.0, 1.0) for label, a, b in truth if b - a >= MIN_BOUT_SEC]
    found = [Bout(label, a, b, 1.0, 1.0) for label, a, b in predicted]
    score = BoutScore(total=len(wanted))
    for bout in wanted:
        score.by_label.setdefault(bout.label, [0, 0])[1] += 1
    for m in match_bouts(wanted, found):
        if m.predicted is None:
            continue
        score.paired += 1
        hit = m.iou >= IOU - 1e-9
        score.hits += hit
        score.by_label[m.truth.label][0] += hit
        score.start_errors.append(abs(m.predicted.start - m.truth.start))
        score.end_errors.append(abs(m.predicted.end - m.truth.end))
    return score


def ideal_bouts(
    truth: list[tuple[str, float, float]],
    classes: list[str],
    *,
    duration: float,
    window_sec: float,
    stride_sec: float,
    options: Any,
) -> list[tuple[str, float, float]]:
    """The bouts a perfect clip classifier gives: each window scored 1 for exactly the classes
    prepare would label it with (``label_window``, its default min_overlap), then the same bout
    rule as predict. What clip-level labels allow, whatever the model."""
    import torch

    from ethoclip.annotations import LabelInterval
    from ethoclip.dataset import PlanOptions
    from ethoclip.dataset._windows import label_window
    from ethoclip.inference import find_bouts

    intervals = [LabelInterval(label, a, b, ()) for label, a, b in truth]
    starts = np.arange(0.0, duration - window_sec + 1e-9, stride_sec)
    overlap = PlanOptions().min_overlap
    scores = torch.tensor(
        [
            [
                float(c in label_window(s, s + window_sec, intervals, min_overlap=overlap)[0])
                for c in classes
            ]
            for s in starts
        ]
    ).reshape(len(starts), len(classes))
    bouts = find_bouts(
        scores,
        starts,
        window_sec,
        first=0.0,
        end=duration,
        classes=classes,
        thresholds=[0.5] * len(classes),
        multi_label=True,
        options=options,
    )
    return [(b.label, b.start, b.end) for b in bouts]


def held_out_bouts(
    checkpoint: Path,
    data: Path,
    root: Path,
    truth: dict[str, Any],
    out: Path,
    *,
    stride_sec: float | None = None,
    smooth_sec: float | None = None,
) -> tuple[list[str], BoutScore, BoutScore]:
    """Predict every validation video; (videos, the model's bouts, a perfect classifier's)."""
    from ethoclip.dataset import load_dataset
    from ethoclip.inference import BoutOptions, PredictOptions, load_model, predict
    from ethoclip.inference._windows import STRIDE_FRACTION

    dataset = load_dataset(data)
    val = dataset.split("val") if "val" in dataset.splits else dataset.records
    videos = sorted({r.source_video for r in val})
    model = load_model(str(checkpoint), device="cpu")
    bout_options = BoutOptions() if smooth_sec is None else BoutOptions(smooth_sec=smooth_sec)
    options = PredictOptions(out=out, stride_sec=stride_sec, bouts=bout_options)
    results = predict(model, str(checkpoint), [str(root / v) for v in videos], options)
    found, ceiling = BoutScore(), BoutScore()
    for video, result in zip(videos, results, strict=True):
        assert result.folder is not None and result.summary is not None, result.error
        with open(result.folder / "bouts.csv", newline="", encoding="utf-8") as f:
            rows = [(r["label"], float(r["start"]), float(r["end"])) for r in csv.DictReader(f)]
        found = found.add(score_bouts(truth[video], rows))
        window = float(result.summary["window_sec"])
        ideal = ideal_bouts(
            truth[video],
            model.classes,
            duration=float(result.summary["duration_sec"]),
            window_sec=window,
            stride_sec=stride_sec or window * STRIDE_FRACTION,
            options=bout_options,
        )
        ceiling = ceiling.add(score_bouts(truth[video], ideal))
    return videos, found, ceiling


def clip_source_gap(checkpoint: Path, data: Path, root: Path) -> dict[str, float]:
    """How differently the model scores a validation clip and the same window read from its
    source video the way ``predict`` reads it (the clip is the source through prepare's x264
    encode, so this is what training-on-clips costs prediction): the mean absolute difference
    of the clip probabilities over clips and classes, and the share of clips whose top class
    changes."""
    from ethoclip.dataset import load_dataset
    from ethoclip.inference import load_model
    from ethoclip.media import VideoReader, window_frame_indices

    dataset = load_dataset(data)
    val = dataset.split("val") if "val" in dataset.splits else dataset.records
    model = load_model(str(checkpoint), device="cpu")
    score = model.score_steps or (lambda b: (model.score(b), None))  # type: ignore[return-value]
    diffs, flips = [], 0

    def window(path: Path, start: float, frames: int, fps: Fraction, size: Any) -> np.ndarray:
        """The window's frames by the clip rule (``window_frame_indices``), as predict reads."""
        with VideoReader(path, upright=True) as reader:
            idx = window_frame_indices(reader.info.pts, start, frames, fps)
            idx = np.clip(idx, 0, len(reader.info.pts) - 1)
            got = dict(reader.iter_frames(np.unique(idx), size=size))
        return np.stack([got[int(i)] for i in idx])

    for record in val:
        fps = Fraction(record.fps_exact)
        with VideoReader(data / record.clip, upright=True) as reader:
            clip_size = reader.size
        # Both read at the size predict reads (the test pipeline's decode-time resize).
        size = model.read_size(*clip_size) if model.read_size is not None else clip_size
        clip = window(data / record.clip, 0.0, record.num_frames, fps, size)
        source = window(
            root / record.source_video, record.source_start, record.num_frames, fps, size
        )
        a, b = (score(model.prepare(f)[None])[0][0] for f in (clip, source))
        diffs.append(float((a - b).abs().mean()))
        flips += int(a.argmax() != b.argmax())
    return {"mean_abs_diff": float(np.mean(diffs)), "top_class_changed": flips / len(val)}


# ---- the hand-made baseline -------------------------------------------------------------


def clip_features(path: Path) -> np.ndarray:
    """~20 statistics of a clip at a 64-pixel short side: how much moves, how much differs
    from the clip's median (the animal), where that is, how fast it goes, how spread it is."""
    from ethoclip.media import VideoReader, probe_video

    probe = probe_video(path)
    with VideoReader(path, probe=probe, threads=1) as reader:
        width, height = reader.size
        size = (max(2, round(width * 64 / height) // 2 * 2), 64)
        n = probe.stream(probe.video_streams[0].index).frames
        frames = reader.read_indices(np.arange(n), size=size)
    g = frames.astype(np.float32).mean(axis=3)
    g = g[:, 8:]  # below the frame-code band of synthetic videos (1/8 of the height)
    _, h, w = g.shape
    ys, xs = np.mgrid[0:h, 0:w]
    diff = np.abs(np.diff(g, axis=0))
    energy = diff.mean(axis=(1, 2))
    fg = np.abs(g - np.median(g, axis=0)) > 18.0
    area = fg.mean(axis=(1, 2))
    mass = fg.sum(axis=(1, 2)) + 1e-3
    cx = (fg * xs).sum(axis=(1, 2)) / mass / w
    cy = (fg * ys).sum(axis=(1, 2)) / mass / h
    speed = np.hypot(np.diff(cx), np.diff(cy))
    dmass = diff.sum(axis=(1, 2)) + 1e-3
    mx = (diff * xs).sum(axis=(1, 2)) / dmass
    my = (diff * ys).sum(axis=(1, 2)) / dmass
    spread = np.sqrt(
        (diff * ((xs - mx[:, None, None]) ** 2 + (ys - my[:, None, None]) ** 2)).sum(axis=(1, 2))
        / dmass
    ) / max(h, w)
    return np.array(
        [
            energy.mean(),
            energy.std(),
            energy.max(),
            np.percentile(energy, 90),
            (energy < 0.5 * np.median(energy) + 0.2).mean(),
            area.mean(),
            area.std(),
            area.max(),
            cx.mean(),
            cx.std(),
            cx.max() - cx.min(),
            cy.mean(),
            cy.std(),
            cy.max() - cy.min(),
            speed.mean(),
            speed.std(),
            speed.max(),
            spread.mean(),
            spread.std(),
            np.abs(np.diff(area)).mean(),
        ],
        np.float32,
    )


def baseline(data: Path) -> tuple[float, dict[str, float], float]:
    """(val mAP, per-class AP, CPU s) of per-class logistic regressions on clip_features."""
    import torch

    from ethoclip.dataset import load_dataset
    from ethoclip.evaluation._metrics import average_precision_per_class

    cpu = cpu_seconds()
    dataset = load_dataset(data)
    split = {s: dataset.split(s) for s in ("train", "val")}
    x, y = {}, {}
    for s, records in split.items():
        x[s] = torch.tensor(np.stack([clip_features(dataset.path(r)) for r in records]))
        y[s] = torch.zeros(len(records), dataset.num_classes)
        for row, r in enumerate(records):
            y[s][row, list(r.label_ids)] = 1.0
    mean, std = x["train"].mean(0), x["train"].std(0) + 1e-6
    xt, xv = (x["train"] - mean) / std, (x["val"] - mean) / std
    weight = torch.zeros(xt.shape[1], dataset.num_classes, requires_grad=True)
    bias = torch.zeros(dataset.num_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=200)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ weight + bias, y["train"])
        loss = loss + 1e-2 * (weight**2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        scores = torch.sigmoid(xv @ weight + bias)
    aps = average_precision_per_class(scores, y["val"])
    per_class = dict(zip(dataset.labels, aps, strict=True))
    valid = [a for a in aps if a == a]
    return float(np.mean(valid)), per_class, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", default=",".join((*ZOO, "demo")))
    parser.add_argument("--work", type=Path, default=Path("/tmp/ethoclip-bench-learning"))
    parser.add_argument("--model", help="a shipped model (default: what config new picks)")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument("--short-side", type=int, help="the model's input size (ablation)")
    parser.add_argument(
        "--clips-seen", type=int, help="clips shown in all, for config new's epochs (ablation)"
    )
    parser.add_argument(
        "--stride-sec", type=float, help="prepare's --stride-sec (default: its default, 4 s)"
    )
    parser.add_argument("--baseline-only", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tag", default="default", help="names this run's results file")
    parser.add_argument(
        "--checkpoint",
        nargs="+",
        default=[],
        metavar="PROJECT=CKPT",
        help="measure the bouts of this checkpoint for PROJECT: no training, no baseline",
    )
    parser.add_argument(
        "--predict-stride", type=float, metavar="SEC", help="predict's --stride (its default)"
    )
    parser.add_argument(
        "--predict-smooth", type=float, metavar="SEC", help="predict's --smooth (its default)"
    )
    args = parser.parse_args()
    given = dict(item.split("=", 1) for item in args.checkpoint)
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for name in args.projects.split(","):
        root, data = args.work / name, args.work / f"{name}_ds"
        if args.stride_sec:
            data = args.work / f"{name}_ds_stride{args.stride_sec:g}"
        truth = make_project(name, root)
        prepare(root, data, args.stride_sec)
        if name in given:
            rows.append(bouts_of(name, Path(given[name]), data, root, truth, args))
            (args.work / f"results_{args.tag}.json").write_text(json.dumps(rows, indent=1))
            continue
        b_map, b_ap, b_cpu = baseline(data)
        row: dict[str, Any] = {
            "project": name,
            "baseline_map": b_map,
            "baseline_ap": b_ap,
            "baseline_cpu_s": b_cpu,
            "val_positives": val_positives(data),
        }
        print(f"{name}: baseline mAP {b_map:.3f} ({b_cpu:.0f} CPU s)", flush=True)
        if not args.baseline_only:
            from ethoclip.engine._evaluate import evaluate

            run = args.work / f"{name}_{args.tag}"
            checkpoint, cpu, wall, model = train_default(
                data, run / "work", args.model, args.cfg_options, args.short_side, args.clips_seen
            )
            metrics = evaluate(checkpoint, out=run / "eval", batch_size=8, workers=0, device="cpu")
            curve = val_curve(run / "work" / "log.jsonl")
            if curve:
                best_epoch = max(curve, key=lambda point: point[1])[0]
                row.update(best_epoch=best_epoch, last_epoch=curve[-1][0], map_last=curve[-1][1])
            row.update(
                model=model,
                map=metrics["mAP"],
                train_cpu_s=cpu,
                train_wall_s=wall,
                load_average=os.getloadavg()[2],  # the last 15 minutes: how shared the CPU was
                ap={k: v["ap"] for k, v in metrics["per_class"].items()},
            )
            last = (
                f" (best of {row['last_epoch']} epochs: epoch {row['best_epoch']}; the last "
                f"epoch's {row['map_last']:.3f})"
                if "map_last" in row
                else ""
            )
            print(
                f"{name}: {model} mAP {metrics['mAP']:.3f}{last}; training {cpu / 60:.1f} CPU "
                f"min ({wall / 60:.1f} min wall)",
                flush=True,
            )
            row.update(bouts_of(name, checkpoint, data, root, truth, args, run / "pred"))
            final = run / "work" / "last.ckpt"
            if final.exists() and final.resolve() != checkpoint.resolve():
                # The best epoch is chosen on the same 11-19 validation clips it is scored on;
                # the last one's bouts are the figure no choice has touched.
                at_last = held_out_bouts(final, data, root, truth, run / "pred_last",
                                         stride_sec=args.predict_stride,
                                         smooth_sec=args.predict_smooth)[1]  # fmt: skip
                row.update(bout_hits_last=at_last.hits, bout_score_last=at_last.summary())
                print(f"{name}: bouts with the last epoch's checkpoint {at_last.hits}/"
                      f"{at_last.total}", flush=True)  # fmt: skip
        rows.append(row)
        (args.work / f"results_{args.tag}.json").write_text(json.dumps(rows, indent=1))
    print()
    print(
        f"{'project':<12} {'model':<10} {'mAP':>6} {'last':>6} {'base':>6} {'bouts (last)':>12} "
        f"{'CPU min':>8} "
        f"{'wall':>6} {'load':>5}  per-class AP (model / baseline, val positives)"
    )
    for r in rows:
        per = ", ".join(
            f"{k} {r.get('ap', {}).get(k, float('nan')):.2f}/{v:.2f}"
            f" ({r.get('val_positives', {}).get(k, '?')})"
            for k, v in r.get("baseline_ap", {}).items()
        )
        bouts = f"{r['bout_hits']}/{r['bouts']}" if "bouts" in r else "-"
        if "bout_hits_last" in r:
            bouts += f" ({r['bout_hits_last']})"
        print(
            f"{r['project']:<12} {r.get('model', '-'):<10} {r.get('map', float('nan')):>6.3f} "
            f"{r.get('map_last', float('nan')):>6.3f} "
            f"{r.get('baseline_map', float('nan')):>6.3f} {bouts:>12} "
            f"{r.get('train_cpu_s', 0) / 60:>8.1f} "
            f"{r.get('train_wall_s', 0) / 60:>6.1f} {r.get('load_average', 0):>5.1f}  {per}"
        )
    print()
    print(
        f"{'project':<12} {'bouts found':>11} {'paired':>6} {'edge err median / mean s':>25} "
        f"{'perfect clip classifier':>24}"
    )
    for r in rows:
        if "bouts" not in r:
            continue
        found, ideal = r["bout_score"], r["ceiling"]
        print(
            f"{r['project']:<12} {found['hits']:>5}/{found['total']:<5} {found['paired']:>6} "
            f"{found['edge_error_median_s']:>12.2f} / {found['edge_error_mean_s']:<10.2f} "
            f"{ideal['hits']:>5}/{ideal['total']:<5} ({ideal['edge_error_median_s']:.2f} s)"
        )
        for what, score in (
            ("best", found),
            ("last", r.get("bout_score_last")),
            ("perfect", ideal),
        ):
            if score and score.get("by_label"):
                each = ", ".join(f"{k} {h}/{n}" for k, (h, n) in score["by_label"].items())
                print(f"{'':<12} bouts by label, {what}: {each}")
    sys.stdout.flush()


def bouts_of(
    name: str,
    checkpoint: Path,
    data: Path,
    root: Path,
    truth: dict[str, Any],
    args: argparse.Namespace,
    out: Path | None = None,
) -> dict[str, Any]:
    """The bout figures of one project's checkpoint on its validation videos (a results row)."""
    from ethoclip.engine import read_checkpoint

    out = out or args.work / f"{name}_{args.tag}" / "pred"
    videos, found, ceiling = held_out_bouts(
        checkpoint,
        data,
        root,
        truth,
        out,
        stride_sec=args.predict_stride,
        smooth_sec=args.predict_smooth,
    )
    gap = clip_source_gap(checkpoint, data, root)
    saved = read_checkpoint(checkpoint)["ethoclip"]
    stored = (saved.get("best") or {}).get("value") if isinstance(saved.get("best"), dict) else None
    row: dict[str, Any] = {
        "project": name,
        "checkpoint": str(checkpoint),
        "held_out": videos,
        "bout_hits": found.hits,
        "bouts": found.total,
        "bout_score": found.summary(),
        "ceiling": ceiling.summary(),
        "clip_source_gap": gap,
        "predict_stride": args.predict_stride,
        "predict_smooth": args.predict_smooth,
    }
    if name in dict(item.split("=", 1) for item in args.checkpoint) and stored is not None:
        row["map"] = float(stored)
    print(
        f"{name}: bouts {found.hits}/{found.total} at IoU ≥ {IOU} on {len(videos)} held-out "
        f"videos, {found.paired} paired, boundary error median {found.median_error():.2f} s "
        f"(mean {found.mean_error():.2f} s); a perfect clip classifier: "
        f"{ceiling.hits}/{ceiling.total} ({ceiling.median_error():.2f} s); validation clip vs "
        f"its source window: mean |Δ score| {gap['mean_abs_diff']:.3f}, top class changed in "
        f"{gap['top_class_changed']:.0%}",
        flush=True,
    )
    return row


if __name__ == "__main__":
    main()
