"""Guard: frames decoded after a seek must equal the same frames decoded from the first frame.

A browser plays a file from its start; every clip cutter here seeks. Decoders can depend on
state that only the start of a stream sets (FFmpeg's old-x264 workarounds are switched on by a
version SEI in the first keyframe), and then a seek silently gives other pixels. The reader
already passes what it knows (``StreamInfo.x264_build``); this check catches whatever else
differs, cheaply: it decodes one group of pictures both ways.
"""

from __future__ import annotations

from typing import cast

import av
import numpy as np

from ..errors import MediaError
from ._probe import open_container
from ._reader import VideoReader
from ._types import VideoProbe

# Frames compared, starting at the second keyframe (the first a seek can land on).
_FRAMES = 3
# Decoding is deterministic, so equal frames differ by 0; damaged ones by tens of levels. This
# margin only absorbs rounding in the RGB conversion.
_MAX_MEAN_ABS_DIFF = 1.0


def seek_decoding_problem(probe: VideoProbe, stream_index: int) -> str | None:
    """None when seeking decodes the same pixels as decoding from the start; else what differs."""
    info = probe.stream(stream_index)
    keys = info.keyframe_ticks[info.keyframe_ticks > info.pts_ticks[0]] if info.frames else []
    if len(keys) == 0:
        return None  # one group of pictures: every read starts at the first frame anyway
    first = int(np.searchsorted(info.pts_ticks, keys[0]))
    indices = np.arange(first, min(first + _FRAMES, info.frames))
    if indices.size == 0:
        return None
    try:
        with VideoReader(probe.path, stream_index, probe=probe) as reader:
            after_seek = reader.read_indices(indices)
        from_start = _decode_from_start(probe, stream_index, info.pts_ticks[indices])
    except (MediaError, av.FFmpegError):
        return None  # an unreadable stream is reported by whoever reads it, with its own words
    diffs = [
        float(np.abs(a.astype(np.int16) - b).mean())
        for a, b in zip(after_seek, from_start, strict=True)
    ]
    worst = int(np.argmax(diffs))
    if diffs[worst] <= _MAX_MEAN_ABS_DIFF:
        return None
    return (
        f"stream {stream_index}: frame {int(indices[worst])} decodes differently after a seek "
        f"than from the start (mean difference {diffs[worst]:.1f} levels), so clips would hold "
        "garbled frames; re-encode the video (e.g. ffmpeg -i IN -c:v libx264 -crf 18 OUT.mp4)"
    )


def _decode_from_start(probe: VideoProbe, stream_index: int, ticks: np.ndarray) -> list[np.ndarray]:
    wanted = {int(t) for t in ticks}
    found: dict[int, np.ndarray] = {}
    with open_container(probe.path) as container:
        stream = cast(av.VideoStream, container.streams[stream_index])
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            pts = frame.pts
            if pts in wanted:
                found[pts] = frame.to_ndarray(format="rgb24")
            if len(found) == len(wanted) or (pts is not None and pts > max(wanted)):
                break
    if len(found) != len(wanted):
        raise MediaError(f"{probe.path}: frames missing when decoding from the start")
    return [found[int(t)] for t in ticks]
