"""ethoclip demo: the main job end to end on the embedded synthetic project.

demo-data → validate → prepare (+ review page) → config → train → test → predict on a video
kept out of training. Rerunning reuses what is done (data, clips, a finished training).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..annotations import format_report
from ..dataset import (
    OptionError,
    PlanOptions,
    PrepareOptions,
    load_dataset,
    load_inputs,
    write_review,
)
from ..demo import generate_demo_project
from ..errors import DatasetError
from ._common import add_command, flags_of, given
from .prepare import run_prepare

# The training copy of the dataset: 1 s stride (more clips) and a 64-pixel short side (the
# tiny model's input), so training fits a few CPU minutes.
TRAIN_OPTIONS = {"stride_sec": 1.0, "short_side": 64}
STEPS = 7


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "demo",
        help="run the whole job on the built-in synthetic dog project",
        example="ethoclip demo --out ethoclip-demo",
        description="Write the synthetic project (6 videos, 3 sessions, VIA 3 files with a "
        "two-stream and a VFR video), validate it, cut the clip dataset and its review page, "
        "train a small 3D CNN on the CPU, test it, and predict behaviours on a video kept out of "
        "training (timeline, bouts, a VIA project to correct). A few minutes on 2 cores; "
        "running it again reuses what is done.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("ethoclip-demo"),
        metavar="DIR",
        help="working folder (default ./ethoclip-demo)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=argparse.SUPPRESS,
        help="parallel processes for cutting clips (default: all cores)",
    )
    p.set_defaults(run=run, flags=flags_of(p))


def _step(number: int, text: str) -> None:
    print(f"{number}/{STEPS} {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    # Every option is checked before the first file is written.
    try:
        options = PrepareOptions(**given(args, ["workers"]))
    except OptionError as exc:
        raise exc.renamed(args.flags) from None
    if args.out.exists() and not args.out.is_dir():
        raise DatasetError(f"{args.out}: exists and is not a folder; choose another --out")
    out = args.out
    root, dataset, training = out / "dog_video", out / "dataset", out / "dataset_train"
    if root.exists() and any(root.iterdir()):
        _step(1, f"demo data: reusing {root}")
    else:
        videos = generate_demo_project(root)
        _step(1, f"demo data: {len(videos)} videos in 3 sessions under {root}")
    inputs = load_inputs(root)
    if inputs.errors:
        print(format_report(inputs.issues))
        raise DatasetError(
            f"{root}: the demo project does not validate; delete {out} and run 'ethoclip demo' "
            "again"
        )
    n_segments = sum(len(p.segments) for s in inputs.sessions for p in s.projects)
    _step(2, f"validate: {n_segments} segments, {len(inputs.class_name_of)} labels, no problems")
    _step(3, "prepare: the dataset (4 s clips, 256 px) and its review page")
    result = run_prepare(str(root), dataset, options)
    page = write_review(dataset)
    print(f"    review page: {page}")
    train_options = PrepareOptions(
        plan=PlanOptions(**TRAIN_OPTIONS),  # type: ignore[arg-type]
        workers=options.workers,
    )
    print("    and a training copy (1 s stride, 64 px) for the CPU model:")
    run_prepare(str(root), training, train_options)
    config = _write_config(out, training)
    _step(4, f"config: {config} (ethoclip config new --data {training} --model tiny3d)")
    checkpoint = _train(config, out / "work")
    metrics = _test(checkpoint, out / "eval")
    held_out = _predict(checkpoint, training, root, out / "predictions")
    mAP = metrics["mAP"]
    print(
        f"done in {time.perf_counter() - started:.0f} s: validation mAP {mAP:.3f} on clips of "
        f"videos kept out of training ({'reaches' if mAP >= 0.9 else 'below'} the demo's 0.9)."
    )
    print(f"  review the dataset:    {page}")
    print(f"  training curves:       {out / 'work' / 'curves.png'}")
    print(f"  metrics and plots:     {out / 'eval'}")
    print(
        f"  predictions on {held_out.name}: {out / 'predictions'} "
        "(VIA project: via_predictions.json)"
    )
    return 1 if result.failed else 0


def _write_config(out: Path, training: Path) -> Path:
    from ..config._new import new_config

    path = out / "tiny3d.py"
    # The demo's recipe (and its figures, mAP ≈ 0.93) was measured without pos_weight: its
    # classes are balanced by design, and the weights shift every score up.
    text = new_config(training, "tiny3d", class_balance=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def _train(config: Path, work_dir: Path) -> Path:
    from ..config import Config
    from ..engine import TrainOptions, read_checkpoint, train

    cfg = Config.fromfile(config)
    last = work_dir / "last.ckpt"
    epochs = int(cfg.train_cfg.max_epochs)
    if last.is_file():
        done = int(read_checkpoint(last)["ethoclip"].get("epoch", 0))
        if done >= epochs:
            _step(5, f"train: reusing the trained model in {work_dir} ({done} epochs)")
            return _best(work_dir)
        _step(5, f"train: resuming at epoch {done + 1} of {epochs}")
        resume: bool | None = True
    else:
        _step(5, f"train: TinyVideoNet for {epochs} epochs on the CPU (about 2–3 minutes)")
        resume = None
    train(
        cfg,
        TrainOptions(
            work_dir=work_dir, resume=resume, progress_bar=False, devices=1, accelerator="cpu"
        ),
    )
    return _best(work_dir)


def _best(work_dir: Path) -> Path:
    best = sorted(work_dir.glob("best_*.ckpt"))
    return best[0] if best else work_dir / "last.ckpt"


def _test(checkpoint: Path, out: Path) -> dict[str, Any]:
    from ..engine._evaluate import evaluate

    _step(6, f"test: {checkpoint.name} on the validation clips")
    result = evaluate(checkpoint, out=out, batch_size=8, workers=0, device="cpu")
    aps = ", ".join(f"{name} {row['ap']:.2f}" for name, row in result["per_class"].items())
    print(f"    mAP {result['mAP']:.3f} (per class: {aps}); {out / 'metrics.json'}")
    return result


def _predict(checkpoint: Path, training: Path, root: Path, out: Path) -> Path:
    from ..inference import PredictOptions, load_model, predict

    dataset = load_dataset(training)
    val = dataset.split("val") if "val" in dataset.splits else dataset.records
    video = root / val[0].source_video
    clip = dataset.path(val[0])
    _step(7, f"predict: a clip, and the whole of {video.name}, a video kept out of training")
    model = load_model(str(checkpoint), device="cpu")
    options = PredictOptions(out=out, batch_size=8)
    (clip_result,) = predict(
        model, str(checkpoint), [str(clip)], PredictOptions(out=out, timeline=False)
    )
    assert clip_result.summary is not None
    truth = "+".join(val[0].labels) or "background"
    print(f"    top 5 for {clip.name} (true: {truth}; sigmoid probabilities):")
    for item in clip_result.summary["top_k"]:
        print(f"      {item['score']:.3f}  {item['label']}")
    (result,) = predict(
        model, str(checkpoint), [str(video)], options, export_via=out / "via_predictions.json"
    )
    assert result.summary is not None
    bouts = result.summary["bouts"]
    print(
        f"    {video.name}: {len(bouts)} bouts in {result.folder} "
        "(timeline.csv, bouts.csv, ethogram.png)"
    )
    return video
