"""One validation pass over a whole config, before anything heavy (torch) is imported.

``preflight(cfg)`` checks every key (``config._check``), every ``type`` and its argument names
(read from the classes' source, ``registry._static``), the runtime keys ``train`` refuses, the
schedule against ``train_cfg.max_epochs``, the data paths, the class count and the sampling
span per frame rate. Every problem is reported at once, each naming its key, the closest valid
name and where the value was set (file:line or the ``--cfg-options`` item). ``config show``,
``train``, ``browse`` and ``predict`` run it first; the build that follows still checks the
real classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import IGNORED, USED, Config, where
from ..config._check import config_problems
from ..config._dict import closest
from ..config._runtime_keys import runtime_notes, runtime_problems
from ..errors import ConfigError
from ._data import DataFacts, read_data, sampling_report, spans_by_rate
from ._schedule import schedule_problems, shorten
from ._types import check_model_types, check_types

SPLITS = ("train", "val", "test")


@dataclass
class Report:
    """What the pass found: problems (errors), warnings, notes and MMEngine-only keys."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    data: dict[str, DataFacts] = field(default_factory=dict)

    def raise_problems(self) -> None:
        if self.problems:
            raise ConfigError("; ".join(self.problems))


def _where(cfg: Config, key: str) -> str:
    """`` (set by --cfg-options …)`` or `` (file:line)`` for a dotted key, when known."""
    parts: tuple[Any, ...] = tuple(int(p) if p.isdigit() else p for p in key.split("."))
    for length in range(len(parts), 0, -1):
        origin = cfg.origin(parts[:length])
        if origin is not None:
            break
    else:
        below = [o for p, o in cfg._origins.items() if p[: len(parts)] == parts]
        origin = below[0] if below else None
    if origin is None or origin.source == "code":
        return ""
    text = str(origin)
    if text.startswith("--cfg-options"):
        return f" (set by {text})"
    return f" ({where(origin)})"


def _new_top_level(cfg: Config) -> list[str]:
    """Top-level keys that only ``--cfg-options`` made: a config file may define helper
    variables of any name, but one set on the command line is read by nothing."""
    problems = []
    for key in cfg:
        if key in USED or key in IGNORED:
            continue
        sources = {str(o) for p, o in cfg._origins.items() if p[:1] == (key,)}
        if sources and all(s.startswith("--cfg-options") for s in sources):
            hint = closest(key, sorted(USED))
            suggestion = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
            problems.append(
                f"{key}: not a config key ethoclip reads, so setting it changes nothing (a "
                "config file's helper variables are used before --cfg-options apply: set the "
                f"keys that use it){suggestion}"
            )
    return problems


def _dedupe(problems: list[str]) -> list[str]:
    """One problem per key: the first finder's words win (check_config, then the types)."""
    seen: set[str] = set()
    kept = []
    for problem in problems:
        key = problem.split(":", 1)[0]
        if key in seen:
            continue
        seen.add(key)
        kept.append(problem)
    return kept


def preflight(
    cfg: Config,
    *,
    splits: Sequence[str] = SPLITS,
    data: bool = True,
    training: bool = True,
) -> Report:
    """Check ``cfg`` whole (the dataloaders of ``splits``; their files when ``data``)."""
    plain = cfg.to_dict()
    report = Report()
    problems: list[str] = []
    problems, report.ignored = config_problems(plain)
    problems += _new_top_level(cfg)
    problems += check_types(plain)
    problems += runtime_problems(plain)
    problems += schedule_problems(plain)
    report.notes += runtime_notes(plain)
    if data:
        problems += _check_data(plain, splits, report, training=training)
    report.problems = [p + _where(cfg, p.split(":", 1)[0]) for p in _dedupe(problems)]
    return report


def _check_data(
    plain: Mapping[str, Any], splits: Sequence[str], report: Report, *, training: bool
) -> list[str]:
    problems: list[str] = []
    for split in splits:
        loader = plain.get(f"{split}_dataloader")
        dataset = loader.get("dataset") if isinstance(loader, Mapping) else None
        if not isinstance(dataset, Mapping):
            continue
        key = f"{split}_dataloader.dataset"
        facts, found = read_data(dataset, key)
        problems += found
        report.data[split] = facts
        notes, warnings = sampling_report(dataset, facts, training=training and split == "train")
        report.notes += notes
        report.warnings += warnings
    head = (
        (plain.get("model") or {}).get("cls_head")
        if isinstance(plain.get("model"), Mapping)
        else None
    )
    configured = head.get("num_classes") if isinstance(head, Mapping) else None
    for facts in report.data.values():
        if facts.classes is None:
            continue
        if isinstance(configured, int) and configured != len(facts.classes):
            problems.append(
                f"model.cls_head.num_classes: {configured} in the config but {facts.source} has "
                f"{len(facts.classes)} classes ({', '.join(facts.classes)}); set it to "
                f"{len(facts.classes)}, or to None to take it from the data"
            )
            break
    train = report.data.get("train")
    for split, facts in report.data.items():
        if split == "train" or train is None or train.classes is None or facts.classes is None:
            continue
        if facts.classes != train.classes:
            problems.append(
                f"{split}_dataloader.dataset: its classes {facts.classes} are not the training "
                f"data's {train.classes}; use lists of one dataset"
            )
    return problems


def check_for_prediction(cfg: Config) -> None:
    """The parts of a config ``predict`` builds (model, test pipeline): one ConfigError."""
    problems = _dedupe(check_model_types(cfg.to_dict()))
    if problems:
        raise ConfigError("; ".join(p + _where(cfg, p.split(":", 1)[0]) for p in problems))


def check(cfg: Config, **kwargs: Any) -> Report:
    """``preflight`` that raises every problem as one ConfigError."""
    report = preflight(cfg, **kwargs)
    report.raise_problems()
    return report


__all__ = ["Report", "check", "check_for_prediction", "preflight", "shorten", "spans_by_rate"]
