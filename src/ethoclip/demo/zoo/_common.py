"""What every zoo project shares: its description, bout planning, the timeline a scene reads,
and writing a project (videos, VIA 3 files, exact ground truth) in the user's layout."""

from __future__ import annotations

import json
import math
import os
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ...annotations import ViaVideo, build_via_project
from ...errors import DatasetError
from .._scene import Bout
from .._video import StreamSpec, VideoSpec, cfr_times, write_video

GROUND_TRUTH = "ground_truth.json"
SIM_HZ = 120  # the scenes' fine clock; bout edges (multiples of GRID_SEC) fall on its ticks
GRID_SEC = 0.1  # bout edges are multiples of this: exact in VIA's 3-decimal times


class Scene(Protocol):
    def render(self, index: int, time_sec: float, width: int, height: int) -> np.ndarray: ...


@dataclass(frozen=True)
class ZooVideo:
    """``fps`` and ``size`` (width, height): this video's own, where its camera differs from
    the project's usual one (None: the project's)."""

    session: str  # folder under the project root, e.g. "May/5_02_aviary"
    stem: str
    duration_sec: float
    fps: float | None = None
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class ZooProject:
    """A synthetic project: labels, videos, a bout planner and the scene that renders them.

    ``lead_sec``: how long before a bout of that label its scene may already change (an animal
    rising to the surface arrives when ``surface`` starts); zero for every other label.
    """

    name: str
    about: str
    labels: tuple[str, ...]
    fps: float
    width: int
    height: int
    videos: tuple[ZooVideo, ...]
    plan: Callable[[float, np.random.Generator], list[Bout]]
    scene: Callable[[list[Bout], float, int], Scene]
    lead_sec: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ZooMade:
    session: str
    path: Path
    bouts: list[Bout]
    fps: float
    size: tuple[int, int]


def snap(t: float) -> float:
    """``t`` on the bout grid."""
    return round(round(t / GRID_SEC) * GRID_SEC, 5)


def plan_sequence(
    duration_sec: float,
    rng: np.random.Generator,
    lengths: Mapping[str, tuple[float, float]],
    *,
    idle: tuple[float, float],
    p_idle: float,
    weights: Mapping[str, float] | None = None,
) -> list[Bout]:
    """Back-to-back bouts of mutually exclusive behaviours, with unlabelled idle spans between
    some of them; every label appears in turn (a shuffled cycle) unless ``weights`` favour
    some. Edges on the bout grid; nothing shorter than 1.1 s (``validate`` flags a 1.000 s
    segment as one whose end was never set)."""
    bouts: list[Bout] = []
    names = list(lengths)
    t = snap(float(rng.uniform(*idle)))
    order: list[str] = []
    while t < duration_sec - 1.5:
        if rng.random() < p_idle:
            t = snap(t + float(rng.uniform(*idle)))
            continue
        if weights is not None:
            p = np.asarray([weights[n] for n in names], float)
            label = str(rng.choice(names, p=p / p.sum()))
        else:
            if not order:
                order = [str(n) for n in rng.permutation(names)]
                if bouts and len(order) > 1 and order[-1] == bouts[-1].label:
                    # No two bouts of one label back to back: an annotator marks one bout.
                    order[0], order[-1] = order[-1], order[0]
            label = order.pop()
        end = min(snap(duration_sec - 0.5), snap(t + float(rng.uniform(*lengths[label]))))
        if end - t >= 1.1:
            bouts.append(Bout(label, t, end))
        t = end
    return bouts


def overlay(
    bouts: list[Bout],
    rng: np.random.Generator,
    label: str,
    *,
    over: Sequence[str | None],
    length: tuple[float, float],
    chance: float,
    duration_sec: float,
    keep_clear_sec: float = 0.0,
) -> list[Bout]:
    """Bouts of ``label`` on top of spans of the ``over`` behaviours (None: idle time), never
    within ``keep_clear_sec`` of any other behaviour; so some windows carry two labels and
    ``label`` also occurs alone."""
    spans = _spans_of(bouts, over, duration_sec)
    made = []
    for start, end in spans:
        start, end = start + keep_clear_sec, end - keep_clear_sec
        if end - start < length[0] or rng.random() >= chance:
            continue
        span = float(rng.uniform(length[0], min(length[1], end - start)))
        begin = snap(start + float(rng.uniform(0.0, end - start - span)))
        finish = min(snap(begin + span), snap(end))
        if finish - begin >= 1.1:
            made.append(Bout(label, begin, finish))
    return sorted(bouts + made, key=lambda b: (b.start_sec, b.label))


