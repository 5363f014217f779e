"""``ethoclip prepare``: VIA projects + raw videos → aligned multi-label clips, lists, manifest."""

from __future__ import annotations

import errno
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import __version__
from ..annotations import Issue, format_report
from ..errors import DatasetError
from ._inputs import Inputs, load_inputs
from ._io import JOURNAL, journal_read, journal_rewrite, write_text_atomic
from ._plan import ClipPlan, PlanOptions, VideoPlan, plan_dataset
from ._split import split_groups
from ._summary import render_summary
from ._write import ClipJob, Task, TaskResult, default_workers, make_tasks, run_tasks

SplitBy = Literal["video", "session"]
# Errors that no retry of another video will fix: stop and say so.
_FATAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM}


class InvalidInputError(DatasetError):
    """Validation found errors; nothing was written. ``issues`` holds every problem."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        n = sum(1 for i in issues if i.severity == "error")
        super().__init__(
            f"{n} problem(s) in the input (listed above); nothing was written: fix them, or "
            "pass --skip-invalid to leave the affected videos out"
        )


@dataclass(frozen=True)
class PrepareOptions:
    plan: PlanOptions = field(default_factory=PlanOptions)
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    split_by: SplitBy = "video"
    seed: int = 0
    workers: int | None = None
    skip_invalid: bool = False
    label_map: Path | None = None
    dry_run: bool = False  # validate, plan and split; write nothing


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


def _check_options(options: PrepareOptions) -> None:
    p = options.plan
    problems = []
    if p.clip_len <= 0:
        problems.append(f"--clip-len must be positive (got {p.clip_len})")
    if p.stride is not None and p.stride <= 0:
        problems.append(f"--stride must be positive (got {p.stride})")
    if not 0 < p.min_overlap <= 1:
        problems.append(f"--min-overlap must be in (0, 1] (got {p.min_overlap})")
    if not 0 <= options.val_fraction < 1 or not 0 <= options.test_fraction < 1:
        problems.append("--val-fraction and --test-fraction must be in [0, 1)")
    if options.val_fraction + options.test_fraction >= 1:
        problems.append("--val-fraction + --test-fraction must leave clips for training")
    if p.fps is not None and p.fps <= 0:
        problems.append(f"--fps must be positive (got {p.fps})")
    if p.short_side is not None and p.short_side < 16:
        problems.append(f"--short-side must be at least 16 (got {p.short_side})")
    if problems:
        raise DatasetError("; ".join(problems))


def read_label_map(path: Path) -> list[str]:
    """Class names, one per line (line i = class id i), as MMAction2 label maps are."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the label map ({exc.strerror})") from None
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()
    dupes = sorted(n for n, c in Counter(names).items() if c > 1)
    if "" in names or dupes:
        raise DatasetError(
            f"{path}: label map has empty lines or repeated names ({', '.join(dupes)}); "
            "write one distinct class name per line"
        )
    return names


def _check_out_dir(out: Path, root: Path) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: exists and is not a folder; choose another --out")
    if out.resolve() == root.resolve():
        raise DatasetError(f"{out}: is the input folder; choose another --out")
    try:
        (out / JOURNAL).parent.mkdir(parents=True, exist_ok=True)
        probe = out / ".ethoclip" / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DatasetError(
            f"{out}: cannot write there ({exc.strerror}); choose a folder you can write to"
        ) from None


