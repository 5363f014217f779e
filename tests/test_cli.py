"""The command line: output, exit codes, one-line errors without tracebacks, help examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ethoclip.cli import build_parser, main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_help_ends_with_an_example() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[attr-defined]
        assert "example:" in command.format_help(), name
        assert f"ethoclip {name}" in command.format_help(), name


def test_probe_json(capsys: pytest.CaptureFixture[str], videos: dict[str, Path]) -> None:
    code, out, _ = run_cli(capsys, "probe", "--json", str(videos["two_stream"]), str(videos["cfr"]))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2
    assert lines[0]["annotated_stream"] == 0 and lines[0]["export_stream"] == 1
    assert [s["frames"] for s in lines[0]["streams"]] == [80, 70]
    assert lines[0]["warnings"]


def test_probe_table(capsys: pytest.CaptureFixture[str], videos: dict[str, Path]) -> None:
    code, out, _ = run_cli(capsys, "probe", str(videos["two_stream"]))
    assert code == 0
    assert "browser/VIA" in out and "ffmpeg default" in out and "warning:" in out


def test_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    code, out, err = run_cli(capsys, "probe", str(bad))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "notes.mp4" in err and "Traceback" not in err


def test_usage_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["probe"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the following arguments are required: VIDEO")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ethoclip", "--debug", "probe", str(tmp_path / "none.mp4")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "Traceback" in result.stderr
    assert "MediaError" in result.stderr


def test_validate_exit_codes(
    capsys: pytest.CaptureFixture[str], demo_root: Path, tmp_path: Path, missing_videos_root: Path
) -> None:
    code, out, _ = run_cli(capsys, "validate", str(demo_root))
    assert code == 0 and "0 error(s), 0 warning(s)" in out
    code, out, _ = run_cli(capsys, "validate", str(missing_videos_root))
    assert code == 1 and "video not found" in out and "fix: put the video in" in out
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "nowhere"))
    assert code == 2 and "folder not found" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "empty"))
    assert code == 2 and "no session found" in err
    (tmp_path / "file.txt").write_text("")
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "file.txt"))
    assert code == 2 and "file.txt: not a folder; pass the folder that holds video/" in err


def test_validate_json(capsys: pytest.CaptureFixture[str], missing_videos_root: Path) -> None:
    code, out, _ = run_cli(capsys, "validate", "--json", str(missing_videos_root))
    issues = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert {"severity", "file", "where", "message", "value", "fix"} <= set(issues[0])


def test_doctor_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "doctor")
    assert code == 0
    assert "round trip   ok" in out and "libx264" in out and "PyAV" in out


def test_demo_data_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "x").write_text("")
    code, _, err = run_cli(capsys, "demo-data", str(tmp_path))
    assert code == 2 and "folder is not empty" in err


def test_prepare_invalid_input_lists_everything_then_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, missing_videos_root: Path
) -> None:
    code, out, err = run_cli(
        capsys, "prepare", str(missing_videos_root), "--out", str(tmp_path / "ds")
    )
    assert code == 2 and out == ""
    assert err.count("video not found") == 2 and "fix: put the video in" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "nothing was written" in last
    assert "--skip-invalid" in last and not (tmp_path / "ds").exists()


def test_prepare_review_and_rerun(
    capsys: pytest.CaptureFixture[str], demo_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ds"
    args = [
        "prepare",
        str(demo_root),
        "--out",
        str(out),
        "--workers",
        "2",
        "--val-fraction",
        "0.3",
        "--seed",
        "3",
    ]
    code, text, _ = run_cli(capsys, *args)
    assert code == 0 and " clips (" in text and "0 reused" in text
    code, text, _ = run_cli(capsys, *args)
    assert code == 0 and "0 written" in text
    code, text, _ = run_cli(capsys, "review", str(out))
    assert code == 0 and (out / "review.html").is_file()


def test_prepare_bad_option_values(
    capsys: pytest.CaptureFixture[str], demo_root: Path, tmp_path: Path
) -> None:
    code, _, err = run_cli(
        capsys, "prepare", str(demo_root), "--out", str(tmp_path / "x"), "--stream", "front"
    )
    assert code == 2 and "--stream must be annotated, best or a stream index (got 'front')" in err
    with pytest.raises(SystemExit):
        main(["prepare", str(demo_root), "--out", str(tmp_path / "x"), "--windows", "all"])
    assert "invalid choice: 'all'" in capsys.readouterr().err


def test_demo_runs_end_to_end_and_reruns_reuse_it(demo_run: tuple[Path, str]) -> None:
    out, text = demo_run
    assert [
        line.split(" ", 1)[0]
        for line in text.splitlines()
        if line[:2] in {f"{i}/" for i in range(1, 8)}
    ] == [f"{i}/7" for i in range(1, 8)]
    for path in (
        "dataset/review.html",
        "work/curves.png",
        "eval/metrics.json",
        "predictions/via_predictions.json",
    ):
        assert (out / path).is_file(), path
    assert "top 5 for " in text and "validation mAP" in text
    again = subprocess.run(
        [sys.executable, "-m", "ethoclip", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "1/7 demo data: reusing" in again and "5/7 train: reusing the trained model" in again
    assert "0 written, 55 reused" in again


def test_output_cut_short_by_a_pipe_is_not_a_traceback(videos: dict[str, Path]) -> None:
    # `ethoclip probe ... | head -1`: the reader closes the pipe after one line.
    args = [sys.executable, "-m", "ethoclip", "probe", "--json", *[str(videos["cfr"])] * 200]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=3600) == 0, err  # a hang guard only
    assert json.loads(first)["streams"] and "Traceback" not in err


def test_prepare_dry_run(
    capsys: pytest.CaptureFixture[str], demo_root: Path, tmp_path: Path
) -> None:
    code, out, _ = run_cli(
        capsys,
        "prepare",
        str(demo_root),
        "--out",
        str(tmp_path / "ds"),
        "--dry-run",
        "--stride",
        "2",
    )
    assert code == 0 and "clips per label and split" in out
    assert out.strip().endswith("nothing written") and not (tmp_path / "ds").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "-3"], "error: --workers must be a whole number ≥ 1 (got -3)"),
        (["--workers", "0"], "error: --workers must be a whole number ≥ 1 (got 0)"),
        (
            ["--val-fraction", "0.6", "--test-fraction", "0.5"],
            "error: --val-fraction + --test-fraction must stay below 1, leaving clips to train on",
        ),
        (["--crf", "99"], "error: --crf must be a whole number 0–51 (got 99)"),
        (["--preset", "turbo"], "error: --preset must be one of ultrafast, superfast"),
        (
            ["--clip-len", "-1", "--val-fraction", "2"],
            "error: --clip-len must be positive (got -1); --val-fraction must be in [0, 1) (got 2)",
        ),
    ],
)
def test_bad_prepare_values_are_one_line_and_touch_nothing(
    capsys: pytest.CaptureFixture[str],
    demo_root: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "ds"
    code, stdout, err = run_cli(capsys, "prepare", str(demo_root), "--out", str(out), *args)
    assert code == 2 and stdout == "" and err.startswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_a_bad_option_never_costs_an_existing_dataset(
    capsys: pytest.CaptureFixture[str], demo_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ds"
    assert run_cli(capsys, "prepare", str(demo_root), "--out", str(out), "--workers", "2")[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = run_cli(
        capsys, "prepare", str(demo_root), "--out", str(out), "--preset", "turbo"
    )
    assert code == 2 and "--preset must be one of" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_demo_refuses_bad_input_before_writing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(capsys, "demo", "--out", str(tmp_path / "d"), "--workers", "-1")
    assert code == 2 and err == "error: --workers must be a whole number ≥ 1 (got -1)\n"
    assert not (tmp_path / "d").exists()  # no demo data written first
    a_file = tmp_path / "file"
    a_file.write_text("")
    code, _, err = run_cli(capsys, "demo", "--out", str(a_file))
    assert (
        code == 2 and err == f"error: {a_file}: exists and is not a folder; choose another --out\n"
    )
    code, _, err = run_cli(capsys, "demo-data", str(a_file))
    assert code == 2 and err.startswith(f"error: {a_file}: exists and is not a folder")


def test_probe_goes_on_past_an_unreadable_file(
    capsys: pytest.CaptureFixture[str], videos: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    code, out, err = run_cli(
        capsys, "probe", "--json", str(videos["cfr"]), str(bad), str(videos["vfr"])
    )
    assert code == 1  # some failed
    assert [json.loads(line)["path"] for line in out.splitlines()] == [
        str(videos["cfr"]),
        str(videos["vfr"]),
    ]
    assert f"error: {bad}: cannot be read as a video" in err
    assert "error: 1 of 3 files could not be probed" in err and "Traceback" not in err


def test_debug_works_after_the_command_too(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ethoclip", "probe", str(tmp_path / "none.mp4"), "--debug"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" in result.stderr and "MediaError" in result.stderr


def test_split_options_say_their_defaults() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    text = " ".join(sub.choices["prepare"].format_help().split())  # type: ignore[attr-defined]
    for phrase in (
        "(default 0.2)",
        "(default 0.0)",
        "seed of the split (default 0)",
        "(default 4)",
    ):
        assert phrase in text, phrase


def test_ctrl_c_while_starting_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.abc

    from ethoclip import _entry

    class Interrupt(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, *args: object) -> None:
            if name == "ethoclip.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "ethoclip.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupt(), *sys.meta_path])
    with pytest.raises(SystemExit) as info:
        _entry.run()
    assert info.value.code == 130
    assert capsys.readouterr().err == "error: interrupted while starting; nothing was done\n"
