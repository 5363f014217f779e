"""prepare vs cutting each clip by hand, and vs a bare decode, on a 10-minute 720p video.

Builds a session around the video with 30 annotated 16 s segments (120 windows of 4 s at
stride 4, ~2x that at stride 2), then times, in one run:

  prepare            ethoclip's single pass per video (workers = cores)
  per-clip (PyAV)    one open/seek/decode/scale/encode per clip, the same output settings
  per-clip (ffmpeg)  the by-hand loop: one `ffmpeg -ss S -i IN -t 4 ... OUT` per clip
                     (imageio-ffmpeg's binary, same size and x264 settings)
  bare decode        decoding every frame of the video once (threaded)

and prints the ratios. Targets (issue 3): prepare >= 3x faster than per-clip at stride = clip
length (more with overlap); prepare within 2x of the bare decode.

    python benchmarks/bench_prepare.py [--video PATH] [--skip-ffmpeg]
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

from ethoclip.dataset import PlanOptions, PrepareOptions, prepare_dataset, read_manifest
from ethoclip.media import ClipEncoder, probe_video

from _common import best_of, ffmpeg_binary, long_video
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


def per_clip_pyav(video: Path, entries: list[dict], out: Path) -> None:
    """The baseline with identical output: a fresh open, seek, decode and encode per clip."""
    out.mkdir(parents=True, exist_ok=True)
    for k, e in enumerate(entries):
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            start = e["source_start"]
            container.seek(int(start / stream.time_base), stream=stream, backward=True)
            with ClipEncoder(
                out / f"{k}.mp4", width=e["width"], height=e["height"], fps=e["fps"]
            ) as encoder:
                for frame in container.decode(stream):
                    if frame.time < start - 1e-3:
                        continue
                    if encoder.num_frames == e["num_frames"]:
                        break
                    encoder.write(
                        frame.reformat(
                            width=e["width"],
                            height=e["height"],
                            format="yuv420p",
                            interpolation="AREA",
                        )
                    )


def per_clip_ffmpeg(exe: str, video: Path, entries: list[dict], out: Path) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video")
    parser.add_argument("--skip-ffmpeg", action="store_true")
    args = parser.parse_args()
    video = long_video(args.video).resolve()
    probe = probe_video(video)
    s = probe.stream(0)
    print(
        f"video: {video.name}, {s.width}x{s.height}, {s.frames} frames, {s.duration:.1f} s, "
        f"{os.cpu_count()} cores"
    )
    decode_sec = best_of(1, lambda: full_decode(str(video)))
    print(f"bare decode: {decode_sec:.1f} s")
    with tempfile.TemporaryDirectory(prefix="ethoclip-bench-") as tmp:
        work = Path(tmp)
        make_session(work / "session", video, s.duration or 0)
        exe = None if args.skip_ffmpeg else ffmpeg_binary()
        for stride in (4.0, 2.0):
            out = work / f"ds_{stride:g}"
            options = PrepareOptions(plan=PlanOptions(stride=stride), val_fraction=0.0)
            prepare_sec = best_of(
                1,
                lambda o=out, p=options: prepare_dataset(  # type: ignore[misc]
                    work / "session", o, p
                ),
            )
            entries = read_manifest(out)
            frames = sum(e["num_frames"] for e in entries)
            pyav_sec = best_of(1, lambda e=entries: per_clip_pyav(video, e, work / "pyav"))
            line = (
                f"stride {stride:g} s: {len(entries)} clips ({frames} frames): prepare "
                f"{prepare_sec:.1f} s, per-clip PyAV {pyav_sec:.1f} s "
                f"-> {pyav_sec / prepare_sec:.2f}x"
            )
            if exe:
                ffmpeg_sec = best_of(
                    1, lambda e=entries: per_clip_ffmpeg(exe, video, e, work / "ff")
                )
                line += f", per-clip ffmpeg {ffmpeg_sec:.1f} s -> {ffmpeg_sec / prepare_sec:.2f}x"
            print(line)
            print(f"  prepare / bare decode: {prepare_sec / decode_sec:.2f}x (target <= 2x)")
            shutil.rmtree(work / "pyav", ignore_errors=True)
            shutil.rmtree(work / "ff", ignore_errors=True)


if __name__ == "__main__":
    main()
