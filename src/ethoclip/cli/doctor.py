"""ethoclip doctor: versions, encoders, devices, and a real encode → probe → decode round trip."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import av

from .. import __version__
from ..demo._framecode import read_frame_code
from ..demo._video import StreamSpec, VideoSpec, cfr_times, write_video
from ..errors import EthoclipError
from ..media import VideoReader, probe_video
from ._common import add_command

H264_ENCODERS = ("libx264", "libopenh264", "h264_nvenc", "h264_vaapi", "h264_qsv")


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "doctor",
        help="check the installation: versions, encoders, GPU, a video round trip",
        example="ethoclip doctor",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(f"ethoclip     {__version__}")
    print(f"python       {platform.python_version()} ({sys.executable})")
    print(f"platform     {platform.platform()}")
    ffmpeg = ".".join(map(str, av.library_versions.get("libavcodec", ())))
    print(f"PyAV         {av.__version__} (libavcodec {ffmpeg})")
    encoders = [e for e in H264_ENCODERS if e in av.codecs_available]
    print(f"H.264 encoders  {', '.join(encoders) or 'none'}")
    for name in ("torch", "torchvision", "lightning", "transformers"):
        print(f"{name:<12} {_version(name)}")
    print(f"GPU          {_gpu()}")
    ok = _round_trip()
    return 0 if ok and "libx264" in encoders else 1


def _version(module: str) -> str:
    try:
        return str(importlib.import_module(module).__version__)
    except ImportError:
        return "not installed (needed for training, not for probe/validate/prepare)"


def _gpu() -> str:
    try:
        import torch
    except ImportError:
        return "unknown (torch not installed)"
    if not torch.cuda.is_available():
        return "none (CPU only)"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return f"CUDA {torch.version.cuda}: {', '.join(names)}"


def _round_trip() -> bool:
    """Encode a small video with frame codes, probe it, decode chosen frames and check them."""
    with tempfile.TemporaryDirectory(prefix="ethoclip-doctor-") as tmp:
        path = Path(tmp) / "roundtrip.mp4"
        try:
            write_video(path, VideoSpec([StreamSpec(96, 64, cfr_times(30, 15))]))
            probe = probe_video(path)
            frames = probe.stream(0).frames
            with VideoReader(path, probe=probe) as reader:
                codes = [read_frame_code(f) for f in reader.read_indices([0, 17, 29, 5])]
        except (EthoclipError, av.FFmpegError) as exc:
            print(f"round trip   FAILED: {exc}")
            return False
    ok = frames == 30 and codes == [0, 17, 29, 5]
    status = "ok" if ok else f"FAILED (frames {frames}, decoded codes {codes})"
    print(f"round trip   {status}: encode 30 frames → probe → decode frames 0, 17, 29, 5")
    return ok
