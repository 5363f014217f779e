"""The correction loop: predict --export-via → correct in VIA → prepare --corrections → train
again. Corrected projects replace (or merge with) the annotation of the videos they hold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ethoclip.annotations import class_names, label_intervals, load_via_project
from ethoclip.cli import main
from ethoclip.dataset import PrepareOptions, load_dataset, load_inputs, prepare_dataset
from ethoclip.inference import Bout, via_project


@pytest.fixture
def root(demo_root: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "dog_video"
    shutil.copytree(demo_root, copy)
    return copy


def _correction(path: Path, bouts: dict[str, list[Bout]], classes: list[str]) -> Path:
    """A project as predict --export-via writes it (after the user's corrections in VIA)."""
    project = via_project([(Path(v), b) for v, b in bouts.items()], classes, name="corrected")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(project))
    return path


CLASSES = ["jump", "run", "sit", "spin", "wag", "walk"]
FIXED = [Bout("sit", 2.0, 9.0, 1, 1), Bout("walk", 9.0, 20.0, 1, 1), Bout("wag", 3.0, 6.0, 1, 1)]


def _intervals(inputs_root: Path, corrections: list[Path], mode: str = "replace") -> list:
    inputs = load_inputs(inputs_root, corrections=corrections, corrections_mode=mode)  # type: ignore[arg-type]
    assert inputs.errors == [], inputs.errors
    [session] = [s for s in inputs.sessions if s.name == "2_2_kt"]
    [project] = [p for p in session.projects if p.segments_of("020200.mp4")]
    names = inputs.class_name_of
    return [
        (i.label, i.start, i.end) for i in label_intervals(project.segments_of("020200.mp4"), names)
    ]


def test_beside_the_original_a_prediction_project_is_two_claims(root: Path) -> None:
    """Why the loop needs --corrections: saved into via/ next to the original, validate
    refuses the video (two projects annotate it differently)."""
    _correction(root / "Feb/2_2_kt/via/predicted.json", {"020200.mp4": FIXED}, CLASSES)
    inputs = load_inputs(root)
    assert any("annotates this video differently" in i.message for i in inputs.errors)
    # The same file named as a correction is no longer a second claim.
    fixed = _intervals(root, [root / "Feb/2_2_kt/via/predicted.json"])
    assert fixed == [("sit", 2.0, 9.0), ("wag", 3.0, 6.0), ("walk", 9.0, 20.0)]


def test_a_correction_replaces_or_merges_with_the_videos_annotation(
    root: Path, tmp_path: Path
) -> None:
    original = load_via_project(root / "Feb/2_2_kt/via/0202.json")
    names = class_names(original.segments)
    before = [
        (i.label, i.start, i.end)
        for i in label_intervals(original.segments_of("020200.mp4"), names)
    ]
    path = _correction(tmp_path / "fix" / "corrected.json", {"020200.mp4": FIXED}, CLASSES)
    assert _intervals(root, [path]) == [("sit", 2.0, 9.0), ("wag", 3.0, 6.0), ("walk", 9.0, 20.0)]
    merged = _intervals(root, [path], "merge")

    def within(bout: tuple[str, float, float]) -> bool:
        label, start, end = bout
        return any(m[0] == label and m[1] <= start and end <= m[2] for m in merged)

    # merge: every original and every corrected bout lies inside a merged one of its label.
    assert all(map(within, before)) and all(within((b.label, b.start, b.end)) for b in FIXED)
    # The other video of the same project keeps its annotation, claimed once.
    inputs = load_inputs(root, corrections=[path])
    [session] = [s for s in inputs.sessions if s.name == "2_2_kt"]
    assert [p.path.name for p in session.projects if p.segments_of("020230.mp4")] == ["0202.json"]
    [c] = inputs.corrections
    assert c.describe() == "2_2_kt/020200.mp4: corrected.json replaces 0202.json"


def test_the_dataset_uses_the_corrected_labels_and_says_so(root: Path, tmp_path: Path) -> None:
    path = _correction(tmp_path / "corrected.json", {"020200.mp4": FIXED}, CLASSES)
    options = PrepareOptions(corrections=(path,), dry_run=True, workers=1)
    planned = prepare_dataset(root, tmp_path / "ds", options)
    assert not (tmp_path / "ds").exists()
    assert "corrected annotations (--corrections)" in planned.summary
    assert "2_2_kt/020200.mp4: corrected.json replaces 0202.json" in planned.summary
    # 4 s windows tiled over the corrected span 2–20 s: 4 clips, labels only from FIXED
    # (the original's run, spin and jump on this video are gone).
    assert "020200.mp4" in planned.summary and planned.clips > 0


