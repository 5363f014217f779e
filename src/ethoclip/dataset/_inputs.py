"""Find sessions under ROOT, parse their VIA projects, probe their videos, validate everything."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..annotations import (
    Issue,
    ViaProject,
    VideoFacts,
    class_names,
    errors,
    load_via_project,
    validate_projects,
)
from ..errors import AnnotationError, DatasetError, MediaError
from ..media import VideoProbe, probe_video, seek_decoding_problem
from ._corrections import Correction, apply_corrections
from ._names import safe_name
from ._options import CorrectionMode

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg"}
)


@dataclass
class Session:
    """A folder of videos and the VIA projects that annotate them."""

    name: str  # unique, safe for file names
    root: Path
    video_dir: Path
    via_dir: Path
    videos: dict[str, Path] = field(default_factory=dict)  # file name → path
    projects: list[ViaProject] = field(default_factory=list)
    probes: dict[str, VideoProbe] = field(default_factory=dict)


@dataclass
class Inputs:
    root: Path
    sessions: list[Session]
    issues: list[Issue]
    class_name_of: dict[tuple[str, str], str]
    invalid_videos: set[str] = field(default_factory=set)  # "session/video" with errors
    corrections: list[Correction] = field(default_factory=list)  # videos a correction annotates

    @property
    def errors(self) -> list[Issue]:
        return errors(self.issues)

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def annotated_videos(self) -> Iterable[tuple[Session, str]]:
        """(session, video name) for every video that has segments and probed cleanly."""
        for session in self.sessions:
            seen: set[str] = set()
            for project in session.projects:
                for name in project.videos:
                    if name in seen or name not in session.probes:
                        continue
                    seen.add(name)
                    yield session, name


def find_sessions(root: Path) -> list[Session]:
    """Sessions under ``root``: folders holding ``via/`` (and normally ``video/``).

    ROOT may be one session, a tree of them, or a folder of VIA JSON files with the videos next
    to them (or in ``video/``).
    """
    if not root.exists():
        raise DatasetError(f"{root}: folder not found; pass the folder that holds your sessions")
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder; pass the folder that holds video/ and via/")
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        if "via" in dirnames:
            found.append((here, here / "video", here / "via"))
            dirnames[:] = [d for d in dirnames if d not in ("via", "video")]
    if not found and any(root.glob("*.json")):
        video_dir = root / "video" if (root / "video").is_dir() else root
        found.append((root, video_dir, root))
    if not found:
        raise DatasetError(
            f"{root}: no session found; a session is a folder with via/*.json (VIA 3 projects) "
            "and video/ (the videos they annotate)"
        )
    leaf_counts: dict[str, int] = {}
    for here, _, _ in found:
        leaf_counts[here.name] = leaf_counts.get(here.name, 0) + 1
    sessions = []
    for here, video_dir, via_dir in found:
        if leaf_counts[here.name] == 1:
            name = safe_name(here.resolve().name)
        else:  # two sessions share a folder name: qualify with the path below ROOT
            name = safe_name("_".join(here.relative_to(root).parts) or here.resolve().name)
        sessions.append(Session(name=name, root=here, video_dir=video_dir, via_dir=via_dir))
    return sessions


def _list_videos(session: Session) -> list[Issue]:
    if not session.video_dir.is_dir():
        return [
            Issue(
                "error",
                session.root,
                "session",
                "no video/ folder next to via/",
                value=str(session.video_dir),
                fix="put the session's videos in a video/ folder",
            )
        ]
    issues = []
    by_stem: dict[str, Path] = {}
    for path in sorted(session.video_dir.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in VIDEO_EXTENSIONS:
            continue
        if path.name in session.videos:
            issues.append(
                Issue(
                    "error",
                    path,
                    "video",
                    "another video in this session has the same file name",
                    value=str(session.videos[path.name]),
                    fix="VIA matches videos by file name: rename one of them",
                    video=path.name,
                )
            )
            continue
        stem = safe_name(path.stem)
        if stem in by_stem:
            issues.append(
                Issue(
                    "error",
                    path,
                    "video",
                    f"clip names for this video would collide with {by_stem[stem].name}",
                    value=stem,
                    fix="rename one of the two videos",
                    video=path.name,
                )
            )
            continue
        by_stem[stem] = path
        session.videos[path.name] = path
    return issues


def _unannotated(session: Session) -> list[Issue]:
    """Videos in video/ that no project annotates: not used, and said so."""
    named = {name for project in session.projects for name in project.videos}
    return [
        Issue(
            "warning",
            path,
            "video",
            "no VIA project annotates this video; it is not used",
            fix="annotate it in VIA (or move it out of video/)",
            video=name,
        )
        for name, path in session.videos.items()
        if name not in named
    ]


def _probe(path: Path) -> tuple[VideoProbe, list[str]] | MediaError:
    """The probe and what decoding after a seek gets wrong (every stream a clip may come from)."""
    try:
        probe = probe_video(path)
    except MediaError as exc:
        return exc
    problems = [seek_decoding_problem(probe, s.index) for s in probe.video_streams if s.frames]
    return probe, [p for p in problems if p]


def _video_issues(
    path: Path, name: str, probe: VideoProbe, seek_problems: list[str]
) -> list[Issue]:
    issues = [
        Issue("error", path, "video", problem, fix="", video=name) for problem in seek_problems
    ]
    if not probe.browser_playable:
        warning = next(w for w in probe.warnings if w.startswith("a browser cannot play"))
        issues.append(Issue("warning", path, "video", warning, video=name))
    return issues


def _load_projects(session: Session) -> list[Issue]:
    issues = []
    paths = sorted(session.via_dir.glob("*.json"))
    for json_path in paths:
        try:
            session.projects.append(load_via_project(json_path))
        except AnnotationError as exc:
            issues.append(Issue("error", json_path, "project", str(exc).split(": ", 1)[-1]))
    if not paths:
        issues.append(
            Issue(
                "error",
                session.via_dir,
                "session",
                "no VIA project (*.json) in via/",
                fix="save the VIA 3 project into via/",
            )
        )
    return issues


def load_inputs(
    root: str | os.PathLike[str],
    *,
    workers: int | None = None,
    known_labels: Sequence[str] | None = None,
    corrections: Sequence[Path] = (),
    corrections_mode: CorrectionMode = "replace",
) -> Inputs:
    """Discover, parse, probe and validate everything under ``root``; never stops at one problem.

    ``known_labels`` (a label map the user fixed) makes any other label an error.
    ``corrections``: corrected prediction projects (``_corrections``) that replace or merge with
    the annotation of the videos they hold.
    """
    root = Path(root)
    sessions = find_sessions(root)
    by_session: dict[str, list[Issue]] = {}
    for session in sessions:
        by_session[session.name] = _load_projects(session) + _list_videos(session)
    applied, correction_issues = apply_corrections(sessions, corrections, corrections_mode)

    wanted = [
        (session, name)
        for session in sessions
        for name in dict.fromkeys(n for p in session.projects for n in p.videos)
        if name in session.videos
    ]
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        results = list(pool.map(lambda sn: _probe(sn[0].videos[sn[1]]), wanted))
    facts: dict[str, dict[str, VideoFacts | None]] = {s.name: {} for s in sessions}
    for (session, name), result in zip(wanted, results, strict=True):
        if isinstance(result, MediaError):
            by_session[session.name].append(
                Issue(
                    "error",
                    session.videos[name],
                    "video",
                    str(result).split(": ", 1)[-1],
                    fix="re-copy or re-encode the video",
                    video=name,
                )
            )
            facts[session.name][name] = None
        else:
            probe, seek_problems = result
            by_session[session.name] += _video_issues(
                session.videos[name], name, probe, seek_problems
            )
            session.probes[name] = probe
            facts[session.name][name] = _facts(probe)

    names = class_names(s for session in sessions for p in session.projects for s in p.segments)
    invalid: set[str] = set()
    for session in sessions:
        known: dict[str, VideoFacts | None] = dict.fromkeys(session.videos)
        known.update(facts[session.name])
        by_session[session.name] += validate_projects(
            session.projects,
            known,
            video_dir=session.video_dir,
            known_labels=known_labels,
            class_name_of=names,
        )
        by_session[session.name] += _unannotated(session)
        invalid |= {
            f"{session.name}/{i.video}" for i in errors(by_session[session.name]) if i.video
        }
    issues = correction_issues + [i for session in sessions for i in by_session[session.name]]
    return Inputs(
        root=root,
        sessions=sessions,
        issues=issues,
        class_name_of=names,
        invalid_videos=invalid,
        corrections=applied,
    )


def _facts(probe: VideoProbe) -> VideoFacts:
    index = probe.annotated_stream
    stream = probe.stream(index) if index is not None else probe.video_streams[0]
    ends = [s.end_time or 0.0 for s in probe.streams if s.end_time is not None]
    if probe.start_time is not None and probe.duration is not None:
        ends.append(probe.start_time + probe.duration)
    return VideoFacts(
        path=probe.path,
        annotated_end_sec=stream.end_time or 0.0,
        timeline_end_sec=max(ends),
        frame_sec=stream.frame_duration,
    )
