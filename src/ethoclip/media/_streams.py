"""Which stream a browser (VIA) shows, which ffmpeg exports, and what to warn about."""

from __future__ import annotations

from ._types import StreamInfo, VideoProbe

# Codecs Google Chrome plays in <video> on every platform (media/base/supported_types.cc).
# HEVC depends on the platform's hardware support, so a file whose first stream is HEVC gets a
# warning instead of a guess.
BROWSER_CODECS = frozenset({"h264", "vp8", "vp9", "av1", "theora"})
# Containers Chrome's <video> opens (FFmpeg demuxer names): MP4/MOV, WebM/Matroska, Ogg.
# AVI, MPEG-TS/PS, FLV and ASF/WMV do not play: VIA cannot have shown such a file as it is.
BROWSER_CONTAINERS = frozenset({"mov", "mp4", "matroska", "webm", "ogg"})


def browser_stream(probe: VideoProbe) -> int | None:
    """The video stream Chrome (hence VIA) plays: formats.md §3.2.

    Chrome enables the first video stream, in index order, that it can decode and that is not
    disabled; "disabled" exists only in MP4/MOV (tkhd enabled = 0, i.e. no ``default``
    disposition) and is ignored when every stream is disabled.
    """
    candidates = [s for s in probe.video_streams if s.codec in BROWSER_CODECS and s.frames]
    if not candidates:
        candidates = [s for s in probe.video_streams if s.frames]
    if not candidates:
        return None
    if probe.is_mov and any(s.default for s in candidates):
        candidates = [s for s in candidates if s.default]
    return candidates[0].index


def browser_playable(probe: VideoProbe) -> bool:
    """True when Chrome plays the file as it is: its container and its shown stream's codec."""
    if not BROWSER_CONTAINERS.intersection(probe.format_name.split(",")):
        return False
    index = probe.annotated_stream
    if index is None:
        return False
    return probe.stream(index).codec in BROWSER_CODECS


def ffmpeg_default_stream(probe: VideoProbe) -> int | None:
    """The video stream ``ffmpeg -i IN OUT`` exports without ``-map`` (``map_auto_video``).

    Score = width*height + 5,000,000 if default; cover art scores 1; ties keep the lowest index.
    """
    best: tuple[int, int] | None = None
    for s in probe.streams:
        if not s.is_video:
            continue
        score = 1 if s.attached_pic else (s.width or 0) * (s.height or 0) + 5_000_000 * s.default
        if best is None or score > best[0]:
            best = (score, s.index)
    return None if best is None else best[1]


def stream_warnings(probe: VideoProbe) -> list[str]:
    """Everything about the file that can shift labels or frames, one readable line each."""
    warnings: list[str] = []
    video = [s for s in probe.video_streams if s.frames]
    if not probe.browser_playable:
        shown = probe.stream(probe.annotated_stream) if probe.annotated_stream is not None else None
        codec = shown.codec if shown is not None else "?"
        container = probe.format_name.split(",")[0]
        warnings.append(
            f"a browser cannot play this file ({codec} in {container}), so VIA annotated a "
            "converted copy whose timeline may differ: cut clips from that copy (the file VIA "
            "opened) instead"
        )
    if len(video) > 1:
        warnings.append(
            f"{len(video)} video streams ({', '.join(str(s.index) for s in video)}): the browser "
            f"(VIA) shows stream {probe.annotated_stream}, ffmpeg exports stream "
            f"{probe.export_stream} by default; ethoclip uses the annotated one unless told"
        )
        if probe.annotated_stream != probe.export_stream:
            warnings.append(
                f"the browser and ffmpeg pick different streams ({probe.annotated_stream} vs "
                f"{probe.export_stream}): clips cut with plain ffmpeg would not match the labels"
            )
        warnings.extend(_pairwise_warnings(video))
    annotated = probe.annotated_stream
    skipped = [
        s
        for s in probe.video_streams
        if annotated is not None and s.index < annotated and s.codec not in BROWSER_CODECS
    ]
    for s in skipped:
        warnings.append(
            f"stream {s.index} ({s.codec}) may or may not play in the annotator's browser; "
            "if VIA showed it, pass the stream explicitly"
        )
    for s in video:
        if s.vfr:
            warnings.append(
                f"stream {s.index} has a variable frame rate (frame spacing "
                f"{_spacing_range(s)}); times are mapped through real timestamps"
            )
        if s.header_frames is None:
            warnings.append(
                f"stream {s.index}: the header has no frame count (counted: {s.frames})"
            )
        elif s.header_frames != s.frames:
            warnings.append(
                f"stream {s.index}: the header says {s.header_frames} frames but {s.frames} are "
                "shown (edit list or damaged index); ethoclip uses the real count"
            )
        if s.rotation:
            warnings.append(
                f"stream {s.index} is displayed rotated by {s.rotation:g}° (the browser turns "
                "it): prepare turns clips upright, other tools may not"
            )
        if not s.decodable:
            warnings.append(f"stream {s.index} ({s.codec}) could not be decoded by this FFmpeg")
    end = max((s.end_time or 0.0) for s in video) if video else 0.0
    for s in probe.streams:
        if s.type == "audio" and s.start_time is not None and s.header_duration is not None:
            audio_end = s.start_time + s.header_duration
            frame = min(v.frame_duration for v in video) if video else 0.0
            if audio_end > end + max(frame, 0.1):
                warnings.append(
                    f"audio stream {s.index} runs {audio_end - end:.3f} s past the last video "
                    "frame: the browser's timeline (and VIA's segments) can extend past the video"
                )
    return warnings


def _pairwise_warnings(video: list[StreamInfo]) -> list[str]:
    warnings = []
    ref = video[0]
    for s in video[1:]:
        frame = max(ref.frame_duration, s.frame_duration)
        a0, b0 = ref.first_pts or 0.0, s.first_pts or 0.0
        if abs(a0 - b0) > frame:
            warnings.append(
                f"streams {ref.index} and {s.index} start {abs(a0 - b0):.3f} s apart "
                f"({a0:.3f} s vs {b0:.3f} s)"
            )
        da, db = ref.duration or 0.0, s.duration or 0.0
        if abs(da - db) > frame:
            warnings.append(
                f"streams {ref.index} and {s.index} differ in duration by {abs(da - db):.3f} s "
                f"({da:.3f} s, {ref.frames} frames vs {db:.3f} s, {s.frames} frames)"
            )
    return warnings


def _spacing_range(s: StreamInfo) -> str:
    import numpy as np

    diffs = np.diff(s.pts)
    return f"{diffs.min() * 1000:.1f}–{diffs.max() * 1000:.1f} ms"
