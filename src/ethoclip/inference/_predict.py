"""``ethoclip predict``: top-k labels per video; for long videos a timeline, bouts, an
ethogram, a VIA project and an overlay video. A folder of videos resumes: videos whose outputs
are complete for the same model and options are skipped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..dataset import VIDEO_EXTENSIONS
from ..errors import ConfigError, EthoclipError, MediaError
from ._bouts import BoutOptions, find_bouts, guarded_thresholds, smoothed
from ._export import (
    bouts_csv,
    ethogram,
    steps_csv,
    summary_json,
    timeline_csv,
    via_project,
    write_atomic,
    write_json,
)
from ._model import ClipModel
from ._windows import score_video

RESULT = "predictions.json"


@dataclass(frozen=True)
class PredictOptions:
    top_k: int = 5
    timeline: bool | None = None  # None: when a video is longer than one window
    window_sec: float | None = None  # default: the model's clip length
    stride_sec: float | None = None  # default: STRIDE_FRACTION of a window (0.5 s of 4 s)
    batch_size: int = 8
    bouts: BoutOptions = field(default_factory=BoutOptions)
    out: Path = Path("predictions")
    render: bool = False


@dataclass
class VideoResult:
    video: Path
    summary: dict[str, Any] | None = None
    folder: Path | None = None
    skipped: bool = False
    error: str | None = None


def videos_in(paths: Sequence[str]) -> list[Path]:
    """The videos named, or found in the folders named (sorted); missing paths are kept so
    that they are reported with the others."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
            )
        else:
            found.append(path)
    return found


def recipe(model_spec: str, options: PredictOptions) -> str:
    """What a result depends on: the model file (name, size, time) and the options."""
    source: dict[str, Any] = {"model": model_spec}
    if Path(model_spec).is_file():
        st = Path(model_spec).stat()
        source.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    data = {
        **source,
        **{k: str(v) for k, v in asdict(options).items() if k not in ("out", "batch_size")},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def predict_video(
    model: ClipModel,
    video: Path,
    options: PredictOptions,
    *,
    key: str,
    folder: Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> VideoResult:
    scored = score_video(
        model,
        video,
        window_sec=options.window_sec,
        stride_sec=options.stride_sec,
        batch_size=options.batch_size,
        progress=progress,
    )
    long_video = len(scored.windows.starts) > 1
    learned = model.learned
    # A dense model's bouts come from its per-step scores (every sampled frame, stitched over
    # the windows): their edges and short behaviours are then the frames', not the windows'.
    per_step = scored.step_timeline() if model.step_thresholds is not None else None
    if per_step is not None and model.step_thresholds is not None:
        times, values = per_step
        at, length, base = times, 0.0, model.step_thresholds
    else:
        values = scored.scores.numpy().astype("float64")
        at, length, base = scored.windows.starts, scored.windows.length_sec, model.thresholds
    thresholds = guarded_thresholds(smoothed(values, at, options.bouts.smooth_sec), base, learned)
    bouts = find_bouts(
        torch.from_numpy(values),
        at,
        length,
        first=scored.first_sec,
        end=scored.first_sec + scored.duration_sec,
        classes=model.classes,
        thresholds=thresholds,
        multi_label=model.multi_label,
        options=options.bouts,
        learned=learned,
    )
    summary = summary_json(
        scored,
        model.classes,
        bouts,
        multi_label=model.multi_label,
        top_k=options.top_k,
        recipe=key,
        evidence=model.evidence,
        thresholds=thresholds,
    )
    summary["bouts_from"] = "per-step scores" if per_step is not None else "window scores"
    timeline = options.timeline if options.timeline is not None else long_video
    if folder is not None and timeline:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "timeline.csv", timeline_csv(scored, model.classes))
        if per_step is not None:
            write_atomic(folder / "steps.csv", steps_csv(*per_step, model.classes))
        write_atomic(folder / "bouts.csv", bouts_csv(bouts))
        ethogram(scored, bouts, model.classes, folder / "ethogram.png", learned=learned)
        if options.render:
            from ._render import render

            render(video, folder / "overlay.mp4", bouts, model.classes)
        summary["outputs"] = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        write_json(folder / RESULT, summary)  # last: its presence marks the video done
    summary["bout_objects"] = bouts
    return VideoResult(video, summary, folder if timeline else None)


def predict(
    model: ClipModel,
    model_spec: str,
    inputs: Sequence[str],
    options: PredictOptions,
    *,
    export_via: Path | None = None,
    report: Callable[[VideoResult], None] | None = None,
    progress: Callable[[Path, int, int], None] | None = None,
) -> list[VideoResult]:
    """Predict every video; one that cannot be read is reported and the others go on."""
    if options.top_k < 1:
        raise EthoclipError(f"--top-k must be at least 1 (got {options.top_k})")
    window = options.window_sec or model.window_sec
    if options.stride_sec is not None and window and options.stride_sec > window + 1e-9:
        raise ConfigError(
            f"--stride {options.stride_sec:g} s is longer than the model's window ({window:g} s): "
            f"parts of each video would never be scored; use a stride of at most {window:g} s"
        )
    videos = videos_in(inputs)
    if not videos:
        raise EthoclipError(
            f"no video found in {', '.join(inputs)}; pass video files or folders of them"
        )
    key = recipe(model_spec, options)
    names = [v.stem for v in videos]
    results = []
    for video in videos:
        unique = video.stem if names.count(video.stem) == 1 else f"{video.parent.name}_{video.stem}"
        folder = options.out / unique
        done = folder / RESULT
        if done.is_file():
            try:
                previous = json.loads(done.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                previous = {}
            if previous.get("recipe") == key and previous.get("video") == str(video):
                result = VideoResult(video, previous, folder, skipped=True)
                results.append(result)
                if report:
                    report(result)
                continue

        def step(done: int, total: int, video: Path = video) -> None:
            if progress is not None:
                progress(video, done, total)

        try:
            result = predict_video(model, video, options, key=key, folder=folder, progress=step)
        except (MediaError, EthoclipError) as exc:
            result = VideoResult(video, error=str(exc))
        results.append(result)
        if report:
            report(result)
    if export_via is not None:
        from ._bouts import Bout

        entries = []
        for r in results:
            if r.summary is None:
                continue
            bouts = r.summary.get("bout_objects") or [
                Bout(
                    b["label"],
                    b["start"],
                    b["end"],
                    b["mean_score"],
                    b["mean_score"],
                    b.get("class_learned"),
                )
                for b in r.summary["bouts"]
            ]
            entries.append((r.video, bouts))
        project = via_project(
            entries,
            model.classes,
            name=f"ethoclip predictions ({model.name})",
            not_learned=not_learned(model),
        )
        export_via.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(export_via, json.dumps(project))
    return results


def not_learned(model: ClipModel) -> dict[str, str]:
    """Classes validation did not show the model learned, with the reason (for every output)."""
    if model.evidence is None:
        return {}
    return {e["class"]: e["reason"] for e in model.evidence if not e["learned"]}


def remove_objects(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "bout_objects"}


__all__ = [
    "PredictOptions",
    "VideoResult",
    "not_learned",
    "predict",
    "predict_video",
    "remove_objects",
    "videos_in",
]
