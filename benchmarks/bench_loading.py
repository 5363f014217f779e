"""Data-loading throughput (clips/s): ethoclip's MMAction2-style pipeline against a bare PyAV
decode of the same frames, in one run, on a ``prepare`` output (256p clips).

Both go through a torch DataLoader with batch 8 and 2 persistent worker processes, shuffled,
over the train split; the first batch is dropped and each measurement runs for at least
``--seconds`` and ``--epochs`` epochs. Loaders are measured in alternating rounds and the best
round of each is kept (the least disturbed by other load on a shared machine).

Pipelines (train mode, as in MMAction2's TSN and 3D-CNN configs; the anchor's
``bench_loading.py`` in ``../shared/anchors/mmaction2`` uses the same ones):
  tsn: SampleFrames(1, 1, 3) + decode + Resize(-1, 256) + MultiScaleCrop(224, …)
       + Resize((224, 224)) + Flip + FormatShape('NCHW') + PackActionInputs  -> 3×3×224×224 uint8
  3d:  SampleFrames(8, 6, 1) + decode + Resize(-1, 256) + RandomResizedCrop
       + Resize((224, 224)) + Flip + FormatShape('NCTHW') + PackActionInputs -> 1×3×8×224×224
Loaders:
  ethoclip: the pipeline above, built from config dicts (DecordInit/DecordDecode = the frame-exact
            PyAV reader, which scales to the Resize's size while converting to RGB).
  bare:     av.open, seek to the keyframe before the first needed frame, decode forward, convert
            only the needed frames straight to 224×224 RGB with one reused swscale context
            (less work than the pipeline: no crop, no flip, no second resize), stack.
  mmaction2 (with --mmaction PYTHON, an interpreter with MMAction2 1.2.0 and decord installed in
            a throwaway environment): the anchor's script, ``mma-decord`` on the same clips.

With ``--cache`` (issue 15): the default path's pipeline (MotionNet's: SampleFrames(16, k, 1) +
decode at Resize(-1, 96) + Flip), with the decoded-frame cache on: epoch 1 (an empty cache:
decode and store every clip) against the bare PyAV loader decoding the same frames at that
size (target ≥ 0.9), and epoch ≥ 2 (read from the cache) against a bare loop over the same
frames already in memory (target ≥ 0.9).

Target (issue 9): ethoclip ≥ 0.8 of bare. The ratio, not clips/s, is the figure: absolute
numbers drift with the machine's load.

    python benchmarks/bench_loading.py [--ds PREPARE_FOLDER] [--mmaction /path/to/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter
from torch.utils.data import DataLoader, Dataset

from ethoclip.data import build_dataloader
from ethoclip.dataset import PrepareOptions, load_dataset, prepare_dataset

from _common import ROOT

ANCHOR = ROOT.parent / "shared" / "anchors" / "mmaction2" / "bench_loading.py"
SAMPLING = {"tsn": (1, 1, 3), "3d": (8, 6, 1)}  # clip_len, frame_interval, num_clips


def pipeline(variant: str) -> list[dict[str, Any]]:
    clip_len, interval, clips = SAMPLING[variant]
    crop: dict[str, Any] = (
        dict(type="MultiScaleCrop", input_size=224, scales=(1, 0.875, 0.75, 0.66))
        if variant == "tsn"
        else dict(type="RandomResizedCrop")
    )
    return [
        dict(type="DecordInit"),  # every MMAction2 decoder name means ethoclip's PyAV reader
        dict(type="SampleFrames", clip_len=clip_len, frame_interval=interval, num_clips=clips),
        dict(type="DecordDecode"),
        dict(type="Resize", scale=(-1, 256)),
        crop,
        dict(type="Resize", scale=(224, 224), keep_ratio=False),
        dict(type="Flip", flip_ratio=0.5),
        dict(type="FormatShape", input_format="NCHW" if variant == "tsn" else "NCTHW"),
        dict(type="PackActionInputs"),
    ]


def ethoclip_loader(ds: Path, variant: str, batch: int, workers: int) -> DataLoader[Any]:
    cfg = dict(
        batch_size=batch,
        num_workers=workers,
        persistent_workers=workers > 0,
        sampler=dict(type="DefaultSampler", shuffle=True),
        dataset=dict(
            type="ClipDataset", data_root=str(ds), split="train", pipeline=pipeline(variant)
        ),
    )
    return build_dataloader(cfg, key="train_dataloader", training=True, seed=0)


def train_indices(variant: str, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frame indices as SampleFrames draws them in train mode."""
    clip_len, interval, clips = SAMPLING[variant]
    span = clip_len * interval
    average = (frames - span + 1) // clips
    if average > 0:
        offsets = np.arange(clips) * average + rng.integers(average, size=clips)
    elif frames > max(clips, span):
        offsets = np.sort(rng.integers(frames - span + 1, size=clips))
    else:
        offsets = np.zeros(clips, dtype=int)
    return np.mod((offsets[:, None] + np.arange(clip_len) * interval).reshape(-1), frames)


