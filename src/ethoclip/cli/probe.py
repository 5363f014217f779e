"""ethoclip probe: every stream of each video, the browser's and ffmpeg's stream, warnings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import MediaError
from ..media import VideoProbe, probe_video
from ._common import add_command


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "probe",
        help="show every stream of videos: frames, times, fps, stream choice",
        example="ethoclip probe video/020500.mp4 --json",
    )
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.add_argument("--json", action="store_true", help="one JSON object per line per video")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Probe every file; one that cannot be read is reported and the others still are."""
    failures = 0
    for path in args.videos:
        try:
            probe = probe_video(path)
        except MediaError as exc:
            if len(args.videos) == 1:
                raise
            failures += 1
            print(f"error: {exc}", file=sys.stderr, flush=True)
            continue
        if args.json:
            print(json.dumps(probe.to_json()), flush=True)
        else:
            print_probe(probe)
    if failures:
        print(
            f"error: {failures} of {len(args.videos)} files could not be probed (above)",
            file=sys.stderr,
        )
        return 2 if failures == len(args.videos) else 1
    return 0


def print_probe(probe: VideoProbe) -> None:
    """A plain aligned table (readable in a pipe or a log, where rich would squeeze it)."""
    print(f"{probe.path}  ({probe.format_name.split(',')[0]}, {_num(probe.duration)} s)")
    header = (
        "#",
        "type",
        "codec",
        "size",
        "frames",
        "header",
        "start s",
        "end s",
        "fps",
        "vfr",
        "default",
        "notes",
    )
    rows = [header]
    for s in probe.streams:
        notes = []
        if s.index == probe.annotated_stream:
            notes.append("browser/VIA" if probe.browser_playable else "VIA? (no browser plays it)")
        if s.index == probe.export_stream:
            notes.append("ffmpeg default")
        if s.attached_pic:
            notes.append("cover art")
        if s.rotation:
            notes.append(f"rotated {s.rotation:g}°")
        flag = lambda b: "yes" if b else ""  # noqa: E731
        if s.is_video:
            rows.append(
                (
                    str(s.index),
                    s.type,
                    s.codec or "?",
                    f"{s.width}x{s.height}",
                    str(s.frames),
                    str(s.header_frames or "n/a"),
                    _num(s.first_pts),
                    _num(s.end_time),
                    _num(float(s.fps_exact) if s.frames else None),
                    flag(s.vfr),
                    flag(s.default),
                    ", ".join(notes),
                )
            )
        else:
            end = (s.start_time or 0) + (s.header_duration or 0)
            rows.append(
                (
                    str(s.index),
                    s.type,
                    s.codec or "?",
                    "",
                    "",
                    "",
                    _num(s.start_time),
                    _num(end),
                    "",
                    "",
                    flag(s.default),
                    ", ".join(notes),
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(("  " + "  ".join(cells)).rstrip())
    for warning in probe.warnings:
        print(f"  warning: {warning}")
    print()


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
