"""Probing every frame's timestamp vs decoding every frame, on a 10-minute 720p video.

Prints the ratio from one run (absolute times drift on shared machines; the ratio does not).
Target (issue 2): probe at least 20x faster than a full decode.

    python benchmarks/bench_probe.py [--video PATH]
"""

from __future__ import annotations

import argparse

import av

from ethoclip.media import probe_video

from _common import best_of, long_video


def full_decode(path: str) -> int:
    """The baseline: decode every frame of the first video stream (threaded, as fast as PyAV)."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = long_video(args.video)
    probe = probe_video(path)
    s = probe.stream(probe.annotated_stream or 0)
    print(f"video: {path.name}, {s.width}x{s.height}, {s.frames} frames, {s.duration:.1f} s")
    probe_sec = best_of(args.repeat, lambda: probe_video(path))
    decoded = full_decode(str(path))
    assert decoded == s.frames, f"probe counted {s.frames} frames, decode gave {decoded}"
    decode_sec = best_of(1, lambda: full_decode(str(path)))
    print(f"probe (all {s.frames} timestamps): {probe_sec:.3f} s")
    print(f"full decode:                 {decode_sec:.3f} s")
    print(f"ratio decode/probe: {decode_sec / probe_sec:.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