def prepare_dataset(
    root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    options: PrepareOptions = PrepareOptions(),
    *,
    progress: Progress | None = None,
    report: Callable[[str], None] | None = None,
) -> PrepareResult:
    """Build the dataset in ``out_dir``; resumable, and nothing is written if validation fails."""
    root, out = Path(root), Path(out_dir)
    _check_options(options)
    fixed_labels = read_label_map(options.label_map) if options.label_map else None
    workers = options.workers or default_workers()
    inputs = load_inputs(root, workers=workers, known_labels=fixed_labels)
    if inputs.errors and not options.skip_invalid:
        raise InvalidInputError(inputs.issues)
    skip = inputs.invalid_videos if options.skip_invalid else set()
    plans = plan_dataset(inputs, options.plan, skip=skip)
    if not any(p.clips for p in plans):
        raise DatasetError(
            f"{root}: no clip to write ({_drop_text(plans)}); check the annotations, or use "
            "--background keep / --windows video / a shorter --clip-len"
        )
    labels = fixed_labels or sorted({i.label for p in plans for i in p.intervals})
    split_of, split_notes = _split(plans, options)
    split_of_video = {p.key: split_of[_group(p, options)] for p in plans}
    if options.dry_run:
        entries = [
            _entry(plan, clip, split_of_video[plan.key], labels, root)
            for plan in plans
            for clip in plan.clips
        ]
        summary = _summary(
            labels, entries, plans, split_of_video, split_notes, options, inputs, {}, skip
        )
        return PrepareResult(
            out_dir=out,
            clips=len(entries),
            written=0,
            reused=0,
            removed_stale=0,
            per_split=dict(Counter(e["split"] for e in entries)),
            labels=labels,
            skipped=sorted(skip),
            failed={},
            warnings=inputs.warnings,
            summary=summary,
        )

    _check_out_dir(out, root)
    for part in out.glob("clips/**/*.part"):
        part.unlink()  # left by a killed run
    done = journal_read(out)
    jobs_by_video = []
    reused = 0
    for plan in plans:
        jobs = []
        for clip in plan.clips:
            if done.get(clip.path) == clip.recipe and (out / clip.path).is_file():
                reused += 1
                continue
            jobs.append(
                ClipJob(clip.path, clip.indices, clip.width, clip.height, clip.fps, clip.recipe)
            )
        jobs_by_video.append((plan.key, plan.path, plan.source.index, plan.probe, jobs))
    tasks = make_tasks(
        jobs_by_video, workers=workers, crf=options.plan.crf, preset=options.plan.preset
    )
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
    fatal = next((r for r in results if r.error and r.errno in _FATAL_ERRNOS), None)
    if fatal is not None:
        raise DatasetError(
            f"{out}: cannot write clips ({os.strerror(fatal.errno or 0)}): {fatal.error}; free "
            "disk space or fix permissions and run again: finished clips are kept and reused"
        )
    for plan in plans:
        if plan.key in failed:
            for clip in plan.clips:
                (out / clip.path).unlink(missing_ok=True)
            if report:
                report(f"{plan.key}: failed, its clips were removed: {failed[plan.key]}")

    kept = [p for p in plans if p.key not in failed]
    entries = [
        _entry(plan, clip, split_of_video[plan.key], labels, root)
        for plan in kept
        for clip in plan.clips
    ]
    removed = _remove_stale(out, {e["clip"] for e in entries}, done)
    summary = _summary(
        labels, entries, plans, split_of_video, split_notes, options, inputs, failed, skip
    )
    _write_outputs(out, labels, entries, summary)
    journal_rewrite(out, [(c.path, c.recipe) for p in kept for c in p.clips])
    per_split = Counter(e["split"] for e in entries)
    return PrepareResult(
        out_dir=out,
        clips=len(entries),
        written=sum(len(r.written) for r in results),
        reused=reused,
        removed_stale=removed,
        per_split=dict(per_split),
        labels=labels,
        skipped=sorted(skip),
        failed=failed,
        warnings=inputs.warnings,
        summary=summary,
    )


def _drop_text(plans: list[VideoPlan]) -> str:
    drops: Counter[str] = Counter()
    for p in plans:
        drops.update(p.drops)
    return ", ".join(f"{n} {reason}" for reason, n in drops.items() if n) or "no windows"


def _group(plan: VideoPlan, options: PrepareOptions) -> str:
    return plan.session.name if options.split_by == "session" else plan.key


def _split(plans: list[VideoPlan], options: PrepareOptions) -> tuple[dict[str, str], list[str]]:
    counts: dict[str, Counter[str]] = {}
    for plan in plans:
        counter = counts.setdefault(_group(plan, options), Counter())
        for clip in plan.clips:
            counter.update(clip.window.labels or [""])
    return split_groups(
        counts,
        val_fraction=options.val_fraction,
        test_fraction=options.test_fraction,
        seed=options.seed,
    )


