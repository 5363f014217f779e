"""Plan a dataset without writing anything: per video the stream, time map, windows and frames;
then labels, splits and one ``ClipRecord`` per clip. ``--dry-run`` is this plan and its summary.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath

import av
import numpy as np

from ..annotations import Issue, LabelInterval, label_intervals
from ..errors import DatasetError, MediaError
from ..media import (
    TIME_TOLERANCE_SEC,
    StreamInfo,
    TimeMap,
    VideoProbe,
    choose_time_map,
    display_size,
    even_size_for_short_side,
    window_frame_indices,
)
from ._inputs import Inputs, Session, load_inputs
from ._names import safe_name
from ._options import PlanOptions, PrepareOptions
from ._records import ClipRecord, read_label_map
from ._split import split_groups
from ._windows import Window, plan_windows

BACKGROUND_NAME = "background"
DROP_BACKGROUND = "no label (background dropped)"
DROP_PAST_END = "would run past the end of the video"
DROP_BEFORE_SOURCE = "before the source stream starts"
DROP_AFTER_SOURCE = "after the source stream ends"


class InvalidInputError(DatasetError):
    """Validation found errors; nothing was written. ``issues`` holds every problem."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        n = sum(1 for i in issues if i.severity == "error")
        super().__init__(
            f"{n} problem(s) in the input (listed above); nothing was written: fix them, or "
            "set skip_invalid (--skip-invalid) to leave the affected videos out"
        )


@dataclass(frozen=True)
class ClipPlan:
    name: str
    path: str  # relative to the dataset folder
    window: Window
    source_start: float
    indices: np.ndarray  # source frame index of each output frame
    fps: Fraction
    width: int
    height: int
    recipe: str  # hash of everything the clip's pixels depend on

    @property
    def num_frames(self) -> int:
        return int(self.indices.size)

    @property
    def source_end(self) -> float:
        return self.source_start + self.num_frames / float(self.fps)


@dataclass
class VideoPlan:
    session: Session
    video: str  # file name
    via_file: Path
    probe: VideoProbe
    annotated: StreamInfo
    source: StreamInfo
    time_map: TimeMap
    intervals: list[LabelInterval]
    clips: list[ClipPlan] = field(default_factory=list)
    drops: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.session.name}/{self.video}"

    @property
    def path(self) -> Path:
        return self.session.videos[self.video]


@dataclass
class DatasetPlan:
    """Everything a run would write, decided before anything is written."""

    root: Path
    options: PrepareOptions
    inputs: Inputs
    videos: list[VideoPlan]
    labels: list[str]
    split_of_video: dict[str, str]  # "session/video" → split
    split_notes: list[str]
    records: list[ClipRecord]
    skipped: list[str]  # "session/video" left out by --skip-invalid


def video_key(record: ClipRecord) -> str:
    """The "session/video" key of the video a record was cut from (as ``VideoPlan.key``)."""
    return f"{record.session}/{PurePosixPath(record.source_video).name}"


def choose_source_stream(probe: VideoProbe, choice: str | int) -> tuple[StreamInfo, str | None]:
    """The stream whose pixels are exported, and a note when the choice needed interpreting.

    ``annotated``: the stream VIA showed. ``best``: the largest picture (then most frames).
    An index N: absolute stream index N; a file with a single video stream uses that one
    (noted), so one option serves a tree where only some cameras write two streams.
    """
    if choice == "annotated":
        if probe.annotated_stream is None:
            raise MediaError(f"{probe.path}: no stream a browser could have shown")
        return probe.stream(probe.annotated_stream), None
    if choice == "best":
        best = max(
            probe.video_streams,
            key=lambda s: ((s.width or 0) * (s.height or 0), s.frames, -s.index),
        )
        return best, None
    index = int(choice)
    streams = [s for s in probe.video_streams if s.frames]
    if len(streams) == 1 and streams[0].index != index:
        return streams[0], (
            f"stream {index}: the file has one video stream ({streams[0].index}), used instead"
        )
    return probe.stream(index), None


def output_fps(source: StreamInfo, fps: float | None) -> Fraction:
    """The clips' constant rate: ``fps``, else the source's measured rate (rounded if VFR)."""
    if fps:
        return Fraction(fps).limit_denominator(1001)
    rate = source.fps_exact
    if source.vfr:
        return Fraction(max(1, round(rate)))
    return rate


