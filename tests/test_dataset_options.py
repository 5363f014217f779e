"""Options of prepare: defaults live in one place, and every bad value is refused when made."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethoclip.dataset import OptionError, PlanOptions, PrepareOptions, prepare_dataset
from ethoclip.errors import MediaError
from ethoclip.media import check_encoder_settings


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"background": "kepp"}, ("background", "must be one of drop, keep (got 'kepp')")),
        ({"windows": "vidoe"}, ("windows", "must be one of segments, video (got 'vidoe')")),
        ({"crf": 99}, ("crf", "must be a whole number 0–51 (got 99)")),
        ({"preset": "turbo"}, ("preset", "must be one of ultrafast, superfast, veryfast")),
        ({"stream": "front"}, ("stream", "must be annotated, best or a stream index")),
        ({"stream": -1}, ("stream", "must be a stream index ≥ 0 (got -1)")),
        ({"short_side": 8}, ("short_side", "must be a whole number ≥ 16 (got 8)")),
        ({"fps": 0}, ("fps", "must be positive (got 0)")),
        ({"clip_sec": float("nan")}, ("clip_sec", "must be positive (got nan)")),
        ({"time_map": "guess"}, ("time_map", "must be one of auto, identity, linear, index")),
    ],
)
def test_plan_options_refuse_bad_values(kwargs: dict, problem: tuple[str, str]) -> None:
    with pytest.raises(OptionError) as info:
        PlanOptions(**kwargs)
    ((name, text),) = info.value.problems
    assert name == problem[0] and text.startswith(problem[1])
    assert str(info.value).startswith(f"{problem[0]} {problem[1]}")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"workers": 0}, ("workers", "must be a whole number ≥ 1 (got 0)")),
        ({"workers": -3}, ("workers", "must be a whole number ≥ 1 (got -3)")),
        ({"split_by": "camera"}, ("split_by", "must be one of video, session (got 'camera')")),
        ({"val_fraction": 1.5}, ("val_fraction", "must be in [0, 1) (got 1.5)")),
    ],
)
def test_prepare_options_refuse_bad_values(kwargs: dict, problem: tuple[str, str]) -> None:
    with pytest.raises(OptionError) as info:
        PrepareOptions(**kwargs)
    assert problem in [(n, t[: len(problem[1])]) for n, t in info.value.problems]


def test_every_problem_at_once_and_renamed_for_the_command_line() -> None:
    with pytest.raises(OptionError) as info:
        PlanOptions(clip_sec=-1, crf=60, background="kepp")
    assert [name for name, _ in info.value.problems] == ["clip_sec", "background", "crf"]
    flags = info.value.renamed({"clip_sec": "--clip-len", "crf": "--crf"})
    assert str(flags).startswith("--clip-len must be positive (got -1); background must be one")


def test_defaults_have_one_home() -> None:
    plan = PlanOptions()
    assert (plan.clip_sec, plan.stride, plan.crf, plan.preset) == (4.0, 4.0, 20, "veryfast")
    assert PlanOptions(stride_sec=2.0).stride == 2.0
    assert PrepareOptions().plan == plan


def test_the_encoder_is_tried_once_before_anything(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_encoder_settings(crf=20, preset="veryfast")
    with pytest.raises(MediaError, match=r"libx264\) rejects crf=20, preset='turbo'"):
        check_encoder_settings(crf=20, preset="turbo")
    # Even a preset that got past the option check (a newer list than this x264's) stops prepare
    # before any input is read or any file is made.
    monkeypatch.setattr("ethoclip.dataset._options.X264_PRESETS", ("turbo",))
    with pytest.raises(MediaError, match="rejects"):
        prepare_dataset(
            demo_root, tmp_path / "ds", PrepareOptions(plan=PlanOptions(preset="turbo"))
        )
    assert not (tmp_path / "ds").exists()
