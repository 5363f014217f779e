"""Check parsed VIA projects against the videos they annotate; collect every problem."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ._issues import Issue
from ._via import Segment, ViaProject


@dataclass(frozen=True)
class VideoFacts:
    """What validation needs to know about one video on disk (filled in by the caller)."""

    path: Path
    annotated_end_sec: float  # end of the stream the annotator saw (its last frame's end)
    timeline_end_sec: float  # the browser's duration: the longest stream or the container
    frame_sec: float


def validate_projects(
    projects: Sequence[ViaProject],
    videos: Mapping[str, VideoFacts | None],
    *,
    video_dir: Path,
    known_labels: Iterable[str] | None = None,
    class_name_of: Mapping[tuple[str, str], str] | None = None,
) -> list[Issue]:
    """Every problem of one session's projects, given what is known of its videos.

    ``videos`` maps each video file name to its facts, or to None when it is missing or
    unreadable (the caller reports why). ``known_labels`` (e.g. a label map the user fixed) turns
    any other label into an error.
    """
    issues: list[Issue] = []
    claims: dict[str, tuple[ViaProject, list[Segment]]] = {}
    known = set(known_labels) if known_labels is not None else None
    for project in projects:
        issues.extend(project.issues)
        issues.extend(_duplicate_files(project))
        for name in dict.fromkeys(project.videos):
            found = _check_video(project, name, videos, claims, video_dir)
            issues.extend(replace(i, video=name) for i in found)
        if known is not None and class_name_of is not None:
            for segment in project.segments:
                for pair in segment.labels:
                    if class_name_of[pair] not in known:
                        issues.append(
                            Issue(
                                "error",
                                project.path,
                                f"metadata {segment.mid}",
                                "label is not in the label map",
                                value=class_name_of[pair],
                                fix="add it to the label map or rename the segment in VIA",
                                video=segment.video,
                            )
                        )
    return issues


def _check_video(
    project: ViaProject,
    name: str,
    videos: Mapping[str, VideoFacts | None],
    claims: dict[str, tuple[ViaProject, list[Segment]]],
    video_dir: Path,
) -> list[Issue]:
    """Problems of one video of one project: missing, times out of range, claimed twice."""
    issues = []
    segments = project.segments_of(name)
    where = f"file {name!r}"
    if name not in videos:
        issues.append(
            Issue(
                "error",
                project.path,
                where,
                "video not found",
                value=str(video_dir / name),
                fix=f"put the video in {video_dir} or correct its name in the project",
            )
        )
    facts = videos.get(name)
    if facts is not None:  # None: missing, or unreadable (the caller says why)
        issues.extend(_check_times(project, segments, facts))
    if not segments:
        return issues  # a project that lists a video without annotating it claims nothing
    if name not in claims:
        claims[name] = (project, segments)
    elif _same(segments, claims[name][1]):
        issues.append(
            Issue(
                "warning",
                project.path,
                where,
                f"the same segments are also in {claims[name][0].path.name}; used once",
            )
        )
    else:
        other, other_segments = claims[name]
        issues.append(
            Issue(
                "error",
                project.path,
                where,
                f"{other.path.name} annotates this video differently "
                f"({len(other_segments)} vs {len(segments)} segments)",
                fix="merge the two projects in VIA or delete the outdated one",
            )
        )
    return issues


def _same(a: list[Segment], b: list[Segment]) -> bool:
    key = lambda s: (s.video, round(s.start, 3), round(s.end, 3), s.labels)  # noqa: E731
    return sorted(map(key, a)) == sorted(map(key, b))


def _duplicate_files(project: ViaProject) -> list[Issue]:
    seen: dict[str, str] = {}
    issues = []
    for fid, f in project.files.items():
        if f.name in seen:
            issues.append(
                Issue(
                    "error",
                    project.path,
                    f"file {fid}",
                    f"file name also used by file {seen[f.name]}: segments cannot be told apart",
                    value=f.name,
                    fix="keep one entry per video in the project",
                )
            )
        seen.setdefault(f.name, fid)
    return issues


def _check_times(project: ViaProject, segments: list[Segment], facts: VideoFacts) -> list[Issue]:
    issues = []
    for s in segments:
        where = f"metadata {s.mid}"
        value = f"[{s.start:g}, {s.end:g}] s"
        if s.start >= facts.annotated_end_sec:
            issues.append(
                Issue(
                    "error",
                    project.path,
                    where,
                    f"segment starts after the video ends ({facts.annotated_end_sec:.3f} s)",
                    value=value,
                    fix="was it annotated on another video? check the file name",
                )
            )
        elif s.end > facts.timeline_end_sec + 0.1:
            issues.append(
                Issue(
                    "error",
                    project.path,
                    where,
                    f"segment ends after the video's timeline ({facts.timeline_end_sec:.3f} s)",
                    value=value,
                    fix="was it annotated on another video? check the file name",
                )
            )
        elif s.end > facts.annotated_end_sec + facts.frame_sec:
            issues.append(
                Issue(
                    "warning",
                    project.path,
                    where,
                    f"segment runs past the last video frame ({facts.annotated_end_sec:.3f} s; "
                    "the browser's timeline includes a longer audio track); the rest is not used",
                    value=value,
                )
            )
    return issues
