"""``ethoclip demo-data``: the embedded synthetic project, in the user's layout.

Three sessions (date + place) of two videos each, annotated in VIA 3 files written the way the
VIA tool writes them. One video has two streams (the browser shows the small one, ffmpeg would
export the larger one, which starts 0.5 s later with fewer frames); one has a variable frame
rate. Every frame carries its index in a top band, so tests can prove which frame a clip holds.
"""

from __future__ import annotations

import json
import os
import string
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..annotations import ViaVideo, build_via_project
from ..errors import DatasetError
from ._scene import BEHAVIOURS, Bout, Scene, plan_bouts
from ._video import AudioSpec, StreamSpec, VideoSpec, cfr_times, write_video

FPS = 12
WIDTH, HEIGHT = 192, 144
SECOND_STREAM_DELAY_SEC = 0.5

# (session folder, video stem, duration s, kind)
VIDEOS = [
    ("Feb/2_2_kt", "020200", 44.0, "plain"),
    ("Feb/2_2_kt", "020230", 38.0, "plain"),
    ("Feb/2_5_park", "020500", 48.0, "two_streams"),
    ("Feb/2_5_park", "020515", 36.0, "plain"),
    ("Mar/3_1_yard", "030100", 42.0, "vfr"),
    ("Mar/3_1_yard", "030130", 40.0, "plain"),
]


@dataclass(frozen=True)
class DemoVideo:
    session: str
    path: Path
    bouts: list[Bout]
    kind: str


def generate_demo_project(out_dir: str | os.PathLike[str], *, seed: int = 0) -> list[DemoVideo]:
    """Write the synthetic project under ``out_dir``; the same seed gives the same files."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DatasetError(
            f"{out}: exists and is not a folder; choose a new folder for the demo data"
        )
    if out.exists() and any(out.iterdir()):
        raise DatasetError(
            f"{out}: folder is not empty; choose a new folder for the demo data (or delete it)"
        )
    rng = np.random.default_rng(seed)
    made: list[DemoVideo] = []
    for session, stem, duration, kind in VIDEOS:
        bouts = plan_bouts(duration, rng)
        scene = Scene(bouts, duration, seed=int(rng.integers(1 << 31)))
        path = out / session / "video" / f"{stem}.mp4"
        write_video(path, _video_spec(scene, duration, kind, rng))
        made.append(DemoVideo(session, path, bouts, kind))
    for session in dict.fromkeys(v.session for v in made):
        videos = [v for v in made if v.session == session]
        project = _via_project(videos, rng)
        via_path = out / session / "via" / f"{videos[0].path.stem[:4]}.json"
        via_path.parent.mkdir(parents=True, exist_ok=True)
        # The VIA tool writes compact JSON; the first session is pretty-printed like a project
        # someone re-saved from an editor, so both forms stay covered.
        indent = 4 if session == made[0].session else None
        via_path.write_text(json.dumps(project, indent=indent), encoding="utf-8")
    return made


def _video_spec(scene: Scene, duration: float, kind: str, rng: np.random.Generator) -> VideoSpec:
    n = int(duration * FPS)
    main = StreamSpec(WIDTH, HEIGHT, cfr_times(n, FPS), render=scene.render, crf=18)
    if kind == "two_streams":
        # The rear camera comes up 0.5 s late on the same clock: fewer frames, later start,
        # and a larger picture, so ffmpeg's default export picks it.
        delay = round(SECOND_STREAM_DELAY_SEC * FPS)
        second = StreamSpec(
            256,
            192,
            cfr_times(n - delay, FPS, SECOND_STREAM_DELAY_SEC),
            crf=18,
            render=scene.render,
        )
        return VideoSpec([main, second], audio=AudioSpec(duration))
    if kind == "vfr":
        steps = rng.choice([1 / 15, 1 / 12, 1 / 10], size=int(duration * 13), p=[0.3, 0.4, 0.3])
        times = np.concatenate([[0.0], np.cumsum(steps)])
        times = times[times < duration - 0.1].round(3).tolist()
        return VideoSpec(
            [
                StreamSpec(
                    WIDTH, HEIGHT, times, time_base=Fraction(1, 1000), render=scene.render, crf=18
                )
            ]
        )
    return VideoSpec([main])


def _mid(vid: str, rng: np.random.Generator) -> str:
    alphabet = string.ascii_letters + string.digits
    return f"{vid}_" + "".join(rng.choice(list(alphabet), 8))


def _via_project(videos: list[DemoVideo], rng: np.random.Generator) -> dict[str, Any]:
    """A VIA 3 project as the tool saves it: option ids as values, VIA's time rounding."""
    return build_via_project(
        [
            ViaVideo(video.path.name, [(bout.label, _via_times(bout)) for bout in video.bouts])
            for video in videos
        ],
        BEHAVIOURS,
        name="dog behaviour",
        creator="VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)",
        description="what the dog does",
        created_ms=1707000000000,
        segment_id=lambda vid: _mid(vid, rng),
    )


def _via_times(bout: Bout) -> list[float]:
    """VIA's numbers: a new segment's start is rounded to 3 decimals; an edited end to 5, and
    pulled back one 0.02 s edge step where it touches the next bout (VIA's usual gap)."""
    start = round(bout.start_sec, 3)
    end = round(bout.end_sec - 0.02, 5) if bout.label != "wag" else round(bout.end_sec, 5)
    return [int(start) if start == int(start) else start, end]
