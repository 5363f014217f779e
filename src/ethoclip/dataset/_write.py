"""Write the planned clips: each task decodes its frames once and feeds every clip needing them."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import EthoclipError
from ..media import ClipEncoder, ClipWriteError, VideoProbe, VideoReader, rotate_yuv_frame
from ._io import journal_append

# A clip that replaces one an earlier run finished is written beside it with this suffix, and
# swapped in only when every clip of its video succeeded: a failed run never loses a clip.
STAGED_SUFFIX = ".new"


@dataclass(frozen=True)
class ClipJob:
    path: str  # relative to the dataset folder
    indices: np.ndarray
    width: int
    height: int
    fps: Fraction
    recipe: str
    staged: bool = False  # an earlier version exists: write beside it, swap in later

    @property
    def target(self) -> str:
        """Where the worker writes the clip."""
        return self.path + STAGED_SUFFIX if self.staged else self.path


@dataclass(frozen=True)
class Task:
    """Some clips of one video, in time order: one decoding pass writes them all."""

    video_key: str
    video_path: Path
    stream_index: int
    probe: VideoProbe
    clips: list[ClipJob]
    crf: int
    preset: str
    turns: int = 0  # counter-clockwise quarter turns that make the picture upright
    decode_threads: int = 0  # 0: FFmpeg's choice


@dataclass
class TaskResult:
    video_key: str
    written: list[str] = field(default_factory=list)  # dataset paths, final or staged
    error: str | None = None
    errno: int | None = None


def make_tasks(
    videos: list[tuple[str, Path, int, VideoProbe, list[ClipJob]]],
    *,
    workers: int,
    crf: int,
    preset: str,
) -> list[Task]:
    """Split work so ``workers`` processes stay busy even when there are few videos.

    With at least two tasks per worker from whole videos, a video is one task (one pass).
    Otherwise each video's clips are cut into consecutive chunks in proportion to its share of
    all clips; a chunk seeks once, so only frames at chunk borders are decoded twice.
    """
    total = sum(len(v[4]) for v in videos) or 1
    target = 2 * workers
    tasks = []
    for key, path, stream, probe, clips in videos:
        if not clips:
            continue
        chunks = 1 if len(videos) >= target else max(1, math.ceil(target * len(clips) / total))
        size = math.ceil(len(clips) / chunks)
        ordered = sorted(clips, key=lambda c: int(c.indices[0]))
        turns = probe.stream(stream).turns
        for i in range(0, len(ordered), size):
            tasks.append(Task(key, path, stream, probe, ordered[i : i + size], crf, preset, turns))
    # Processes running side by side already fill the cores: a decoder with its own frame
    # threads on top only adds switching (measured: ~10% more CPU for the same clips). One
    # task alone gets the cores to itself.
    threads = max(1, default_workers() // max(1, min(workers, len(tasks))))
    return [replace(task, decode_threads=threads) for task in tasks]


@dataclass
class _OpenClip:
    job: ClipJob
    encoder: ClipEncoder
    position: int = 0  # next output frame to write

    @property
    def next_index(self) -> int:
        return int(self.job.indices[self.position])

    @property
    def complete(self) -> bool:
        return self.position == self.job.indices.size


def run_task(task: Task, out_dir: Path) -> TaskResult:
    """Decode the frames the task's clips need, in order, and encode every clip from them."""
    result = TaskResult(task.video_key)
    pending = list(task.clips)  # sorted by first frame
    active: list[_OpenClip] = []
    needed = np.unique(np.concatenate([c.indices for c in task.clips]))
    width, height = task.clips[0].width, task.clips[0].height
    # Scale in the decoded orientation, then turn: a quarter turn swaps the sides.
    scaled = (height, width) if task.turns % 2 else (width, height)
    # One scaler for the task: ``frame.reformat`` would set up a new one for every frame.
    scaler = VideoReformatter()
    try:
        with VideoReader(
            task.video_path, task.stream_index, probe=task.probe, threads=task.decode_threads
        ) as reader:
            for index, frame in reader.iter_av_frames(needed):
                # Scale once per source frame, in YUV: every clip of the video shares the size.
                # One scaler thread: sliced scaling may round differently with another count,
                # and a rerun must reproduce the clean run's clips byte for byte.
                small = rotate_yuv_frame(
                    scaler.reformat(
                        frame,
                        width=scaled[0],
                        height=scaled[1],
                        format="yuv420p",
                        interpolation="AREA",
                        threads=1,
                    ),
                    task.turns,
                )
                while pending and int(pending[0].indices[0]) <= index:
                    job = pending.pop(0)
                    encoder = ClipEncoder(
                        out_dir / job.target,
                        width=job.width,
                        height=job.height,
                        fps=job.fps,
                        crf=task.crf,
                        preset=task.preset,
                    )
                    active.append(_OpenClip(job, encoder))
                for clip in active:
                    # A clip at a higher rate than its source repeats a frame: write it again.
                    while not clip.complete and clip.next_index == index:
                        clip.encoder.write(small)
                        clip.position += 1
                    if clip.complete:
                        clip.encoder.close()
                        if not clip.job.staged:  # staged clips are journaled when swapped in
                            journal_append(out_dir, clip.job.path, clip.job.recipe)
                        result.written.append(clip.job.path)
                active = [clip for clip in active if not clip.complete]
        if active or pending:
            raise EthoclipError(
                f"{task.video_path}: {len(active) + len(pending)} clip(s) did not receive all "
                "their frames; the video may be damaged"
            )
    except (EthoclipError, av.FFmpegError, OSError) as exc:
        for clip in active:
            clip.encoder.abort()
        result.error = str(exc)
        result.errno = exc.errno if isinstance(exc, ClipWriteError | OSError) else None
    return result


def run_tasks(
    tasks: list[Task],
    out_dir: Path,
    *,
    workers: int,
    on_done: Callable[[Task, TaskResult], None],
) -> list[TaskResult]:
    """Run tasks in ``workers`` processes (in this process when 1); report each as it ends."""
    results = []
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            result = run_task(task, out_dir)
            on_done(task, result)
            results.append(result)
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures: dict[Future[TaskResult], Task] = {
            pool.submit(run_task, task, out_dir): task for task in tasks
        }
        waiting = set(futures)
        while waiting:
            done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                on_done(futures[future], result)
                results.append(result)
    return results


def default_workers() -> int:
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )
