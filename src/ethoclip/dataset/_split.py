"""Assign whole groups (videos or sessions) to train/val/test: no group in two splits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np


def split_groups(
    label_counts: Mapping[str, Counter[str]],
    *,
    val_fraction: float,
    test_fraction: float = 0.0,
    seed: int = 0,
) -> tuple[dict[str, str], list[str]]:
    """Map each group to "train", "val" or "test", and notes for the summary.

    ``label_counts[group]`` counts clips per label (key ``""`` counts background clips).
    Groups go whole into one split (no leakage). Held-out splits are filled greedily, in a
    seeded order, preferring groups that bring labels the split lacks, never taking the last
    training group of any label, until each split holds its fraction of the clips.
    """
    groups = list(label_counts)
    rng = np.random.default_rng(seed)
    order = [groups[i] for i in rng.permutation(len(groups))]
    size = {g: sum(label_counts[g].values()) for g in groups}
    total = sum(size.values())
    assignment = dict.fromkeys(groups, "train")
    notes: list[str] = []
    for split, fraction in (("test", test_fraction), ("val", val_fraction)):
        if fraction <= 0:
            continue
        target = fraction * total
        held = 0
        have: set[str] = set()
        while held < target:
            candidates = [
                g
                for g in order
                if assignment[g] == "train" and _can_leave(g, assignment, label_counts)
            ]
            if not candidates:
                break
            # Prefer groups that bring labels this split lacks, then the seeded order.
            new_labels = {g: len({k for k in label_counts[g] if k} - have) for g in candidates}
            best = max(candidates, key=lambda g: new_labels[g])
            if held > 0 and held + size[best] > 1.5 * target and new_labels[best] == 0:
                break  # it would overshoot and brings nothing new: stop here
            assignment[best] = split
            held += size[best]
            have |= {k for k in label_counts[best] if k}
        if held == 0:
            notes.append(
                f"no {split} split: too few {'groups' if len(groups) > 1 else 'videos'} to hold "
                "one out without leaking or emptying a label's training data"
            )
    for split in ("val", "test"):
        members = [g for g in groups if assignment[g] == split]
        if not members:
            continue
        present = {k for g in members for k in label_counts[g] if k}
        all_labels = {k for g in groups for k in label_counts[g] if k}
        missing = sorted(all_labels - present)
        if missing:
            notes.append(f"labels with no {split} clip: {', '.join(missing)}")
    return assignment, notes


def _can_leave(
    group: str, assignment: Mapping[str, str], label_counts: Mapping[str, Counter[str]]
) -> bool:
    """True if every label of ``group`` still has training clips without it."""
    for label in label_counts[group]:
        if not label:
            continue
        if not any(
            assignment[g] == "train" and g != group and label_counts[g][label] > 0
            for g in label_counts
        ):
            return False
    return True
