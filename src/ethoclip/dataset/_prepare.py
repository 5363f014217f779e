"""``ethoclip prepare``: plan the dataset, then write it (clips, lists, manifest, summary).

Nothing is touched until the plan is complete and every option is known to work. Writing is
resumable, and a run that fails never costs a clip an earlier run finished.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..annotations import Issue
from ..errors import DatasetError
from ..media import check_encoder_settings
from ._io import JOURNAL, journal_append, journal_read, journal_rewrite, write_text_atomic
from ._options import PrepareOptions
from ._plan import DatasetPlan, plan_dataset, video_key
from ._records import LABEL_MAP, MANIFEST, SPLITS, ClipRecord, manifest_text, read_manifest
from ._review import REVIEW_PAGE, write_review
from ._summary import render_summary
from ._write import STAGED_SUFFIX, ClipJob, Task, TaskResult, default_workers, make_tasks, run_tasks

# Errors that no retry of another video will fix: stop and say so.
_FATAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM}


@dataclass
class PrepareResult:
    out_dir: Path
    clips: int
    written: int
    reused: int
    removed_stale: int
    per_split: dict[str, int]
    labels: list[str]
    skipped: list[str]
    failed: dict[str, str]
    warnings: list[Issue]
    summary: str = ""  # the text of dataset.txt


Progress = Callable[[str, int, int], None]  # (what, done, total)


def prepare_dataset(
    root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    options: PrepareOptions | None = None,
    *,
    progress: Progress | None = None,
    report: Callable[[str], None] | None = None,
) -> PrepareResult:
    """Build the dataset in ``out_dir``; resumable, and nothing is written if validation fails."""
    options = options or PrepareOptions()
    workers = options.workers or default_workers()
    # x264 itself judges the encoder settings, once, before any input is read or file touched.
    check_encoder_settings(crf=options.plan.crf, preset=options.plan.preset)
    plan = plan_dataset(root, options, workers=workers)
    out = Path(out_dir)
    if options.dry_run:
        return _result(plan, out, plan.records, render_summary(plan, plan.records))
    return write_dataset(plan, out, workers=workers, progress=progress, report=report)


def write_dataset(
    plan: DatasetPlan,
    out: Path,
    *,
    workers: int,
    progress: Progress | None = None,
    report: Callable[[str], None] | None = None,
) -> PrepareResult:
    """Write a planned dataset into ``out``, reusing every clip whose recipe is unchanged."""
    _check_out_dir(out, plan.root)
    for leftover in [*out.glob("clips/**/*.part"), *out.glob(f"clips/**/*{STAGED_SUFFIX}")]:
        leftover.unlink()  # left by a killed run
    done = journal_read(out)
    earlier = _earlier_records(out)
    jobs_by_video = []
    reused = 0
    for video in plan.videos:
        jobs = []
        for clip in video.clips:
            exists = (out / clip.path).is_file()
            if exists and done.get(clip.path) == clip.recipe:
                reused += 1
                continue
            jobs.append(
                ClipJob(
                    clip.path,
                    clip.indices,
                    clip.width,
                    clip.height,
                    clip.fps,
                    clip.recipe,
                    staged=exists,
                )
            )
        jobs_by_video.append((video.key, video.path, video.source.index, video.probe, jobs))
    options = plan.options.plan
    tasks = make_tasks(jobs_by_video, workers=workers, crf=options.crf, preset=options.preset)
    total_jobs = sum(len(t.clips) for t in tasks)
    finished = 0

    def on_done(task: Task, result: TaskResult) -> None:
        nonlocal finished
        finished += len(task.clips)
        if progress:
            progress("clips", finished, total_jobs)

    if progress:
        progress("clips", 0, total_jobs)
    results = run_tasks(tasks, out, workers=workers, on_done=on_done)
    failed = {r.video_key: r.error or "" for r in results if r.error}
    jobs_of = {key: jobs for key, _, _, _, jobs in jobs_by_video}
    fatal = next((r for r in results if r.error and r.errno in _FATAL_ERRNOS), None)
    if fatal is not None:
        # Finished clips stay (journaled, reused next time); staged ones wait for a full video.
        for staged in out.glob(f"clips/**/*{STAGED_SUFFIX}"):
            staged.unlink()
        raise DatasetError(
            f"{out}: cannot write clips ({os.strerror(fatal.errno or 0)}): {fatal.error}; free "
            "disk space or fix permissions and run again: finished clips are kept and reused"
        )
    for key in failed:
        _discard_new_clips(out, jobs_of[key])
    ran = {key for key, jobs in jobs_of.items() if jobs}
    if ran and ran <= set(failed):
        key = sorted(failed)[0]
        raise DatasetError(
            f"every video that needed new clips failed, e.g. {key}: {failed[key]}; the dataset "
            f"in {out} is as it was: fix the cause and run again"
        )

    records: list[ClipRecord] = []
    kept: dict[str, int] = {}
    for video in plan.videos:
        if video.key in failed:
            old = _keep_earlier(earlier, video.key, plan, out)
            kept[video.key] = len(old)
            records += old
            if report:
                report(
                    f"{video.key}: failed ({failed[video.key]}); its new clips were removed, "
                    f"{len(old)} clip(s) of the earlier run kept"
                )
            continue
        for job in jobs_of[video.key]:
            if job.staged:  # the new version is complete for the whole video: swap it in
                os.replace(out / job.target, out / job.path)
                journal_append(out, job.path, job.recipe)
        records += [r for r in plan.records if video_key(r) == video.key]

    removed = _remove_stale(out, {r.clip for r in records}, set(done) | set(earlier))
    summary = render_summary(plan, records, failed=failed, kept=kept)
    _write_outputs(out, plan.labels, records, summary)
    journal_rewrite(out, [(r.clip, r.recipe) for r in records])
    if (out / REVIEW_PAGE).exists():
        write_review(out)  # a review page never lists clips that are gone
    result = _result(plan, out, records, summary)
    result.written = sum(len(r.written) for r in results if r.video_key not in failed)
    result.reused = reused
    result.removed_stale = removed
    result.failed = failed
    return result


def _result(plan: DatasetPlan, out: Path, records: list[ClipRecord], summary: str) -> PrepareResult:
    return PrepareResult(
        out_dir=out,
        clips=len(records),
        written=0,
        reused=0,
        removed_stale=0,
        per_split=dict(Counter(r.split for r in records)),
        labels=plan.labels,
        skipped=plan.skipped,
        failed={},
        warnings=plan.inputs.warnings,
        summary=summary,
    )


def _check_out_dir(out: Path, root: Path) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: exists and is not a folder; choose another output folder")
    if out.resolve() == root.resolve():
        raise DatasetError(f"{out}: is the input folder; choose another output folder")
    try:
        (out / JOURNAL).parent.mkdir(parents=True, exist_ok=True)
        probe = out / ".ethoclip" / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DatasetError(
            f"{out}: cannot write there ({exc.strerror}); choose a folder you can write to"
        ) from None


def _earlier_records(out: Path) -> dict[str, ClipRecord]:
    """The previous run's records by clip path ({} when there is none, or it is unreadable)."""
    if not (out / MANIFEST).is_file():
        return {}
    try:
        return {r.clip: r for r in read_manifest(out)}
    except DatasetError:
        return {}  # damaged: the journal still says which clips exist


