"""The ``ethoclip`` entry of a checkpoint, checked before anything is built from it.

A checkpoint edited by hand, written by a broken run or by another program can hold anything;
``test`` and ``predict`` read its class names, thresholds, model spec and preprocessing. Every
field they read is checked here for kind and agreement, so a damaged file is one line naming
the field, not a TypeError deep in evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import CheckpointError


def _fail(path: str, field: str, problem: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: its ethoclip entry is damaged: {field} {problem}; use a checkpoint written by "
        "'ethoclip train' (epoch_N.ckpt, last.ckpt or best_*.ckpt)"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_meta(meta: Any, path: str) -> None:
    """Raise a CheckpointError naming the first field that is missing or of the wrong kind."""
    if not isinstance(meta, Mapping):
        raise _fail(path, "the entry", f"is {type(meta).__name__}, not a dict")
    classes = meta.get("classes")
    if (
        not isinstance(classes, list | tuple)
        or not classes
        or not all(isinstance(c, str) and c for c in classes)
    ):
        raise _fail(path, "classes", f"is {classes!r}, not a list of class names")
    if len(set(classes)) != len(classes):
        raise _fail(path, "classes", f"repeat names ({', '.join(classes)})")
    if not isinstance(meta.get("multi_label"), bool):
        raise _fail(path, "multi_label", f"is {meta.get('multi_label')!r}, not True/False")
    thresholds = meta.get("thresholds")
    if thresholds is not None and (
        not isinstance(thresholds, list | tuple)
        or len(thresholds) != len(classes)
        or not all(_is_number(t) for t in thresholds)
    ):
        raise _fail(
            path, "thresholds", f"is {thresholds!r}, not one number per class ({len(classes)})"
        )
    model = meta.get("model")
    if not isinstance(model, Mapping) or not isinstance(model.get("cls_head"), Mapping):
        raise _fail(path, "model", "is not a model config with a cls_head")
    if not isinstance(model.get("backbone"), Mapping):
        raise _fail(path, "model.backbone", "is not a dict")
    fmt = meta.get("format", 0)
    if not _is_int(fmt):
        raise _fail(path, "format", f"is {fmt!r}, not a whole number")
    config = meta.get("config")
    if config is not None and not isinstance(config, Mapping):
        raise _fail(path, "config", f"is {type(config).__name__}, not a dict")
    pre = meta.get("preprocessing")
    if not isinstance(pre, Mapping):
        raise _fail(path, "preprocessing", f"is {pre!r}, not a dict")
    pipeline = pre.get("test_pipeline")
    if not isinstance(pipeline, list | tuple) or not all(isinstance(t, Mapping) for t in pipeline):
        raise _fail(path, "preprocessing.test_pipeline", "is not a list of transforms")
    for name in ("clip_frames", "eval_clips"):
        value = pre.get(name)
        if value is not None and (not _is_int(value) or value < 1):
            raise _fail(path, f"preprocessing.{name}", f"is {value!r}, not a whole number ≥ 1")
    clip_sec = pre.get("clip_sec")
    if clip_sec is not None and (not _is_number(clip_sec) or clip_sec <= 0):
        raise _fail(path, "preprocessing.clip_sec", f"is {clip_sec!r}, not seconds > 0")
    fps = pre.get("fps")
    if fps is not None and not _valid_rate(fps):
        raise _fail(path, "preprocessing.fps", f"is {fps!r}, not a frame rate")
    size = pre.get("clip_size")
    if size is not None and (
        not isinstance(size, list | tuple)
        or len(size) != 2
        or not all(_is_int(v) and v > 0 for v in size)
    ):
        raise _fail(path, "preprocessing.clip_size", f"is {size!r}, not [width, height]")
    for name in ("mean", "std"):
        value = pre.get(name)
        if value is not None and (
            not isinstance(value, list | tuple) or not all(_is_number(v) for v in value)
        ):
            raise _fail(path, f"preprocessing.{name}", f"is {value!r}, not a list of numbers")


def _valid_rate(value: Any) -> bool:
    from fractions import Fraction

    if isinstance(value, bool):
        return False
    try:
        rate = Fraction(value) if isinstance(value, str | int) else Fraction(float(value))
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        return False
    return rate > 0
