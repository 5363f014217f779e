"""Video media: probing, stream choice and time mapping, frame-exact reading, clip encoding.

No torch here: ``probe``, ``validate`` and ``prepare`` run without the training stack.
"""

from ._encode import ClipEncoder, ClipWriteError, even_size_for_short_side
from ._probe import StreamInfo, VideoProbe, check_readable_file, probe_video
from ._reader import VideoReader, read_frames
from ._rotate import display_size, quarter_turns, rotate_rgb, rotate_yuv_frame
from ._streams import BROWSER_CODECS, browser_stream, ffmpeg_default_stream
from ._timemap import (
    TIME_MAP_METHODS,
    TIME_TOLERANCE_SEC,
    TimeMap,
    choose_time_map,
    frame_index_at,
)

__all__ = [
    "BROWSER_CODECS",
    "TIME_MAP_METHODS",
    "TIME_TOLERANCE_SEC",
    "ClipEncoder",
    "ClipWriteError",
    "StreamInfo",
    "TimeMap",
    "VideoProbe",
    "VideoReader",
    "browser_stream",
    "check_readable_file",
    "choose_time_map",
    "display_size",
    "even_size_for_short_side",
    "ffmpeg_default_stream",
    "frame_index_at",
    "probe_video",
    "quarter_turns",
    "read_frames",
    "rotate_rgb",
    "rotate_yuv_frame",
]