class BareClips(Dataset[torch.Tensor]):
    """The same frames, decoded with PyAV as a hand-written loader would."""

    def __init__(self, ds: Path, variant: str) -> None:
        dataset = load_dataset(ds)
        self.paths = [str(dataset.path(r)) for r in dataset.split("train")]
        self.variant = variant
        self.rng = np.random.default_rng()
        self.scaler = VideoReformatter()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        with av.open(self.paths[i]) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate
            assert stream.frames and rate and stream.time_base
            wanted = train_indices(self.variant, stream.frames, self.rng)
            need, last = set(wanted.tolist()), int(wanted.max())
            container.seek(
                int(int(wanted.min()) / rate / stream.time_base), stream=stream, backward=True
            )
            got: dict[int, np.ndarray] = {}
            for frame in container.decode(stream):
                k = round(float(frame.pts * stream.time_base * rate))
                if k in need:
                    got[k] = self.scaler.reformat(
                        frame, format="rgb24", width=224, height=224
                    ).to_ndarray()
                if k >= last:
                    break
        clip = torch.from_numpy(np.stack([got[int(k)] for k in wanted])).permute(0, 3, 1, 2)
        return clip if self.variant == "tsn" else clip.permute(1, 0, 2, 3).unsqueeze(0)


def bare_loader(ds: Path, variant: str, batch: int, workers: int) -> DataLoader[Any]:
    return DataLoader(
        BareClips(ds, variant),
        batch_size=batch,
        shuffle=True,
        num_workers=workers,
        persistent_workers=workers > 0,
    )


def batch_size_of(batch: Any) -> int:
    return len(batch["inputs"]) if isinstance(batch, dict) else int(batch.shape[0])


def clips_per_second(loader: DataLoader[Any], n: int, epochs: float, seconds: float) -> float:
    iterator = iter(loader)
    next(iterator)  # the first batch pays for starting the workers
    clips, start = 0, time.perf_counter()
    while True:
        for batch in iterator:
            clips += batch_size_of(batch)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and clips >= epochs * n:
                return clips / elapsed
        iterator = iter(loader)


def prepared_demo(tmp: Path) -> Path:
    """``ethoclip demo-data`` then ``prepare`` with its defaults (256p clips)."""
    from ethoclip.demo import generate_demo_project

    generate_demo_project(tmp / "demo")
    prepare_dataset(tmp / "demo", tmp / "ds", PrepareOptions())
    return tmp / "ds"