def test_correction_problems_are_listed_with_the_others(root: Path, tmp_path: Path) -> None:
    stray = _correction(tmp_path / "stray.json", {"nowhere.mp4": FIXED}, CLASSES)
    inputs = load_inputs(root, corrections=[stray, tmp_path / "missing.json"])
    messages = sorted((i.file.name, i.message) for i in inputs.errors)
    assert messages == [
        ("missing.json", "file not found"),
        (
            "stray.json",
            "corrected video not matched: no session under ROOT has a video of this name",
        ),
    ]


def test_the_command_line_takes_corrections(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _correction(tmp_path / "corrected.json", {"020200.mp4": FIXED}, CLASSES)
    assert main(["validate", str(root), "--corrections", str(path)]) == 0
    assert (
        "correction: 2_2_kt/020200.mp4: corrected.json replaces 0202.json"
        in capsys.readouterr().out
    )
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(root), "--corrections", str(path), "--corrections-mode", "add"])
    assert exc.value.code == 2
    assert "invalid choice: 'add'" in capsys.readouterr().err


def test_the_loop_closes_predict_correct_prepare_train(
    demo_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's model predicts a video kept out of training and exports VIA; the user
    corrects it (moves an edge, deletes a bout, adds one); prepare takes the correction and a
    model trains on the result."""
    out, _ = demo_run
    root = tmp_path / "dog_video"
    shutil.copytree(out / "dog_video", root)
    checkpoint = next((out / "work").glob("best_*.ckpt"))
    video = root / "Feb/2_5_park/video/020515.mp4"
    export = tmp_path / "pred" / "via.json"
    args = ["predict", str(checkpoint), str(video), "--out", str(tmp_path / "pred")]
    assert main([*args, "--export-via", str(export)]) == 0
    said = capsys.readouterr().out
    assert f"--corrections {export}" in said  # where the project goes next
    # In VIA: every predicted bout is kept but the first, whose label is changed to "spin"
    # and whose end moves 0.5 s; a "wag" bout is drawn by hand.
    data = json.loads(export.read_text())
    options = data["attribute"]["1"]["options"]
    spin = next(k for k, v in options.items() if v == "spin")
    wag = next(k for k, v in options.items() if v == "wag")
    first = sorted(data["metadata"], key=lambda k: data["metadata"][k]["z"][0])[0]
    data["metadata"][first]["av"]["1"] = spin
    data["metadata"][first]["z"][1] += 0.5
    data["metadata"]["1_byhand01"] = {
        "vid": "1",
        "flg": 0,
        "z": [1.0, 4.5],
        "xy": [],
        "av": {"1": wag},
    }
    corrected = tmp_path / "corrected.json"
    corrected.write_text(json.dumps(data))
    parsed = load_via_project(corrected)
    truth = label_intervals(parsed.segments_of("020515.mp4"), class_names(parsed.segments))
    dataset = tmp_path / "ds"
    assert (
        main(
            [
                "prepare",
                str(root),
                "--out",
                str(dataset),
                "--short-side",
                "64",
                "--corrections",
                str(corrected),
            ]
        )
        == 0
    )
    ds = load_dataset(dataset)
    clips = [r for r in ds.records if r.source_video.endswith("020515.mp4")]
    assert clips and all(Path(r.via_file).name == "corrected.json" for r in clips)
    for r in clips:  # each clip's labels: the corrected bouts covering half of it (or all of one)
        want = {
            t.label
            for t in truth
            if min(r.end, t.end) - max(r.start, t.start)
            >= min(0.5 * (r.end - r.start), t.end - t.start) - 1e-6
        }
        assert set(r.labels) == want, (r.start, r.labels, want)
    assert "020515.mp4: corrected.json replaces 0205.json" in (dataset / "dataset.txt").read_text()
    # Train again on the corrected dataset, starting from the model that predicted.
    assert (
        main(
            [
                "config",
                "new",
                "--data",
                str(dataset),
                "--model",
                "tiny3d",
                "--out",
                str(tmp_path / "cfg.py"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "train",
                str(tmp_path / "cfg.py"),
                "--work-dir",
                str(tmp_path / "work"),
                "--epochs",
                "1",
                "--cfg-options",
                f"load_from={checkpoint}",
            ]
        )
        == 0
    )
    assert (tmp_path / "work" / "last.ckpt").is_file()