def _discard_new_clips(out: Path, jobs: list[ClipJob]) -> None:
    """A failed video's clips from this run: staged ones and ones no earlier run had."""
    for job in jobs:
        (out / job.target).unlink(missing_ok=True)


def _keep_earlier(
    earlier: dict[str, ClipRecord], key: str, plan: DatasetPlan, out: Path
) -> list[ClipRecord]:
    """The earlier run's records of a video that failed now, renumbered to today's labels."""
    ids = {name: i for i, name in enumerate(plan.labels)}
    kept = []
    for record in earlier.values():
        if video_key(record) != key or not (out / record.clip).is_file():
            continue
        if any(name not in ids for name in record.labels):
            continue  # a label that no longer exists: the clip cannot be listed
        kept.append(
            replace(
                record,
                split=plan.split_of_video[key],
                label_ids=tuple(ids[name] for name in record.labels),
            )
        )
    return kept


def _remove_stale(out: Path, keep: set[str], earlier: set[str]) -> int:
    """Delete clips an earlier run made that this dataset no longer has (e.g. renamed labels)."""
    removed = 0
    for clip in sorted(earlier - keep):
        path = out / clip
        if path.is_file() and path.suffix == ".mp4" and path.parent.parent.name == "clips":
            path.unlink()
            removed += 1
    return removed


def _write_outputs(out: Path, labels: list[str], records: list[ClipRecord], summary: str) -> None:
    write_text_atomic(out / LABEL_MAP, "".join(f"{name}\n" for name in labels))
    for split in SPLITS:
        lines = [" ".join([r.clip, *map(str, r.label_ids)]) for r in records if r.split == split]
        path = out / f"{split}.txt"
        if lines or split != "test":
            write_text_atomic(path, "".join(f"{line}\n" for line in lines))
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # an earlier run had a test split; this one has none
    write_text_atomic(out / MANIFEST, manifest_text(records))
    write_text_atomic(out / "dataset.txt", summary)