def mmaction_decord(python: str, ds: Path, variants: list[str], seconds: float) -> dict[str, float]:
    """clips/s of MMAction2's decord pipeline, from the anchor's script run by ``python``."""
    if not ANCHOR.is_file():
        sys.exit(f"error: {ANCHOR} is missing; --mmaction needs ../shared beside the checkout")
    only = ",".join(f"{v}:mma-decord" for v in variants)
    result = subprocess.run(
        [python, str(ANCHOR), "--ds", str(ds), "--only", only, "--min-seconds", str(seconds)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"},
    )
    if result.returncode:
        sys.exit(f"error: MMAction2's loader failed:\n{result.stderr[-2000:]}")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {row["variant"]: row["clips_per_s"] for row in rows}


CACHE_SIDE = 96  # MotionNet's input (config new's default model on a CPU)


def cache_pipeline(interval: int, folder: Path | None) -> list[dict[str, Any]]:
    decode: dict[str, Any] = dict(type="DecordDecode")
    if folder is not None:
        decode.update(cache=str(folder))
    return [
        dict(type="DecordInit"),
        dict(type="SampleFrames", clip_len=16, frame_interval=interval, num_clips=1),
        decode,
        dict(type="Resize", scale=(-1, CACHE_SIDE)),
        dict(type="Flip", flip_ratio=0.5),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="PackActionInputs"),
    ]


def _train_sampling(frames: int, interval: int, rng: np.random.Generator) -> np.ndarray:
    span = 16 * interval
    start = int(rng.integers(max(1, frames - span + 1)))
    return np.mod(start + np.arange(16) * interval, frames)


class InMemoryClips(Dataset[torch.Tensor]):
    """Every clip's frames at the cache's size, already in memory: what reading them costs
    when nothing is decoded (the bound for epochs ≥ 2)."""

    def __init__(self, frames: list[np.ndarray], interval: int) -> None:
        self.frames, self.interval = frames, interval
        self.rng = np.random.default_rng()

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> torch.Tensor:
        clip = self.frames[i][_train_sampling(len(self.frames[i]), self.interval, self.rng)]
        if self.rng.random() < 0.5:
            clip = clip[:, :, ::-1]
        return torch.from_numpy(np.ascontiguousarray(clip)).permute(3, 0, 1, 2).unsqueeze(0)


class BareDecode(Dataset[torch.Tensor]):
    """The sampled frames decoded with PyAV straight to the cache's size (epoch 1's bound)."""

    def __init__(self, paths: list[str], interval: int) -> None:
        self.paths, self.interval = paths, interval
        self.rng = np.random.default_rng()
        self.scaler = VideoReformatter()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        with av.open(self.paths[i]) as container:
            stream = container.streams.video[0]
            assert stream.frames
            width = round(stream.width * CACHE_SIDE / stream.height)
            wanted = _train_sampling(stream.frames, self.interval, self.rng)
            need, got = set(wanted.tolist()), {}
            for k, frame in enumerate(container.decode(stream)):
                if k in need:
                    got[k] = self.scaler.reformat(
                        frame, format="rgb24", width=width, height=CACHE_SIDE
                    ).to_ndarray()
                if k >= int(wanted.max()):
                    break
        clip = np.stack([got[int(k)] for k in wanted])
        return torch.from_numpy(clip).permute(3, 0, 1, 2).unsqueeze(0)


def _loader(dataset: Dataset[Any], args: argparse.Namespace) -> DataLoader[Any]:
    return DataLoader(
        dataset,
        batch_size=args.batch,
        shuffle=True,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,  # as config new's loaders: epochs ≥ 2 reuse them
    )


def one_epoch(loader: DataLoader[Any]) -> float:
    """Clips/s over one whole epoch (the first one of a loader includes starting its
    workers; later ones reuse them, as training does)."""
    clips, start = 0, time.perf_counter()
    for batch in loader:
        clips += batch_size_of(batch)
    return clips / (time.perf_counter() - start)


