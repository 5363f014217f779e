"""The embedded synthetic project (demo data) and the synthetic-video tools it is made with."""

from ._framecode import read_frame_code, stamp_frame_code
from ._project import FPS, SECOND_STREAM_DELAY_SEC, VIDEOS, DemoVideo, generate_demo_project
from ._scene import BEHAVIOURS, Bout

__all__ = [
    "BEHAVIOURS",
    "FPS",
    "SECOND_STREAM_DELAY_SEC",
    "VIDEOS",
    "Bout",
    "DemoVideo",
    "generate_demo_project",
    "read_frame_code",
    "stamp_frame_code",
]