def format_start(seconds: float) -> str:
    """12 → "12.0", 12.25 → "12.25", 12.0333 → "12.033" (the user's clip names use start12.0)."""
    text = f"{round(seconds, 3):.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def plan_dataset(
    root: str | os.PathLike[str], options: PrepareOptions, *, workers: int
) -> DatasetPlan:
    """Validate everything under ``root`` and plan the dataset; raises before any write."""
    root = Path(root)
    fixed_labels = read_label_map(options.label_map) if options.label_map else None
    inputs = load_inputs(
        root,
        workers=workers,
        known_labels=fixed_labels,
        corrections=options.corrections,
        corrections_mode=options.corrections_mode,
    )
    if inputs.errors and not options.skip_invalid:
        raise InvalidInputError(inputs.issues)
    skip = inputs.invalid_videos if options.skip_invalid else set()
    videos: list[VideoPlan] = []
    for session, video in inputs.annotated_videos():
        if f"{session.name}/{video}" in skip:
            continue
        project = next(p for p in session.projects if video in p.videos and p.segments_of(video))
        videos.append(_plan_video(session, video, project.path, inputs, options.plan))
    _check_names(videos)
    if not any(v.clips for v in videos):
        raise DatasetError(
            f"{root}: no clip to write ({_drop_text(videos)}); check the annotations, or use "
            "background=keep, windows=video or a shorter clip_sec "
            "(--background, --windows, --clip-len)"
        )
    labels = fixed_labels or sorted({i.label for v in videos for i in v.intervals})
    split_of_group, split_notes = _split(videos, options)
    split_of_video = {v.key: split_of_group[_group(v, options)] for v in videos}
    ids = {name: i for i, name in enumerate(labels)}
    records = [
        _record(v, clip, split_of_video[v.key], ids, root) for v in videos for clip in v.clips
    ]
    return DatasetPlan(
        root=root,
        options=options,
        inputs=inputs,
        videos=videos,
        labels=labels,
        split_of_video=split_of_video,
        split_notes=split_notes,
        records=records,
        skipped=sorted(skip),
    )


def _plan_video(
    session: Session, video: str, via_file: Path, inputs: Inputs, options: PlanOptions
) -> VideoPlan:
    probe = session.probes[video]
    annotated = probe.stream(
        probe.annotated_stream
        if probe.annotated_stream is not None
        else probe.video_streams[0].index
    )
    try:
        source, stream_note = choose_source_stream(probe, options.stream)
    except MediaError as exc:
        raise DatasetError(f"{exc} (option stream={options.stream})") from None
    time_map, notes = choose_time_map(annotated, source, options.time_map)
    if stream_note:
        notes.insert(0, stream_note)
    project = next(p for p in session.projects if p.path == via_file)
    intervals = label_intervals(project.segments_of(video), inputs.class_name_of)
    plan = VideoPlan(
        session,
        video,
        via_file,
        probe,
        annotated,
        source,
        time_map,
        intervals,
        notes=list(notes) + list(probe.warnings),
    )
    windows, past_end = plan_windows(
        intervals,
        video_start=annotated.first_pts or 0.0,
        video_end=annotated.end_time or 0.0,
        clip_sec=options.clip_sec,
        stride_sec=options.stride,
        mode=options.windows,
        min_overlap=options.min_overlap,
    )
    plan.drops[DROP_PAST_END] += past_end
    fps = output_fps(source, options.fps)
    num_frames = round(options.clip_sec * fps)
    # Clips show the picture upright, as the annotator saw it in the browser.
    upright = display_size(source.width or 2, source.height or 2, source.turns)
    width, height = even_size_for_short_side(*upright, options.short_side)
    pts = source.pts
    source_end = source.end_time or 0.0
    stem = safe_name(Path(video).stem)
    fingerprint = _source_fingerprint(plan.path)
    for index, window in enumerate(windows):
        if window.is_background and options.background == "drop":
            plan.drops[DROP_BACKGROUND] += 1
            continue
        start_b = time_map.to_source(window.start)
        if start_b < pts[0] - TIME_TOLERANCE_SEC:
            plan.drops[DROP_BEFORE_SOURCE] += 1
            continue
        # The last output frame must still be on screen before the source's last frame ends.
        if start_b + (num_frames - 1) / float(fps) >= source_end - TIME_TOLERANCE_SEC:
            plan.drops[DROP_AFTER_SOURCE] += 1
            continue
        indices = window_frame_indices(pts, start_b, num_frames, fps)
        labels = "+".join(window.labels) or BACKGROUND_NAME
        name = safe_name(
            options.name_template.format(
                session=session.name,
                video=stem,
                via=safe_name(via_file.stem),
                start=format_start(window.start),
                end=format_start(window.end),
                labels=labels,
                index=index,
            )
        )
        recipe = _recipe(
            fingerprint, source.index, indices, width, height, fps, source.turns, options
        )
        plan.clips.append(
            ClipPlan(
                name=name,
                path=f"clips/{safe_name(via_file.stem)}/{name}.mp4",
                window=window,
                source_start=float(start_b),
                indices=indices,
                fps=fps,
                width=width,
                height=height,
                recipe=recipe,
            )
        )
    return plan