def _spans_of(
    bouts: list[Bout], over: Sequence[str | None], duration_sec: float
) -> list[tuple[float, float]]:
    """Maximal runs of time spent in the ``over`` behaviours (None: no behaviour)."""
    ticks = np.arange(0.0, duration_sec, GRID_SEC)
    ok = np.zeros(ticks.size, bool)
    timeline = Timeline(bouts)
    for i, t in enumerate(ticks):
        active = timeline.primary(t + GRID_SEC / 2, [b.label for b in bouts])
        ok[i] = active in over
    spans, start = [], None
    for i, good in enumerate([*ok.tolist(), False]):
        if good and start is None:
            start = i
        elif not good and start is not None:
            spans.append((snap(start * GRID_SEC), snap(i * GRID_SEC)))
            start = None
    return spans


class Timeline:
    """Which bouts are on at a moment: ``[start, end)``, like the windows ``prepare`` cuts."""

    def __init__(self, bouts: Sequence[Bout]) -> None:
        self.bouts = sorted(bouts, key=lambda b: b.start_sec)

    def bout(self, label: str, t: float) -> Bout | None:
        return next(
            (b for b in self.bouts if b.label == label and b.start_sec <= t < b.end_sec), None
        )

    def on(self, label: str, t: float) -> bool:
        return self.bout(label, t) is not None

    def primary(self, t: float, labels: Sequence[str]) -> str | None:
        """The first of ``labels`` on at ``t`` (scenes pass their exclusive behaviours)."""
        return next(
            (b.label for b in self.bouts if b.label in labels and b.start_sec <= t < b.end_sec),
            None,
        )


def sim_index(t: float, size: int) -> int:
    """The fine-clock tick showing moment ``t`` (frame times fall on or between ticks)."""
    return min(size - 1, max(0, math.floor(t * SIM_HZ + 1e-6)))


def generate_zoo_project(
    project: ZooProject, out_dir: str | os.PathLike[str], *, seed: int = 0
) -> list[ZooMade]:
    """Write ``project`` under ``out_dir`` (sessions with ``video/`` and ``via/``) and its exact
    bouts in ``ground_truth.json``; the same seed gives the same project."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: exists and is not a folder; choose a new folder")
    if out.exists() and any(out.iterdir()):
        raise DatasetError(f"{out}: folder is not empty; choose a new folder (or delete it)")
    rng = np.random.default_rng(seed)
    made: list[ZooMade] = []
    for video in project.videos:
        bouts = project.plan(video.duration_sec, rng)
        scene = project.scene(bouts, video.duration_sec, int(rng.integers(1 << 31)))
        path = out / video.session / "video" / f"{video.stem}.mp4"
        fps = video.fps or project.fps
        width, height = video.size or (project.width, project.height)
        times = cfr_times(int(video.duration_sec * fps), fps)
        stream = StreamSpec(width, height, times, render=scene.render, crf=20, frame_code=False)
        write_video(path, VideoSpec([stream]))
        made.append(ZooMade(video.session, path, bouts, fps, (width, height)))
    for session in dict.fromkeys(m.session for m in made):
        videos = [m for m in made if m.session == session]
        via = _via_project(project, videos, rng)
        via_path = out / session / "via" / f"{Path(session).name}.json"
        via_path.parent.mkdir(parents=True, exist_ok=True)
        via_path.write_text(json.dumps(via), encoding="utf-8")
    truth = {
        "project": project.name,
        "labels": list(project.labels),
        "fps": project.fps,
        # Per video: a project may mix cameras (another frame rate, another size).
        "video_fps": {m.path.relative_to(out).as_posix(): m.fps for m in made},
        "video_size": {m.path.relative_to(out).as_posix(): list(m.size) for m in made},
        "videos": {
            m.path.relative_to(out).as_posix(): [
                {"label": b.label, "start": b.start_sec, "end": b.end_sec} for b in m.bouts
            ]
            for m in made
        },
    }
    # Written last and whole (a temporary file renamed): its presence marks a complete project,
    # so a run cut off while rendering leaves a folder that says it is not one.
    tmp = out / f".{GROUND_TRUTH}.tmp"
    tmp.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    os.replace(tmp, out / GROUND_TRUTH)
    return made


def read_ground_truth(root: str | os.PathLike[str]) -> dict[str, list[Bout]]:
    """Video path (relative to the project root) → its bouts, from ``ground_truth.json``."""
    path = Path(root) / GROUND_TRUTH
    if not path.is_file():
        raise DatasetError(f"{path}: not found; is {root} a zoo project (ethoclip demo-data)?")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {
        video: [Bout(b["label"], float(b["start"]), float(b["end"])) for b in bouts]
        for video, bouts in data["videos"].items()
    }


def _via_project(
    project: ZooProject, videos: list[ZooMade], rng: np.random.Generator
) -> dict[str, Any]:
    alphabet = list(string.ascii_letters + string.digits)
    return build_via_project(
        [
            ViaVideo(v.path.name, [(b.label, [b.start_sec, b.end_sec]) for b in v.bouts])
            for v in videos
        ],
        project.labels,
        name=project.name,
        creator="VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
        description=project.about,
        created_ms=1715000000000,
        segment_id=lambda vid: f"{vid}_" + "".join(rng.choice(alphabet, 8)),
    )
