"""The LR schedule against ``train_cfg.max_epochs``, and ``train --epochs N``.

A schedule is written for a run length: ``CosineAnnealingLR(T_max=62, end=63)`` for 63 epochs.
Changing ``train_cfg.max_epochs`` alone (``--cfg-options train_cfg.max_epochs=3``) leaves it
there, and the LR never decays. So an epoch-based scheduler that ends, reaches ``T_max`` or has
a milestone after the last epoch is an error, and ``--epochs N`` shortens the run and its
schedule together: positions and lengths scale by N / max_epochs (rounded; a warm-up keeps at
least one epoch), and a cosine that spanned its whole window still does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

# MMEngine's "no end" (ethoclip's schedulers use 10**12; MMEngine uses INF).
_OPEN_END = 10**11


def _max_epochs(data: Mapping[str, Any]) -> int | None:
    train_cfg = data.get("train_cfg")
    value = train_cfg.get("max_epochs") if isinstance(train_cfg, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _schedulers(data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    raw = data.get("param_scheduler")
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    key = "param_scheduler" if not isinstance(raw, list | tuple) else None
    return [
        (key or f"param_scheduler.{i}", dict(item))
        for i, item in enumerate(items)
        if isinstance(item, Mapping)
    ]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def schedule_problems(data: Mapping[str, Any]) -> list[str]:
    """Epoch-based schedulers that reach past ``train_cfg.max_epochs``."""
    epochs = _max_epochs(data)
    if epochs is None:
        return []
    problems = []
    for key, item in _schedulers(data):
        if not item.get("by_epoch", True):
            continue  # positions in iterations: they depend on the dataset size
        kind = item.get("type", "?")
        begin = _number(item.get("begin", 0)) or 0.0
        end = _number(item.get("end"))
        reasons = []
        if end is not None and epochs < end < _OPEN_END:
            reasons.append(f"ends at epoch {end:g}")
        t_max = _number(item.get("T_max"))
        # With an end inside the run, a longer T_max is the config's own choice (MMAction2's
        # MViT configs cosine over T_max=200 from epoch 30 to 200); without one, it is not.
        open_end = end is None or end >= _OPEN_END
        if t_max is not None and open_end and begin + t_max > epochs:
            reasons.append(f"reaches its minimum at epoch {begin + t_max:g} (T_max={t_max:g})")
        milestones = item.get("milestones")
        if isinstance(milestones, list | tuple):
            late = [m for m in milestones if _number(m) is not None and begin + m >= epochs]
            if late:
                reasons.append(
                    f"has milestone(s) {', '.join(f'{m:g}' for m in late)} at or after the end"
                )
        if reasons:
            problems.append(
                f"{key}: {kind} {' and '.join(reasons)}, but train_cfg.max_epochs is {epochs}: "
                f"the schedule was written for a longer run and would not play out; shorten the "
                f"run with 'ethoclip train CONFIG --epochs {epochs}' (it scales the schedule too), "
                "or edit the scheduler"
            )
    return problems


def _scaled(value: float, factor: float, *, least: int) -> int:
    return max(least, round(value * factor))


def shorten(data: Mapping[str, Any], epochs: int) -> tuple[dict[str, Any], list[str]]:
    """``{dotted key: new value}`` that make a run ``epochs`` long, and what changed, in words."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"--epochs {epochs!r}: must be a whole number ≥ 1")
    old = _max_epochs(data)
    if old is None:
        raise ConfigError(
            "--epochs: the config has no train_cfg.max_epochs to shorten; set "
            "train_cfg = dict(max_epochs=N)"
        )
    changes: dict[str, Any] = {"train_cfg.max_epochs": epochs}
    notes = [f"train_cfg.max_epochs {old} → {epochs}"]
    if data.get("max_epochs") == old:
        changes["max_epochs"] = epochs  # the config's own helper variable, for the record
    factor = epochs / old
    train_cfg = data["train_cfg"]
    val_begin = train_cfg.get("val_begin")
    if isinstance(val_begin, int) and val_begin > epochs:
        changes["train_cfg.val_begin"] = epochs
        notes.append(f"train_cfg.val_begin {val_begin} → {epochs}")
    if epochs == old:
        return changes, notes
    dropped = []
    for key, item in _schedulers(data):
        # By-iteration positions scale alike: each epoch keeps its number of iterations.
        begin = _number(item.get("begin", 0)) or 0.0
        end = _number(item.get("end"))
        new_begin = _scaled(begin, factor, least=1 if begin > 0 else 0)
        moved: dict[str, Any] = {}
        if new_begin >= epochs:  # e.g. the cosine after a one-epoch warm-up, in a 1-epoch run
            dropped.append(key)
            notes.append(
                f"{key} ({item.get('type')}) would start at epoch {new_begin}, after the last "
                "epoch: dropped"
            )
            continue
        if begin and new_begin != begin:
            moved["begin"] = new_begin
        new_end = None
        if end is not None and end < _OPEN_END:
            new_end = max(new_begin + 1, _scaled(end, factor, least=1))
            if end >= old:
                new_end = epochs  # "until the end" stays so
            if new_end != end:
                moved["end"] = new_end
        t_max = _number(item.get("T_max"))
        if t_max is not None:
            if end is not None and t_max == end - begin and new_end is not None:
                new_t = new_end - new_begin  # the cosine spanned its window: it still does
            elif begin + t_max == old:
                new_t = epochs - new_begin
            else:
                new_t = _scaled(t_max, factor, least=1)
            if new_t != t_max:
                moved["T_max"] = max(1, new_t)
        milestones = item.get("milestones")
        if isinstance(milestones, list | tuple) and all(_number(m) is not None for m in milestones):
            new_m = sorted({_scaled(m, factor, least=1) for m in milestones})
            if new_m != list(milestones):
                moved["milestones"] = new_m
        step = _number(item.get("step_size"))
        if step is not None and "step_size" in item:
            new_step = _scaled(step, factor, least=1)
            if new_step != step:
                moved["step_size"] = new_step
        for arg, value in moved.items():
            changes[f"{key}.{arg}"] = value
        if moved:
            was = ", ".join(f"{a}={item.get(a)!r}" for a in moved)
            now = ", ".join(f"{a}={v!r}" for a, v in moved.items())
            notes.append(f"{key} ({item.get('type')}): {was} → {now}")
    if dropped:  # the list without them; the others keep their (scaled) values
        kept = []
        for key, item in _schedulers(data):
            if key in dropped:
                continue
            prefix = f"{key}."
            kept.append({**item, **{k[len(prefix) :]: v for k, v in changes.items()
                                    if k.startswith(prefix)}})  # fmt: skip
        changes = {k: v for k, v in changes.items() if not k.startswith("param_scheduler")}
        changes["param_scheduler"] = kept
    return changes, notes
