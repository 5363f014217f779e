"""Corrected predictions back into a dataset: the correction loop's last step.

``predict --export-via`` writes a VIA 3 project of predicted bouts; the user corrects it in VIA
and passes it to ``prepare`` (or ``validate``) with ``--corrections``. For every video a
correction project annotates, its segments *replace* the session's own annotation of that
video (``replace``, the default: the corrected predictions are the whole truth), or are added to
it (``merge``: the original segments stay, the corrections fill in). Either way the video ends
up claimed by one project, so the "two projects annotate one video" check still guards every
other video, and each use is reported (``Correction``) in the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from ..annotations import Issue, Segment, ViaProject, load_via_project
from ..errors import AnnotationError
from ._options import CorrectionMode

if TYPE_CHECKING:
    from ._inputs import Session

CORRECTION_MODES: tuple[str, ...] = get_args(CorrectionMode)


@dataclass(frozen=True)
class Correction:
    """One video whose annotation came from a corrected project."""

    session: str
    video: str
    project: Path  # the corrected project
    mode: str
    originals: tuple[Path, ...]  # the session's projects that annotated the video before

    def describe(self) -> str:
        was = ", ".join(p.name for p in self.originals) or "no annotation"
        verb = "replaces" if self.mode == "replace" else "is merged with"
        return f"{self.session}/{self.video}: {self.project.name} {verb} {was}"


def correction_files(paths: Sequence[Path]) -> tuple[list[Path], list[Issue]]:
    """The VIA projects named: files, or every ``*.json`` in folders."""
    found: list[Path] = []
    issues: list[Issue] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(path.glob("*.json"))
            if not inside:
                issues.append(
                    Issue(
                        "error",
                        path,
                        "corrections",
                        "no VIA project (*.json) in this folder",
                        fix="pass the corrected project saved from VIA (Project → Save)",
                    )
                )
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            issues.append(
                Issue(
                    "error",
                    path,
                    "corrections",
                    "file not found",
                    fix="pass the project written by predict --export-via, after correcting it",
                )
            )
    return found, issues


def _owner(path: Path, video: str, sessions: Sequence[Session]) -> tuple[Session | None, str]:
    """The session a corrected video belongs to: the one the project file lies in, else the
    only session with a video of that name."""
    resolved = path.resolve()
    inside = [
        s for s in sessions if video in s.videos and resolved.is_relative_to(s.root.resolve())
    ]
    if len(inside) == 1:
        return inside[0], ""
    having = [s for s in sessions if video in s.videos]
    if len(having) == 1:
        return having[0], ""
    if not having:
        return None, "no session under ROOT has a video of this name"
    names = ", ".join(s.name for s in having)
    return None, f"sessions {names} all have a video of this name"


def _relabel(
    segments: Sequence[Segment], attributes_of: dict[str, set[str]], attributes: set[str]
) -> list[Segment]:
    """Predicted labels are class names; give them the attribute the original annotation used,
    so a corrected ``sit`` is the same class as an annotated ``sit`` (and ``action=sit`` is
    ``sit`` under ``action``)."""
    out = []
    for segment in segments:
        pairs = []
        for attribute, label in segment.labels:
            head, _, tail = label.partition("=")
            if tail and head in attributes:
                pairs.append((head, tail))
            elif len(attributes_of.get(label, ())) == 1:
                pairs.append((next(iter(attributes_of[label])), label))
            else:
                pairs.append((attribute, label))
        out.append(Segment(segment.mid, segment.video, segment.start, segment.end, tuple(pairs)))
    return out


def _key(s: Segment) -> tuple[float, float, tuple[tuple[str, str], ...]]:
    return (round(s.start, 3), round(s.end, 3), s.labels)


def apply_corrections(
    sessions: Sequence[Session], paths: Sequence[Path], mode: CorrectionMode
) -> tuple[list[Correction], list[Issue]]:
    """Fold corrected projects into the sessions' projects (in place); what was done, and every
    problem (unreadable files, videos no session has)."""
    if mode not in CORRECTION_MODES:
        raise ValueError(f"corrections mode {mode!r}: use one of {', '.join(CORRECTION_MODES)}")
    files, issues = correction_files(paths)
    chosen = {p.resolve() for p in files}
    for session in sessions:  # a correction saved into via/ is a correction, not a second claim
        session.projects[:] = [p for p in session.projects if p.path.resolve() not in chosen]
    originals = [p for s in sessions for p in s.projects]
    attributes_of: dict[str, set[str]] = {}
    for project in originals:
        for segment in project.segments:
            for attribute, label in segment.labels:
                attributes_of.setdefault(label, set()).add(attribute)
    attributes = {a for names in attributes_of.values() for a in names}
    done: list[Correction] = []
    for path in files:
        try:
            corrected = load_via_project(path)
        except AnnotationError as exc:
            issues.append(Issue("error", path, "project", str(exc).split(": ", 1)[-1]))
            continue
        first = True
        for video in dict.fromkeys(corrected.videos):
            segments = corrected.segments_of(video)
            if not segments:
                continue  # listed without a bout: it claims nothing, as in any project
            owner, why = _owner(path, video, sessions)
            if owner is None:
                issues.append(
                    Issue(
                        "error",
                        path,
                        f"file {video!r}",
                        f"corrected video not matched: {why}",
                        fix="put the corrected project inside its session's folder, or pass "
                        "the ROOT that holds the video",
                        video=video,
                    )
                )
                continue
            before = [p for p in owner.projects if p.segments_of(video)]
            kept: list[Segment] = []
            for project in before:
                if mode == "merge":
                    kept += project.segments_of(video)
                project.segments[:] = [s for s in project.segments if s.video != video]
            new = _relabel(segments, attributes_of, attributes)
            seen = {_key(s) for s in kept}
            merged = kept + [s for s in new if _key(s) not in seen]
            owner.projects.append(
                ViaProject(
                    path=path,
                    name=corrected.name,
                    attributes=corrected.attributes,
                    files={k: f for k, f in corrected.files.items() if f.name == video},
                    segments=merged,
                    issues=corrected.issues if first else [],
                )
            )
            first = False
            done.append(Correction(owner.name, video, path, mode, tuple(p.path for p in before)))
    return done, issues