def cache_benchmark(ds: Path, args: argparse.Namespace) -> None:
    from ethoclip.media import VideoReader

    dataset = load_dataset(ds)
    records = dataset.split("train")
    paths = [str(dataset.path(r)) for r in records]
    frames = min(r.num_frames for r in records)
    interval = max(1, frames // 16)
    best = {"cold": 0.0, "bare": 0.0, "warm": 0.0, "memory": 0.0}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            cfg = dict(
                batch_size=args.batch,
                num_workers=args.workers,
                persistent_workers=args.workers > 0,
                sampler=dict(type="DefaultSampler", shuffle=True),
                dataset=dict(
                    type="ClipDataset",
                    data_root=str(ds),
                    split="train",
                    pipeline=cache_pipeline(interval, Path(folder)),
                ),
            )
            loader = build_dataloader(cfg, key="train_dataloader", training=True, seed=0)
            best["cold"] = max(best["cold"], one_epoch(loader))  # decodes and fills the cache
            best["bare"] = max(best["bare"], one_epoch(_loader(BareDecode(paths, interval), args)))
            warm = max(one_epoch(loader) for _ in range(2))
            best["warm"] = max(best["warm"], warm)
        in_memory = []
        for path in paths:
            with VideoReader(path, threads=1) as reader:
                w, h = reader.size
                size = (round(w * CACHE_SIDE / h), CACHE_SIDE)
                in_memory.append(reader.read_indices(np.arange(reader.num_frames), size=size))
        memory = _loader(InMemoryClips(in_memory, interval), args)
        one_epoch(memory)  # starts its workers, as the cached loader's epoch 1 did
        best["memory"] = max(best["memory"], max(one_epoch(memory) for _ in range(2)))
    first, later = best["cold"] / best["bare"], best["warm"] / best["memory"]
    print(
        f"  cache, epoch 1: {best['cold']:.1f} clips/s vs bare PyAV decode {best['bare']:.1f}: "
        f"ratio {first:.2f} (target ≥ 0.9: {'ok' if first >= 0.9 else 'UNDER'})"
    )
    print(
        f"  cache, epoch ≥ 2: {best['warm']:.1f} clips/s vs frames in memory "
        f"{best['memory']:.1f}: ratio {later:.2f} "
        f"(target ≥ 0.9: {'ok' if later >= 0.9 else 'UNDER'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ds", type=Path, help="a prepare folder (default: the demo, prepared)")
    parser.add_argument("--variants", default="tsn,3d")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mmaction", metavar="PYTHON", help="python with MMAction2 1.2.0 + decord")
    parser.add_argument("--cache", action="store_true", help="only the frame-cache benchmark")
    args = parser.parse_args()
    variants = args.variants.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        ds = args.ds or prepared_demo(Path(tmp))
        n = len(load_dataset(ds).split("train"))
        print(
            f"{ds}: {n} train clips; batch {args.batch}, {args.workers} workers, "
            f"{os.cpu_count()} cores; best of {args.rounds} rounds of ≥ {args.seconds:.0f} s"
        )
        if args.cache:
            cache_benchmark(ds, args)
            return
        for variant in variants:
            best = {"ethoclip": 0.0, "bare": 0.0}
            for _ in range(args.rounds):
                for name, make in (("ethoclip", ethoclip_loader), ("bare", bare_loader)):
                    loader = make(ds, variant, args.batch, args.workers)
                    rate = clips_per_second(loader, n, args.epochs, args.seconds)
                    best[name] = max(best[name], rate)
                    del loader
            ratio = best["ethoclip"] / best["bare"]
            verdict = "ok" if ratio >= 0.8 else "UNDER the 0.8 target"
            print(
                f"  {variant}: ethoclip {best['ethoclip']:.1f} clips/s, bare PyAV "
                f"{best['bare']:.1f} clips/s; ratio {ratio:.2f} (target ≥ 0.8: {verdict})"
            )
            if args.mmaction:
                mma = mmaction_decord(args.mmaction, ds, [variant], args.seconds)[variant]
                print(
                    f"  {variant}: MMAction2 1.2.0 + decord {mma:.1f} clips/s; ethoclip is "
                    f"{best['ethoclip'] / mma:.2f}x its rate"
                )


if __name__ == "__main__":
    main()
