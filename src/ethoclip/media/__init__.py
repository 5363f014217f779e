"""Video media: probing, stream choice and time mapping, frame-exact reading, clip encoding.

No torch here: ``probe``, ``validate`` and ``prepare`` run without the training stack.
"""

from ._encode import (
    CRF_RANGE,
    X264_PRESETS,
    ClipEncoder,
    ClipWriteError,
    check_encoder_settings,
    even_size_for_short_side,
)
from ._probe import check_readable_file, probe_video
from ._reader import VideoReader, read_frames
from ._rotate import display_size, quarter_turns, rotate_rgb, rotate_yuv_frame
from ._seekcheck import seek_decoding_problem
from ._streams import BROWSER_CODECS, BROWSER_CONTAINERS, browser_stream, ffmpeg_default_stream
from ._timemap import (
    TIME_MAP_METHODS,
    TIME_TOLERANCE_SEC,
    TimeMap,
    choose_time_map,
    frame_index_at,
    window_frame_indices,
)
from ._types import StreamInfo, VideoProbe

__all__ = [
    "BROWSER_CODECS",
    "BROWSER_CONTAINERS",
    "CRF_RANGE",
    "TIME_MAP_METHODS",
    "TIME_TOLERANCE_SEC",
    "X264_PRESETS",
    "ClipEncoder",
    "ClipWriteError",
    "StreamInfo",
    "TimeMap",
    "VideoProbe",
    "VideoReader",
    "browser_stream",
    "check_encoder_settings",
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
    "seek_decoding_problem",
    "window_frame_indices",
]
