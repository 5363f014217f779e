"""Options of ``prepare``: the one home of their defaults, checked when they are made.

Library errors name the option (``clip_sec``); the command line translates them to its flags.
Every problem is reported at once.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, get_args

from ..errors import DatasetError
from ..media import CRF_RANGE, TIME_MAP_METHODS, X264_PRESETS

WindowMode = Literal["segments", "video"]
Background = Literal["drop", "keep"]
SplitBy = Literal["video", "session"]
CorrectionMode = Literal["replace", "merge"]
StreamChoice = Literal["annotated", "best"]  # or a stream index, as an int

DEFAULT_NAME_TEMPLATE = "{session}_{video}_start{start}_{labels}"
NAME_FIELDS = ("session", "video", "via", "start", "end", "labels", "index")
MIN_SHORT_SIDE = 16


class OptionError(DatasetError):
    """One or more option values are invalid; ``problems`` holds (option, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name} {text}" for name, text in problems))

    def renamed(self, names: dict[str, str]) -> OptionError:
        """The same problems under other names (the command line's flags)."""
        return OptionError(
            [
                (" + ".join(names.get(part, part) for part in name.split(" + ")), text)
                for name, text in self.problems
            ]
        )


def _choice(problems: list[tuple[str, str]], name: str, value: object, kind: object) -> None:
    allowed = get_args(kind)
    if value not in allowed:
        problems.append((name, f"must be one of {', '.join(map(str, allowed))} (got {value!r})"))


def _positive(problems: list[tuple[str, str]], name: str, value: float | None) -> None:
    if value is not None and not value > 0:  # also catches NaN
        problems.append((name, f"must be positive (got {value:g})"))


def name_template_problem(template: str) -> str | None:
    """What is wrong with a clip name template, naming the allowed fields; None if fine."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"{template!r} is malformed ({exc})"
    unknown = [f for f in names if f.split(".")[0].split("[")[0] not in NAME_FIELDS]
    if unknown:
        allowed = ", ".join("{" + f + "}" for f in NAME_FIELDS)
        return f"{template!r} uses unknown field(s) {', '.join(unknown)}; use {allowed}"
    return None


@dataclass(frozen=True)
class PlanOptions:
    """How windows are cut and clips are encoded.

    ``clip_sec`` is the clip length in seconds (MMAction2's ``clip_len`` counts frames: a
    different thing, hence the name). ``stride_sec`` None means back-to-back windows.
    ``stream``: "annotated" (what VIA showed), "best" (largest picture) or a stream index.
    ``fps`` None keeps the source's rate; ``short_side`` None keeps the source's size.
    """

    clip_sec: float = 4.0
    stride_sec: float | None = None
    windows: WindowMode = "segments"
    min_overlap: float = 0.5
    background: Background = "drop"
    stream: StreamChoice | int = "annotated"
    time_map: str = "auto"
    fps: float | None = None
    short_side: int | None = 256
    name_template: str = DEFAULT_NAME_TEMPLATE
    crf: int = 20
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        _positive(problems, "clip_sec", self.clip_sec)
        _positive(problems, "stride_sec", self.stride_sec)
        _choice(problems, "windows", self.windows, WindowMode)
        if not 0 < self.min_overlap <= 1:
            problems.append(("min_overlap", f"must be in (0, 1] (got {self.min_overlap})"))
        _choice(problems, "background", self.background, Background)
        if isinstance(self.stream, bool) or not (
            self.stream in get_args(StreamChoice) or isinstance(self.stream, int)
        ):
            problems.append(
                ("stream", f"must be annotated, best or a stream index (got {self.stream!r})")
            )
        elif isinstance(self.stream, int) and self.stream < 0:
            problems.append(("stream", f"must be a stream index ≥ 0 (got {self.stream})"))
        if self.time_map not in TIME_MAP_METHODS:
            problems.append(
                (
                    "time_map",
                    f"must be one of {', '.join(TIME_MAP_METHODS)} (got {self.time_map!r})",
                )
            )
        _positive(problems, "fps", self.fps)
        if self.short_side is not None and not (
            isinstance(self.short_side, int) and self.short_side >= MIN_SHORT_SIDE
        ):
            problems.append(
                ("short_side", f"must be a whole number ≥ {MIN_SHORT_SIDE} (got {self.short_side})")
            )
        template = name_template_problem(self.name_template)
        if template:
            problems.append(("name_template", template))
        low, high = CRF_RANGE
        if (
            isinstance(self.crf, bool)
            or not isinstance(self.crf, int)
            or not low <= self.crf <= high
        ):
            problems.append(("crf", f"must be a whole number {low}–{high} (got {self.crf})"))
        if self.preset not in X264_PRESETS:
            problems.append(
                ("preset", f"must be one of {', '.join(X264_PRESETS)} (got {self.preset!r})")
            )
        if problems:
            raise OptionError(problems)

    @property
    def stride(self) -> float:
        """Seconds between window starts."""
        return self.stride_sec or self.clip_sec


@dataclass(frozen=True)
class PrepareOptions:
    """Everything ``prepare`` does besides cutting: splits, workers, label map, dry run."""

    plan: PlanOptions = field(default_factory=PlanOptions)
    val_fraction: float = 0.2
    test_fraction: float = 0.0
    split_by: SplitBy = "video"
    seed: int = 0
    workers: int | None = None  # None: one process per core
    skip_invalid: bool = False
    label_map: Path | None = None
    dry_run: bool = False  # validate, plan and split; write nothing
    # Corrected prediction projects (predict --export-via, corrected in VIA): each replaces
    # ("replace") or adds to ("merge") the annotation of the videos it holds.
    corrections: tuple[Path, ...] = ()
    corrections_mode: CorrectionMode = "replace"

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                problems.append((name, f"must be in [0, 1) (got {value:g})"))
        if not problems and self.val_fraction + self.test_fraction >= 1:
            problems.append(
                ("val_fraction + test_fraction", "must stay below 1, leaving clips to train on")
            )
        _choice(problems, "split_by", self.split_by, SplitBy)
        _choice(problems, "corrections_mode", self.corrections_mode, CorrectionMode)
        object.__setattr__(self, "corrections", tuple(Path(p) for p in self.corrections))
        if self.workers is not None and (
            isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1
        ):
            problems.append(("workers", f"must be a whole number ≥ 1 (got {self.workers})"))
        if problems:
            raise OptionError(problems)


def option_names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]