def _entry(
    plan: VideoPlan, clip: ClipPlan, split: str, labels: list[str], root: Path
) -> dict[str, Any]:
    ids = {name: i for i, name in enumerate(labels)}
    return {
        "clip": clip.path,
        "split": split,
        "labels": list(clip.window.labels),
        "label_ids": [ids[name] for name in clip.window.labels],
        "session": plan.session.name,
        "source_video": plan.path.relative_to(root).as_posix(),
        "via_file": plan.via_file.relative_to(root).as_posix(),
        "segment_ids": list(clip.window.segment_ids),
        "annotated_stream": plan.annotated.index,
        "source_stream": plan.source.index,
        "time_map": plan.time_map.method,
        "start": round(clip.window.start, 6),
        "end": round(clip.window.end, 6),
        "source_start": round(clip.source_start, 6),
        "source_end": round(clip.source_end, 6),
        "first_source_frame": int(clip.indices[0]),
        "last_source_frame": int(clip.indices[-1]),
        "num_frames": clip.num_frames,
        "fps": round(float(clip.fps), 6),
        "fps_exact": str(clip.fps),
        "width": clip.width,
        "height": clip.height,
        "rotation": plan.source.turns * 90,  # counter-clockwise degrees applied (upright)
        "recipe": clip.recipe,
    }


def _remove_stale(out: Path, keep: set[str], done: dict[str, str]) -> int:
    """Delete clips an earlier run made that this dataset no longer has (e.g. renamed labels)."""
    earlier = set(done)
    manifest = out / "manifest.jsonl"
    if manifest.exists():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            try:
                earlier.add(json.loads(line)["clip"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    removed = 0
    for clip in sorted(earlier - keep):
        path = out / clip
        if path.is_file() and path.suffix == ".mp4" and path.parent.parent.name == "clips":
            path.unlink()
            removed += 1
    return removed


def _write_outputs(
    out: Path, labels: list[str], entries: list[dict[str, Any]], summary: str
) -> None:
    write_text_atomic(out / "label_map.txt", "".join(f"{name}\n" for name in labels))
    for split in ("train", "val", "test"):
        lines = [
            " ".join([e["clip"], *map(str, e["label_ids"])]) for e in entries if e["split"] == split
        ]
        path = out / f"{split}.txt"
        if lines or split != "test":
            write_text_atomic(path, "".join(f"{line}\n" for line in lines))
        elif path.exists():
            path.unlink()  # an earlier run had a test split; this one has none
    write_text_atomic(
        out / "manifest.jsonl", "".join(json.dumps(e, sort_keys=False) + "\n" for e in entries)
    )
    write_text_atomic(out / "dataset.txt", summary)


def _summary(
    labels: list[str],
    entries: list[dict[str, Any]],
    plans: list[VideoPlan],
    split_of_video: dict[str, str],
    split_notes: list[str],
    options: PrepareOptions,
    inputs: Inputs,
    failed: dict[str, str],
    skip: set[str],
) -> str:
    """The text of ``dataset.txt`` (also what ``--dry-run`` prints)."""
    plan_options = asdict(options.plan)
    plan_options["stride"] = plan_options["stride"] or plan_options["clip_len"]
    plan_options["fps"] = plan_options["fps"] or "source"
    header = {
        "version": __version__,
        "options": {
            **plan_options,
            "split_by": options.split_by,
            "val_fraction": options.val_fraction,
            "test_fraction": options.test_fraction,
            "seed": options.seed,
        },
    }
    clips_per_video = Counter(f"{e['session']}/{Path(e['source_video']).name}" for e in entries)
    text = render_summary(
        header=header,
        label_names=labels,
        entries=entries,
        plans=plans,
        split_of_video=split_of_video,
        clips_per_video=clips_per_video,
        split_notes=split_notes,
        skipped=sorted(skip),
        failed=failed,
    )
    if inputs.warnings:
        text += "\ninput warnings\n" + format_report(inputs.warnings) + "\n"
    return text