def _record(
    plan: VideoPlan, clip: ClipPlan, split: str, ids: dict[str, int], root: Path
) -> ClipRecord:
    return ClipRecord(
        clip=clip.path,
        split=split,
        labels=tuple(clip.window.labels),
        label_ids=tuple(ids[name] for name in clip.window.labels),
        session=plan.session.name,
        source_video=plan.path.relative_to(root).as_posix(),
        # A corrected project (--corrections) may live outside ROOT: then its full path.
        via_file=(
            plan.via_file.relative_to(root).as_posix()
            if plan.via_file.is_relative_to(root)
            else plan.via_file.resolve().as_posix()
        ),
        segment_ids=tuple(clip.window.segment_ids),
        annotated_stream=plan.annotated.index,
        source_stream=plan.source.index,
        time_map=plan.time_map.method,
        start=round(clip.window.start, 6),
        end=round(clip.window.end, 6),
        source_start=round(clip.source_start, 6),
        source_end=round(clip.source_end, 6),
        first_source_frame=int(clip.indices[0]),
        last_source_frame=int(clip.indices[-1]),
        num_frames=clip.num_frames,
        fps=round(float(clip.fps), 6),
        fps_exact=str(clip.fps),
        width=clip.width,
        height=clip.height,
        rotation=plan.source.turns * 90,
        recipe=clip.recipe,
        segments=clip_segments(clip.window.start, clip.window.end, plan.intervals, ids),
    )


def clip_segments(
    start: float, end: float, intervals: list[LabelInterval], ids: dict[str, int]
) -> tuple[tuple[int, float, float], ...]:
    """Each labelled interval overlapping [start, end), in seconds from ``start``, clipped.

    Every overlap is kept, also of a class the clip is not labelled with (too little of it):
    per step, that time is the class's, whatever the clip-level rule said."""
    out = []
    for interval in sorted(intervals, key=lambda i: (i.start, i.label)):
        lo, hi = max(start, interval.start), min(end, interval.end)
        if hi > lo and interval.label in ids:
            out.append((ids[interval.label], round(lo - start, 6), round(hi - start, 6)))
    return tuple(out)


def _source_fingerprint(path: Path) -> dict[str, object]:
    st = path.stat()
    return {"name": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _recipe(
    fingerprint: dict[str, object],
    stream: int,
    indices: np.ndarray,
    width: int,
    height: int,
    fps: Fraction,
    turns: int,
    options: PlanOptions,
) -> str:
    data = {
        "source": fingerprint,
        "stream": stream,
        "frames": hashlib.sha256(indices.tobytes()).hexdigest(),
        "size": [width, height],
        "fps": str(fps),
        "turns": turns,
        "crf": options.crf,
        "preset": options.preset,
        "pyav": av.__version__,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def _check_names(plans: list[VideoPlan]) -> None:
    seen: dict[str, str] = {}
    clashes = []
    for plan in plans:
        for clip in plan.clips:
            where = f"{plan.key} at {clip.window.start:.3f} s"
            if clip.path in seen:
                clashes.append(f"{clip.path} ({seen[clip.path]} and {where})")
            seen[clip.path] = where
    if clashes:
        raise DatasetError(
            f"{len(clashes)} clip name(s) would be used twice, e.g. {clashes[0]}; "
            "add {index} or {end} to the name template"
        )


def _drop_text(plans: list[VideoPlan]) -> str:
    drops: Counter[str] = Counter()
    for p in plans:
        drops.update(p.drops)
    return ", ".join(f"{n} {reason}" for reason, n in drops.items() if n) or "no windows"


def _group(plan: VideoPlan, options: PrepareOptions) -> str:
    return plan.session.name if options.split_by == "session" else plan.key


def _split(plans: list[VideoPlan], options: PrepareOptions) -> tuple[dict[str, str], list[str]]:
    counts: dict[str, Counter[str]] = {}
    for plan in plans:
        counter = counts.setdefault(_group(plan, options), Counter())
        for clip in plan.clips:
            counter.update(clip.window.labels or [""])
    return split_groups(
        counts,
        val_fraction=options.val_fraction,
        test_fraction=options.test_fraction,
        seed=options.seed,
    )
