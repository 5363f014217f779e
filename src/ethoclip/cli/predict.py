"""ethoclip predict: top-k labels, timelines, bouts, VIA projects and overlays for videos."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._common import (
    add_command,
    check_device,
    device_name,
    nonnegative_float,
    positive_float,
    positive_int,
    progress_bar,
)
from .config import load


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "predict",
        help="label videos with a model: top-k, timeline, bouts, VIA export, overlay video",
        example="ethoclip predict work_dirs/feb/last.ckpt dog_video/Mar/video/ "
        "--export-via corrections.json",
        description="MODEL is an ethoclip checkpoint, an MMAction2-style config with --checkpoint "
        "(and --label-file), or torchvision:NAME (Kinetics-400 weights from torch.hub's cache). "
        "VIDEO is a file or a folder of videos (folders resume: finished videos are skipped). "
        "Videos longer than one window get a timeline: timeline.csv, bouts.csv and ethogram.png "
        "in --out/<video>/. A bout is detected where a class's score reaches the threshold "
        "chosen on validation and spans the windows scoring at least 0.5 around it (the level "
        "at which training labelled a window), its edges interpolated between window centres.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.add_argument(
        "--checkpoint", metavar="FILE", help="weights for a config MODEL (MMAction2 or ethoclip)"
    )
    p.add_argument(
        "--label-file", metavar="FILE", help="class names, one per line (e.g. Kinetics-400's)"
    )
    p.add_argument("--top-k", type=positive_int, default=5, help="labels listed per video (5)")
    p.add_argument("--json", action="store_true", help="one JSON object per video on stdout")
    g = p.add_argument_group("timeline")
    g.add_argument(
        "--timeline",
        action="store_true",
        default=None,
        help="always write a timeline (default: for videos longer than a window)",
    )
    g.add_argument(
        "--window",
        type=positive_float,
        metavar="SEC",
        help="window length (default: the model's clip length)",
    )
    g.add_argument(
        "--stride",
        type=positive_float,
        metavar="SEC",
        help="between window starts (default: an eighth of the window, 0.5 s for 4 s clips); "
        "bout edges are interpolated between window centres, so a finer stride places them "
        "closer, at a proportional cost in model calls",
    )
    g.add_argument(
        "--smooth",
        type=nonnegative_float,
        default=0.0,
        metavar="SEC",
        help="average each score over the window centres within SEC/2 either side before "
        "finding bouts (default 0: none; the windows already overlap)",
    )
    g.add_argument(
        "--hysteresis",
        type=nonnegative_float,
        default=0.05,
        help="a bout stays on until its score falls this far below the level that started it "
        "(0.05)",
    )
    g.add_argument(
        "--min-bout",
        type=nonnegative_float,
        default=1.0,
        metavar="SEC",
        help="shorter bouts are dropped (1.0)",
    )
    g.add_argument(
        "--out", type=Path, default=Path("predictions"), metavar="DIR", help="default ./predictions"
    )
    g.add_argument(
        "--export-via", type=Path, metavar="FILE", help="a VIA 3 project with the bouts, to correct"
    )
    g.add_argument(
        "--render", action="store_true", help="also write overlay.mp4: the video with its labels"
    )
    g.add_argument(
        "--show", action="store_true", help="open the overlay video when done (needs a desktop)"
    )
    g = p.add_argument_group("run")
    g.add_argument("--device", type=device_name, help="cpu or cuda (default: cuda when available)")
    g.add_argument(
        "--batch-size", type=positive_int, default=8, help="windows per model call (default 8)"
    )
    p.set_defaults(run=run)


def _check_inputs(args: argparse.Namespace) -> None:
    """What can be checked without torch or the model: files exist, a config MODEL is valid."""
    from ..errors import CheckpointError, ConfigError

    spec = str(args.model)
    is_config = Path(spec).suffix.lower() in (".py", ".yaml", ".yml", ".json")
    if not spec.startswith(("torchvision:", "ethoclip::")) and not Path(spec).is_file():
        raise CheckpointError(
            f"{spec}: no such file; MODEL is a checkpoint (.ckpt), a config with "
            "--checkpoint, or torchvision:NAME"
        )
    if is_config:
        if args.checkpoint is None:
            raise ConfigError(f"{spec}: a config needs its weights too: pass --checkpoint FILE")
        from ..preflight import check_for_prediction

        check_for_prediction(load(spec, []))
    missing = [v for v in args.videos if not Path(v).exists()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ConfigError(f"{missing[0]}: no such video file or folder{more}; check the path")
    for flag, path in (("--checkpoint", args.checkpoint), ("--label-file", args.label_file)):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{flag} {path}: no such file")
    if args.window is not None and args.stride is not None and args.stride > args.window:
        raise ConfigError(
            f"--stride {args.stride:g} is longer than --window {args.window:g}: parts of the "
            "video would be skipped; use a stride of at most the window"
        )


def run(args: argparse.Namespace) -> int:
    _check_inputs(args)
    check_device(args.device)
    from rich.console import Console

    from ..inference import (
        BoutOptions,
        PredictOptions,
        VideoResult,
        load_model,
        not_learned,
        predict,
        remove_objects,
    )

    options = PredictOptions(
        top_k=args.top_k,
        timeline=args.timeline,
        window_sec=args.window,
        stride_sec=args.stride,
        batch_size=args.batch_size,
        bouts=BoutOptions(
            smooth_sec=args.smooth, hysteresis=args.hysteresis, min_bout_sec=args.min_bout
        ),
        out=args.out,
        render=args.render or args.show,
    )
    model = load_model(
        args.model, checkpoint=args.checkpoint, label_file=args.label_file, device=args.device
    )
    for note in model.notes:
        print(f"note: {note}", file=sys.stderr)
    weak = not_learned(model)
    if weak:
        print(
            "note: validation did not show these classes were learned; their bouts are marked "
            "(class_learned=no) and are guesses: "
            + "; ".join(f"{name} ({why})" for name, why in weak.items()),
            file=sys.stderr,
        )
    console = Console(stderr=True)

    def show(result: VideoResult) -> None:
        if result.error:
            print(f"error: {result.error}", file=sys.stderr)
            return
        assert result.summary is not None
        summary = remove_objects(result.summary)
        if args.json:
            print(json.dumps(summary), flush=True)
            return
        kind = summary["score"]
        done = " (done before, skipped)" if result.skipped else ""
        padded = (
            " (shorter than one window: its last frame was repeated)" if summary["padded"] else ""
        )
        print(f"{result.video}{done}{padded}: top {len(summary['top_k'])} ({kind})")
        for item in summary["top_k"]:
            mark = "  (not learned)" if item["label"] in weak else ""
            print(f"  {item['score']:.3f}  {item['label']}{mark}")
        if result.folder is not None:
            print(
                f"  {len(summary['bouts'])} bouts; timeline, bouts and ethogram in {result.folder}"
            )

    with progress_bar(console) as bar:
        task = bar.add_task("windows", total=None)

        def progress(video: Path, done: int, total: int) -> None:
            bar.update(task, description=video.name, completed=done, total=total)

        results = predict(
            model,
            args.model,
            args.videos,
            options,
            export_via=args.export_via,
            report=show,
            progress=progress,
        )
    if args.export_via:
        print(
            f"wrote {args.export_via}: open it in VIA's video annotator (with the videos), "
            "correct it, save it, then cut a dataset that uses it: ethoclip prepare ROOT --out "
            f"DIR --corrections {args.export_via} (it replaces the annotation of the videos it "
            "holds; --corrections-mode merge adds to it)"
        )
    if args.show:
        import webbrowser

        for result in results:
            if result.folder is not None and (result.folder / "overlay.mp4").is_file():
                webbrowser.open((result.folder / "overlay.mp4").resolve().as_uri())
    failed = sum(1 for r in results if r.error)
    if failed:
        print(
            f"error: {failed} of {len(results)} videos could not be predicted (above)",
            file=sys.stderr,
        )
        return 2 if failed == len(results) else 1
    return 0
