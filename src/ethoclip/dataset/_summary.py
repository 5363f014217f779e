"""``dataset.txt``: what a person needs to trust the dataset, in plain text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ._plan import VideoPlan

SPLITS = ("train", "val", "test")


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
    *,
    header: Mapping[str, Any],
    label_names: Sequence[str],
    entries: Sequence[Mapping[str, Any]],
    plans: Sequence[VideoPlan],
    split_of_video: Mapping[str, str],
    clips_per_video: Mapping[str, int],
    split_notes: Sequence[str],
    skipped: Sequence[str],
    failed: Mapping[str, str],
) -> str:
    """The summary text; deterministic (no times, no absolute paths) so reruns compare equal."""
    lines = [f"ethoclip dataset (ethoclip {header['version']})", ""]
    lines.append("options: " + " ".join(f"{k}={v}" for k, v in header["options"].items()))
    lines.append("")
    splits = [s for s in SPLITS if any(e["split"] == s for e in entries)] or ["train"]
    counts = {s: Counter[str]() for s in splits}
    for e in entries:
        for label in e["labels"] or ["(background)"]:
            counts[e["split"]][label] += 1
    lines.append(f"clips per label and split ({len(entries)} clips, {len(label_names)} labels)")
    rows = [["label", *splits, "total"]]
    for label in [*label_names, "(background)"]:
        per = [counts[s][label] for s in splits]
        if label == "(background)" and not sum(per):
            continue
        rows.append([label, *map(str, per), str(sum(per))])
    clips_per_split = [sum(1 for e in entries if e["split"] == s) for s in splits]
    rows.append(["clips", *map(str, clips_per_split), str(len(entries))])
    lines += _table(rows)
    empty = [name for name in label_names if not any(name in e["labels"] for e in entries)]
    if empty:
        lines.append(f"  warning: labels with no clip: {', '.join(empty)}")
    lines.append("")

    lines.append("label co-occurrence (clips showing both)")
    pair_counts: Counter[tuple[str, str]] = Counter()
    for e in entries:
        for a in e["labels"]:
            for b in e["labels"]:
                pair_counts[a, b] += 1
    rows = [["", *label_names]]
    rows += [[a, *(str(pair_counts[a, b]) for b in label_names)] for a in label_names]
    lines += _table(rows)
    lines.append("")

    drops: Counter[str] = Counter()
    for plan in plans:
        drops.update(plan.drops)
    lines.append("windows dropped")
    lines += [f"  {reason}: {n}" for reason, n in sorted(drops.items()) if n] or ["  none"]
    lines.append("")

    lines.append("videos")
    for plan in plans:
        n = clips_per_video.get(plan.key, 0)
        tm = plan.time_map
        covered = tm.covered()
        stream = f"annotated stream {plan.annotated.index}, pixels from stream {plan.source.index}"
        lines.append(
            f"  {plan.key}: {stream}, time map {tm.method} (source covers "
            f"{covered[0]:.3f}–{covered[1]:.3f} s), split {split_of_video.get(plan.key, '-')}, "
            f"{n} clips"
        )
        for reason, count in sorted(plan.drops.items()):
            if count:
                lines.append(f"    dropped {count}: {reason}")
        for note in plan.notes:
            lines.append(f"    note: {note}")
        if plan.key in failed:
            lines.append(f"    FAILED: {failed[plan.key]}")
    for note in split_notes:
        lines.append(f"  split: {note}")
    if skipped:
        lines.append("")
        lines.append("skipped (invalid input, --skip-invalid)")
        lines += [f"  {key}" for key in skipped]
    return "\n".join(lines) + "\n"
