"""Read VIA 3 video projects (formats.md §1): temporal segments and their labels."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AnnotationError
from ._issues import Issue, Severity

TEMPORAL_ANCHOR = "FILE1_Z2_XY0"
FILE_TYPE_VIDEO = 4
TYPE_TEXT, TYPE_CHECKBOX, TYPE_RADIO, TYPE_SELECT = 1, 2, 3, 4
LOC_LOCAL = 1
# VIA's own default segment length: a segment this long was probably never adjusted.
DEFAULT_SEGMENT_SEC = 1.0


@dataclass(frozen=True)
class ViaAttribute:
    aid: str
    name: str
    anchor_id: str
    type: int
    options: dict[str, str]

    @property
    def is_temporal(self) -> bool:
        return self.anchor_id == TEMPORAL_ANCHOR


@dataclass(frozen=True)
class ViaFile:
    fid: str
    fname: str
    type: int
    loc: int
    src: str

    @property
    def name(self) -> str:
        """The name to match on disk: the bare file name (browsers expose no path)."""
        if self.loc == LOC_LOCAL or not self.src:
            return Path(self.fname).name
        return Path(self.src).name


@dataclass(frozen=True)
class Segment:
    """One temporal segment: [start, end) seconds on the annotated stream's timeline."""

    mid: str
    video: str  # file name as matched on disk
    start: float
    end: float
    labels: tuple[tuple[str, str], ...]  # (attribute name, label), in attribute order

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class ViaProject:
    path: Path
    name: str
    attributes: dict[str, ViaAttribute]
    files: dict[str, ViaFile]
    segments: list[Segment] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    # (place, value) pairs already reported, so a value used by 500 segments is listed once.
    reported: set[tuple[str, str]] = field(default_factory=set, repr=False)

    @property
    def temporal_attributes(self) -> list[ViaAttribute]:
        return [a for a in self.attributes.values() if a.is_temporal]

    @property
    def videos(self) -> list[str]:
        """Names of the video files the project annotates, in file-id order."""
        return [f.name for f in self.files.values() if f.type == FILE_TYPE_VIDEO]

    def segments_of(self, video: str) -> list[Segment]:
        return [s for s in self.segments if s.video == video]


def load_via_project(path: str | os.PathLike[str]) -> ViaProject:
    """Parse one VIA 3 project file.

    Raises AnnotationError when the file is not a VIA 3 project at all; problems inside a valid
    project (bad times, unknown values …) are collected in ``project.issues``.
    """
    path = Path(path)
    data = _read_json(path)
    missing = [k for k in ("attribute", "file", "metadata", "view") if k not in data]
    if missing:
        hint = (
            "it looks like a VIA 2 image project; annotate videos with via_video_annotator (VIA 3)"
            if "_via_img_metadata" in data or "_via_settings" in data
            else "save the project from VIA 3 (Project → Save) and use that file"
        )
        raise AnnotationError(
            f"{path}: not a VIA 3 project: missing key(s) {', '.join(missing)}; {hint}"
        )
    header = data.get("project")
    project = ViaProject(
        path=path,
        name=str((header if isinstance(header, dict) else {}).get("pname") or path.stem),
        attributes={},
        files={},
    )
    _read_attributes(project, data["attribute"])
    _read_files(project, data["file"])
    views = _read_views(project, data["view"])
    _read_segments(project, data["metadata"], views)
    return project


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AnnotationError(f"{path}: file not found; check the path") from None
    except UnicodeDecodeError as exc:
        raise AnnotationError(
            f"{path}: not UTF-8 text (byte {exc.start}); export the project from VIA again"
        ) from None
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot read ({exc.strerror}); check permissions") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
            "the file is damaged or was edited by hand: save it from VIA again"
        ) from None
    if not isinstance(data, dict):
        raise AnnotationError(
            f"{path}: the JSON holds a {type(data).__name__}, not a VIA 3 project object"
        )
    return data


