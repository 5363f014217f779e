"""Turn validated inputs into a plan: per video, the stream, time map, windows and frames."""

from __future__ import annotations

import hashlib
import json
import string
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..annotations import LabelInterval, label_intervals
from ..errors import DatasetError, MediaError
from ..media import (
    TIME_TOLERANCE_SEC,
    StreamInfo,
    TimeMap,
    VideoProbe,
    choose_time_map,
    display_size,
    even_size_for_short_side,
    frame_index_at,
)
from ._inputs import Inputs, Session
from ._names import safe_name
from ._windows import Window, WindowMode, plan_windows

DEFAULT_NAME_TEMPLATE = "{session}_{video}_start{start}_{labels}"
NAME_FIELDS = ("session", "video", "via", "start", "end", "labels", "index")
BACKGROUND_NAME = "background"

DROP_BACKGROUND = "no label (background dropped)"
DROP_PAST_END = "would run past the end of the video"
DROP_BEFORE_SOURCE = "before the source stream starts"
DROP_AFTER_SOURCE = "after the source stream ends"


@dataclass(frozen=True)
class PlanOptions:
    clip_len: float = 4.0
    stride: float | None = None
    windows: WindowMode = "segments"
    min_overlap: float = 0.5
    background: str = "drop"  # drop | keep
    stream: str = "annotated"  # annotated | best | N
    time_map: str = "auto"
    fps: float | None = None
    short_side: int | None = 256
    name_template: str = DEFAULT_NAME_TEMPLATE
    crf: int = 20
    preset: str = "veryfast"


@dataclass(frozen=True)
class ClipPlan:
    name: str
    path: str  # relative to the dataset folder
    window: Window
    source_start: float
    source_end: float
    indices: np.ndarray  # source frame index of each output frame
    fps: Fraction
    width: int
    height: int
    recipe: str  # hash of everything the clip's pixels depend on

    @property
    def num_frames(self) -> int:
        return int(self.indices.size)


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


def check_name_template(template: str) -> None:
    """Reject unknown ``{fields}`` up front, naming the allowed ones."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise DatasetError(f"--name-template {template!r} is malformed ({exc})") from None
    unknown = [f for f in fields if f.split(".")[0].split("[")[0] not in NAME_FIELDS]
    if unknown:
        raise DatasetError(
            f"--name-template {template!r} uses unknown field(s) {', '.join(unknown)}; "
            f"use {', '.join('{' + f + '}' for f in NAME_FIELDS)}"
        )


def choose_source_stream(probe: VideoProbe, choice: str) -> tuple[StreamInfo, str | None]:
    """The stream whose pixels are exported, and a note when the choice needed interpreting.

    ``annotated``: the stream VIA showed. ``best``: the largest picture (then most frames).
    ``N``: absolute stream index N; a file with a single video stream uses that one (noted),
    so one option serves a tree where only some cameras write two streams.
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
    try:
        index = int(choice)
    except ValueError:
        raise DatasetError(
            f"--stream {choice!r} is not valid; use annotated, best or a stream index"
        ) from None
    streams = [s for s in probe.video_streams if s.frames]
    if len(streams) == 1 and streams[0].index != index:
        return streams[0], (
            f"--stream {index}: the file has one video stream ({streams[0].index}), used instead"
        )
    return probe.stream(index), None


def output_fps(source: StreamInfo, fps: float | None) -> Fraction:
    """The clips' constant rate: ``--fps``, else the source's rate (rounded if it is VFR)."""
    if fps:
        return Fraction(fps).limit_denominator(1001)
    rate = source.avg_fps or 1.0 / source.frame_duration
    if source.vfr:
        return Fraction(max(1, round(rate)))
    return Fraction(rate).limit_denominator(1001)


def format_start(seconds: float) -> str:
    """12 → "12.0", 12.25 → "12.25", 12.0333 → "12.033" (the user's clip names use start12.0)."""
    text = f"{round(seconds, 3):.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def plan_dataset(inputs: Inputs, options: PlanOptions, *, skip: set[str]) -> list[VideoPlan]:
    """Plan every usable video; ``skip`` holds "session/video" keys left out as invalid."""
    check_name_template(options.name_template)
    plans: list[VideoPlan] = []
    for session, video in inputs.annotated_videos():
        key = f"{session.name}/{video}"
        if key in skip:
            continue
        project = next(p for p in session.projects if video in p.videos and p.segments_of(video))
        plans.append(_plan_video(session, video, project.path, inputs, options))
    _check_names(plans)
    return plans


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
        raise DatasetError(f"{exc} (--stream {options.stream})") from None
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
        clip_len=options.clip_len,
        stride=options.stride,
        mode=options.windows,
        min_overlap=options.min_overlap,
    )
    plan.drops[DROP_PAST_END] += past_end
    fps = output_fps(source, options.fps)
    num_frames = round(options.clip_len * fps)
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
        first = int(frame_index_at(pts, start_b))
        # Output frame k shows the source frame on screen k/fps after the window's first frame.
        times = pts[first] + np.arange(num_frames) / float(fps)
        if times[-1] >= source_end - TIME_TOLERANCE_SEC:
            plan.drops[DROP_AFTER_SOURCE] += 1
            continue
        indices = frame_index_at(pts, times).astype(np.int64)
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
                source_start=float(pts[first]),
                source_end=float(pts[first]) + num_frames / float(fps),
                indices=indices,
                fps=fps,
                width=width,
                height=height,
                recipe=recipe,
            )
        )
    return plan


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
            "add {index} or {end} to --name-template"
        )
