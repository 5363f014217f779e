"""``dataset.txt``: what a person needs to trust the dataset, in plain text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from .. import __version__
from ..annotations import format_report
from ._plan import DatasetPlan, video_key
from ._records import SPLITS, ClipRecord


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  "
        + "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def render_summary(
    plan: DatasetPlan,
    records: Sequence[ClipRecord],
    *,
    failed: Mapping[str, str] | None = None,
    kept: Mapping[str, int] | None = None,
) -> str:
    """The text of ``dataset.txt`` (also what ``--dry-run`` prints).

    Deterministic (no times, no absolute paths) so reruns compare equal. ``failed`` maps a
    video to its error; ``kept`` counts the clips an earlier run made of it that were kept.
    """
    failed = failed or {}
    kept = kept or {}
    options = plan.options
    plan_options = asdict(options.plan)
    plan_options["stride_sec"] = options.plan.stride
    plan_options["fps"] = plan_options["fps"] or "source"
    header_options = {
        **plan_options,
        "split_by": options.split_by,
        "val_fraction": options.val_fraction,
        "test_fraction": options.test_fraction,
        "seed": options.seed,
    }
    label_names = plan.labels
    entries = records
    clips_per_video = Counter(video_key(r) for r in records)
    lines = [f"ethoclip dataset (ethoclip {__version__})", ""]
    lines.append("options: " + " ".join(f"{k}={v}" for k, v in header_options.items()))
    lines.append("")
    splits = [s for s in SPLITS if any(e.split == s for e in entries)] or ["train"]
    counts = {s: Counter[str]() for s in splits}
    for e in entries:
        for label in e.labels or ("(background)",):
            counts[e.split][label] += 1
    lines.append(f"clips per label and split ({len(entries)} clips, {len(label_names)} labels)")
    rows = [["label", *splits, "total"]]
    for label in [*label_names, "(background)"]:
        per = [counts[s][label] for s in splits]
        if label == "(background)" and not sum(per):
            continue
        rows.append([label, *map(str, per), str(sum(per))])
    clips_per_split = [sum(1 for e in entries if e.split == s) for s in splits]
    rows.append(["clips", *map(str, clips_per_split), str(len(entries))])
    lines += _table(rows)
    empty = [name for name in label_names if not any(name in e.labels for e in entries)]
    if empty:
        lines.append(f"  warning: labels with no clip: {', '.join(empty)}")
    lines.append("")

    lines.append("label co-occurrence (clips showing both)")
    pair_counts: Counter[tuple[str, str]] = Counter()
    for e in entries:
        for a in e.labels:
            for b in e.labels:
                pair_counts[a, b] += 1
    rows = [["", *label_names]]
    rows += [[a, *(str(pair_counts[a, b]) for b in label_names)] for a in label_names]
    lines += _table(rows)
    lines.append("")

    drops: Counter[str] = Counter()
    for video in plan.videos:
        drops.update(video.drops)
    lines.append("windows dropped")
    lines += [f"  {reason}: {n}" for reason, n in sorted(drops.items()) if n] or ["  none"]
    lines.append("")

    lines.append("videos")
    for video in plan.videos:
        n = clips_per_video.get(video.key, 0)
        tm = video.time_map
        covered = tm.covered()
        stream = (
            f"annotated stream {video.annotated.index}, pixels from stream {video.source.index}"
        )
        lines.append(
            f"  {video.key}: {stream}, time map {tm.method} (source covers "
            f"{covered[0]:.3f}–{covered[1]:.3f} s), split "
            f"{plan.split_of_video.get(video.key, '-')}, {n} clips"
        )
        for reason, count in sorted(video.drops.items()):
            if count:
                lines.append(f"    dropped {count}: {reason}")
        for note in video.notes:
            lines.append(f"    note: {note}")
        if video.key in failed:
            lines.append(f"    FAILED: {failed[video.key]}")
            if kept.get(video.key):
                lines.append(
                    f"    kept {kept[video.key]} clip(s) of the earlier run, cut with its options"
                )
    for note in plan.split_notes:
        lines.append(f"  split: {note}")
    if plan.inputs.corrections:
        lines.append("")
        lines.append("corrected annotations (--corrections)")
        lines += [f"  {c.describe()}" for c in plan.inputs.corrections]
    if plan.skipped:
        lines.append("")
        lines.append("skipped (invalid input, --skip-invalid)")
        lines += [f"  {key}" for key in plan.skipped]
    if plan.inputs.warnings:
        lines.append("")
        lines.append("input warnings")
        lines.append(format_report(plan.inputs.warnings))
    return "\n".join(lines) + "\n"