def _as_dict(path: Path, value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AnnotationError(
            f"{path}: '{key}' must be an object of id → entry, found {type(value).__name__}; "
            "save the project from VIA 3 again"
        )
    return value


def _skip(project: ViaProject, where: str, entry: Any) -> None:
    """An entry that is not an object cannot be read: said, never silently dropped."""
    project.issues.append(
        Issue(
            "error",
            project.path,
            where,
            f"entry is not an object (found {type(entry).__name__}); it cannot be read",
            value=_short(entry),
            fix="save the project from VIA again",
        )
    )


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_attributes(project: ViaProject, raw: Any) -> None:
    for aid, a in _as_dict(project.path, raw, "attribute").items():
        if not isinstance(a, dict):
            _skip(project, f"attribute {aid}", a)
            continue
        options = a.get("options") or {}
        project.attributes[str(aid)] = ViaAttribute(
            aid=str(aid),
            name=str(a.get("aname", "")),
            anchor_id=str(a.get("anchor_id", "")),
            type=_int(a.get("type"), 1),
            options={str(k): str(v) for k, v in options.items()}
            if isinstance(options, dict)
            else {},
        )


def _read_files(project: ViaProject, raw: Any) -> None:
    for fid, f in _as_dict(project.path, raw, "file").items():
        if not isinstance(f, dict):
            _skip(project, f"file {fid}", f)
            continue
        project.files[str(fid)] = ViaFile(
            fid=str(f.get("fid", fid)),
            fname=str(f.get("fname", "")),
            type=_int(f.get("type"), FILE_TYPE_VIDEO),
            loc=_int(f.get("loc"), LOC_LOCAL),
            src=str(f.get("src") or ""),
        )


def _read_views(project: ViaProject, raw: Any) -> dict[str, str | None]:
    views: dict[str, str | None] = {}
    for vid, v in _as_dict(project.path, raw, "view").items():
        fid_list = v.get("fid_list") if isinstance(v, dict) else None
        # The temporal segmenter uses the first file of a view; ids may be numbers (demo files).
        first = fid_list[0] if isinstance(fid_list, list) and fid_list else None
        views[str(vid)] = str(first) if isinstance(first, str | int) else None
    return views


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def resolve_labels(attribute: ViaAttribute, value: Any) -> list[str]:
    """Labels meant by ``value`` of ``attribute`` (formats.md §1.4).

    CHECKBOX values are comma-joined option ids; each token maps through ``options`` when it is
    an option id, else it is a free-text timeline row name kept as the label.
    """
    if value is None:
        return []
    text = str(value)
    tokens = text.split(",") if attribute.type == TYPE_CHECKBOX else [text]
    labels = []
    for token in (t.strip() for t in tokens):
        if not token:
            continue
        label = attribute.options.get(token, token).strip()
        if label and label not in labels:
            labels.append(label)
    return labels


def _read_segments(project: ViaProject, raw: Any, views: dict[str, str | None]) -> None:
    temporal = {a.aid: a for a in project.temporal_attributes}
    for mid, m in _as_dict(project.path, raw, "metadata").items():
        _read_segment(project, str(mid), m, views, temporal)
    if not project.files:
        project.issues.append(
            Issue(
                "error",
                project.path,
                "project",
                "the project holds no files",
                fix="add the videos in VIA and annotate them, or remove this file",
            )
        )
    elif not project.segments and not any(i.severity == "error" for i in project.issues):
        project.issues.append(
            Issue(
                "error",
                project.path,
                "project",
                "the project holds no temporal segments",
                fix="annotate behaviours as temporal segments in VIA, or remove this file",
            )
        )


def _read_segment(
    project: ViaProject,
    mid: str,
    m: Any,
    views: dict[str, str | None],
    temporal: dict[str, ViaAttribute],
) -> None:
    """Add metadata entry ``mid`` to the project if it is a temporal segment, or its problems."""
    where = f"metadata {mid}"
    video = ""

    def add(severity: Severity, message: str, value: str = "", fix: str = "") -> None:
        project.issues.append(
            Issue(severity, project.path, where, message, value, fix, video=video)
        )

    if not isinstance(m, dict):
        add("error", "entry is not an object", fix="save the project from VIA again")
        return
    z, xy = m.get("z"), m.get("xy") or []
    temporal_values = isinstance(m.get("av"), dict) and any(str(aid) in temporal for aid in m["av"])
    if not isinstance(z, list) or (z == [] and not xy and temporal_values):
        # VIA always writes a list; an entry that carries behaviour labels but no times was
        # meant to be a segment and would silently vanish.
        if temporal_values or z is not None:
            add(
                "error",
                "entry has behaviour labels but no segment times",
                value=f"z: {_short(z)}",
                fix="re-draw the segment in VIA, or delete the entry",
            )
        return
    if not (len(z) == 2 and not xy):
        return  # file-level metadata, still frames and spatial regions are not segments
    vid = str(m.get("vid", ""))
    fid = views.get(vid)
    file = project.files.get(fid) if fid is not None else None
    if file is None:
        add(
            "error",
            f"segment refers to view {vid!r}, which names no file",
            fix="the project is inconsistent: save it from VIA again",
        )
        return
    video = file.name
    if file.type != FILE_TYPE_VIDEO:
        add(
            "error",
            f"segment on file {file.fname!r}, which is not a video",
            value=f"type {file.type}",
            fix="annotate videos with via_video_annotator",
        )
        return
    times = _times(z)
    if times is None:
        add(
            "error",
            "segment times are not numbers",
            value=_short(z),
            fix="re-draw the segment in VIA",
        )
        return
    start, end = times
    ok = True
    if start < 0:
        add(
            "error",
            "segment starts at a negative time",
            value=f"{start:g} s",
            fix="move the segment's start to 0 or later in VIA",
        )
        ok = False
    if start >= end:
        add(
            "error",
            "segment start is not before its end",
            value=f"[{start:g}, {end:g}]",
            fix="fix the segment's edges in VIA (start before end)",
        )
        ok = False
    labels = _segment_labels(project, where, m.get("av"), temporal, video)
    if not labels:
        add(
            "warning",
            "segment has no label and is not used",
            value=_short(m.get("av", {})),
            fix="give it a behaviour in VIA or delete it",
        )
        return
    if ok and math.isclose(end - start, DEFAULT_SEGMENT_SEC, abs_tol=1e-6):
        add(
            "warning",
            "segment is exactly 1.000 s, VIA's default length: was its end ever set?",
            value=f"[{start:g}, {end:g}]",
        )
    if ok:
        project.segments.append(Segment(mid, file.name, start, end, tuple(labels)))


def _times(z: list[Any]) -> tuple[float, float] | None:
    try:
        start, end = float(z[0]), float(z[1])
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(start) and math.isfinite(end)):
        return None
    return start, end


