"""The command line: output, exit codes, one-line errors without tracebacks, help examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ethoclip.cli import build_parser, main

from .conftest import VIA3_DIR


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
    capsys: pytest.CaptureFixture[str], demo_root: Path, tmp_path: Path
) -> None:
    code, out, _ = run_cli(capsys, "validate", str(demo_root))
    assert code == 0 and "0 error(s), 0 warning(s)" in out
    code, out, _ = run_cli(capsys, "validate", str(VIA3_DIR))
    assert code == 1 and "video not found" in out and "fix: put the video in" in out
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "nowhere"))
    assert code == 2 and "folder not found" in err
    code, _, err = run_cli(capsys, "validate", str(tmp_path))
    assert code == 2 and "no session found" in err
    (tmp_path / "file.txt").write_text("")
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "file.txt"))
    assert code == 2 and "file.txt: not a folder; pass the folder that holds video/" in err


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "validate", "--json", str(VIA3_DIR))
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
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "prepare", str(VIA3_DIR), "--out", str(tmp_path / "ds"))
    assert code == 2 and out == ""
    assert err.count("video not found") >= 6 and "fix: put the video in" in err
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


def test_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "demo", "--out", str(tmp_path / "demo"), "--workers", "2")
    assert code == 0
    assert "4/4 review" in out and (tmp_path / "demo" / "dataset" / "train.txt").is_file()


def test_output_cut_short_by_a_pipe_is_not_a_traceback(videos: dict[str, Path]) -> None:
    # `ethoclip probe ... | head -1`: the reader closes the pipe after one line.
    args = [sys.executable, "-m", "ethoclip", "probe", "--json", *[str(videos["cfr"])] * 200]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
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
