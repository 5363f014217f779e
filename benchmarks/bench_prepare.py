"""prepare vs cutting each clip by hand, and vs a bare decode, on a 10-minute 720p video.

Builds a session around the video with 30 annotated 16 s segments (120 windows of 4 s at
stride 4, ~2x that at stride 2), then times, in one run:

  prepare            ethoclip's single pass per video (workers = cores)
  per-clip (PyAV)    one open/seek/decode/scale/encode per clip, the same output settings
                     and the same per-frame work as prepare (one scaler reused)
  per-clip (PyAV, frame.reformat)
                     the same loop written as scripts usually are: ``frame.reformat`` per
                     frame, which sets up a new scaler for every frame
  per-clip (ffmpeg)  the by-hand loop: one `ffmpeg -ss S -i IN -t 4 ... OUT` per clip
                     (imageio-ffmpeg's binary, same size and x264 settings)
  bare decode        decoding every frame of the video once (threaded)

and prints the ratios. Targets (issue 3): prepare >= 3x faster than per-clip at stride = clip
length (more with overlap); prepare within 2x of the bare decode.

Each approach also reports its CPU seconds (this process and its children) and the cores it
kept busy (CPU / wall). A wall-clock ratio can never exceed
(baseline CPU / prepare CPU) x (cores / cores the baseline kept busy), so the script prints that
ceiling too: it says how much of the ratio this machine leaves room for.

    python benchmarks/bench_prepare.py [--video PATH | --synthetic SECONDS] [--skip-ffmpeg]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import av
from av.video.reformatter import VideoReformatter

from ethoclip.dataset import (
    ClipRecord,
    PlanOptions,
    PrepareOptions,
    default_workers,
    prepare_dataset,
    read_manifest,
)
from ethoclip.media import ClipEncoder, probe_video

from _common import Timing, ffmpeg_binary, long_video, synthetic_video, timed
from bench_probe import full_decode

LABELS = ["walk", "sit", "sniff", "play"]


def make_session(root: Path, video: Path, duration: float) -> None:
    """One session: the video plus a VIA 3 project with 30 segments of 16 s (some overlap)."""
    (root / "video").mkdir(parents=True)
    (root / "via").mkdir()
    os.symlink(video, root / "video" / video.name)
    metadata = {}
    step = (duration - 20) / 30
    for k in range(30):
        start = round(5 + k * step, 3)
        metadata[f"1_seg{k:04d}"] = {
            "vid": "1",
            "flg": 0,
            "z": [start, start + 16.0],
            "xy": [],
            "av": {"1": str(k % len(LABELS))},
        }
        if k % 3 == 0:  # an overlapping behaviour: multi-label windows
            metadata[f"1_tail{k:04d}"] = {
                "vid": "1",
                "flg": 0,
                "z": [start + 4, start + 12],
                "xy": [],
                "av": {"1": str((k + 1) % len(LABELS))},
            }
    project = {
        "project": {"vid_list": ["1"]},
        "config": {},
        "attribute": {
            "1": {
                "aname": "behaviour",
                "anchor_id": "FILE1_Z2_XY0",
                "type": 4,
                "options": {str(i): n for i, n in enumerate(LABELS)},
            }
        },
        "file": {"1": {"fid": "1", "fname": video.name, "type": 4, "loc": 1, "src": ""}},
        "metadata": metadata,
        "view": {"1": {"fid_list": ["1"]}},
    }
    (root / "via" / "bench.json").write_text(json.dumps(project))


def per_clip_pyav(video: Path, entries: list[ClipRecord], out: Path, *, reuse_scaler: bool) -> None:
    """The baseline with identical output: a fresh open, seek, decode and encode per clip.

    With ``reuse_scaler`` it does the same per-frame work as prepare, so only the plan differs.
    """
    out.mkdir(parents=True, exist_ok=True)
    shared = VideoReformatter()
    for k, e in enumerate(entries):
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            start = e.source_start
            container.seek(int(start / stream.time_base), stream=stream, backward=True)
            with ClipEncoder(
                out / f"{k}.mp4", width=e.width, height=e.height, fps=e.fps
            ) as encoder:
                for frame in container.decode(stream):
                    if frame.time < start - 1e-3:
                        continue
                    if encoder.num_frames == e.num_frames:
                        break
                    scaler = shared if reuse_scaler else VideoReformatter()
                    encoder.write(
                        scaler.reformat(
                            frame,
                            width=e.width,
                            height=e.height,
                            format="yuv420p",
                            interpolation="AREA",
                        )
                    )


def per_clip_ffmpeg(exe: str, video: Path, entries: list[ClipRecord], out: Path) -> None:
    """How people cut clips by hand: one ffmpeg process per clip (fast input seeking)."""
    out.mkdir(parents=True, exist_ok=True)
    for k, e in enumerate(entries):
        subprocess.run(
            [
                exe,
                "-v",
                "error",
                "-y",
                "-ss",
                f"{e['source_start']:.6f}",
                "-i",
                str(video),
                "-t",
                f"{e['num_frames'] / e['fps']:.6f}",
                "-map",
                "0:v:0",
                "-an",
                "-vf",
                f"scale={e['width']}:{e['height']}:flags=area",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "20",
                "-pix_fmt",
                "yuv420p",
                str(out / f"{k}.mp4"),
            ],
            check=True,
        )


def report(name: str, baseline: Timing, prepare: Timing, ncores: int) -> str:
    ceiling = baseline.cpu / prepare.cpu * ncores / baseline.cores
    return (
        f"  {name:18s} {baseline}\n"
        f"  {'':18s} -> prepare is {baseline.wall / prepare.wall:.2f}x faster "
        f"(does {baseline.cpu / prepare.cpu:.2f}x less CPU work; ceiling with {ncores} cores: "
        f"{ceiling:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video")
    parser.add_argument("--skip-ffmpeg", action="store_true")
    parser.add_argument(
        "--synthetic",
        type=float,
        metavar="SECONDS",
        help="make a synthetic 720p video this long instead (machines without the real one)",
    )
    args = parser.parse_args()
    if args.synthetic:
        made = Path(tempfile.gettempdir()) / "ethoclip-bench-synthetic-720p.mp4"
        args.video = str(synthetic_video(made, args.synthetic))
    video = long_video(args.video).resolve()
    probe = probe_video(video)
    s = probe.stream(0)
    ncores = default_workers()  # the cores this process may use
    print(
        f"video: {video.name}, {s.width}x{s.height}, {s.frames} frames, {s.duration:.1f} s, "
        f"{len(probe.stream(0).keyframe_ticks)} keyframes, {ncores} cores"
    )
    decode = timed(lambda: full_decode(str(video)))
    print(f"bare decode: {decode}")
    with tempfile.TemporaryDirectory(prefix="ethoclip-bench-") as tmp:
        work = Path(tmp)
        make_session(work / "session", video, s.duration or 0)
        exe = None if args.skip_ffmpeg else ffmpeg_binary()
        for stride in (4.0, 2.0):
            out = work / f"ds_{stride:g}"
            options = PrepareOptions(plan=PlanOptions(stride_sec=stride), val_fraction=0.0)
            prepare = timed(lambda o=out, p=options: prepare_dataset(work / "session", o, p))
            entries = read_manifest(out)
            frames = sum(e.num_frames for e in entries)
            print(f"stride {stride:g} s: {len(entries)} clips, {frames} frames")
            print(f"  {'prepare':18s} {prepare}")
            print(f"  {'':18s} -> {prepare.wall / decode.wall:.2f}x the bare decode (target <= 2x)")
            for name, reuse in (("per-clip PyAV", True), ("  frame.reformat", False)):
                pyav = timed(
                    lambda e=entries, r=reuse: per_clip_pyav(  # type: ignore[misc]
                        video, e, work / "pyav", reuse_scaler=r
                    )
                )
                print(report(name, pyav, prepare, ncores))
            if exe:
                ffmpeg = timed(lambda e=entries: per_clip_ffmpeg(exe, video, e, work / "ff"))
                print(report("per-clip ffmpeg", ffmpeg, prepare, ncores))
            shutil.rmtree(work / "pyav", ignore_errors=True)
            shutil.rmtree(work / "ff", ignore_errors=True)


if __name__ == "__main__":
    main()