def _check_option_ids(project: ViaProject, attribute: ViaAttribute, value: Any, video: str) -> None:
    """Values that look like option ids the attribute does not define: reported once per value.

    Free text is legal (timeline rows can be named by typing, formats.md §1.4), but a number
    where the options are numbered is a deleted or mistyped option: it would become a class
    literally called "42". With no options at all, numbers become classes "0", "1" …: a warning.
    """
    if attribute.type not in (TYPE_CHECKBOX, TYPE_RADIO, TYPE_SELECT) or value is None:
        return
    tokens = (
        [t.strip() for t in str(value).split(",")]
        if attribute.type == TYPE_CHECKBOX
        else [str(value).strip()]
    )
    where = f"attribute {attribute.aid} ({attribute.name!r})"
    known = ", ".join(f"{k}={v}" for k, v in attribute.options.items())
    for token in tokens:
        if not token.isdigit() or token in attribute.options or (where, token) in project.reported:
            continue
        project.reported.add((where, token))
        if attribute.options and all(k.isdigit() for k in attribute.options):
            project.issues.append(
                Issue(
                    "error",
                    project.path,
                    where,
                    "a segment uses an option id the attribute does not define",
                    value=token,
                    fix=f"choose one of its options ({known}) in VIA, or add the option back",
                    video=video,
                )
            )
        elif not attribute.options:
            project.issues.append(
                Issue(
                    "warning",
                    project.path,
                    where,
                    f"the attribute defines no options, so the value {token!r} becomes a class "
                    f"named {token!r}",
                    value=token,
                    fix="if these numbers are option ids, define the options in VIA",
                    video=video,
                )
            )


def _segment_labels(
    project: ViaProject, where: str, av: Any, temporal: dict[str, ViaAttribute], video: str
) -> list[tuple[str, str]]:
    if not isinstance(av, dict):
        return []
    labels: list[tuple[str, str]] = []
    for aid, value in av.items():
        if str(aid) in temporal and not isinstance(value, str | int | float):
            project.issues.append(
                Issue(
                    "error",
                    project.path,
                    where,
                    f"the value of attribute {aid!r} is not text",
                    value=_short(value),
                    fix="set the behaviour again in VIA",
                    video=video,
                )
            )
            continue
        if str(aid) in temporal:
            _check_option_ids(project, temporal[str(aid)], value, video)
        attribute = temporal.get(str(aid))
        if attribute is None:
            if str(aid) not in project.attributes:
                project.issues.append(
                    Issue(
                        "warning",
                        project.path,
                        where,
                        f"value for attribute {aid!r}, which the project does not define; ignored",
                        value=str(value),
                        video=video,
                    )
                )
            continue
        for label in resolve_labels(attribute, value):
            if "\n" in label or "\r" in label:
                project.issues.append(
                    Issue(
                        "error",
                        project.path,
                        where,
                        "label contains a line break, which would break label_map.txt",
                        value=repr(label),
                        fix="rename the label in VIA",
                        video=video,
                    )
                )
                continue
            labels.append((attribute.name, label))
    return labels
