"""Prediction: VIA export round trip, the demo model's bouts against the truth, awkward inputs,
bounded memory, the three MODEL forms, errors and resume."""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from ethoclip.annotations import class_names, label_intervals, load_via_project
from ethoclip.cli import main
from ethoclip.demo._video import StreamSpec, VideoSpec, cfr_times, write_video
from ethoclip.inference import Bout, BoutOptions, PredictOptions, load_model, predict, via_project
from ethoclip.inference._windows import score_video


def test_the_via_export_reads_back_to_the_same_bouts(tmp_path: Path) -> None:
    bouts = [
        Bout("sit", 0.0, 4.25, 0.9, 0.95),
        Bout("wag", 1.12345, 3.5, 0.8, 0.9),
        Bout("sit", 10.0, 12.0, 0.7, 0.8),
    ]
    project = via_project(
        [(tmp_path / "a.mp4", bouts), (tmp_path / "b.mp4", bouts[:1])], ["sit", "wag"], name="x"
    )
    path = tmp_path / "p.json"
    path.write_text(json.dumps(project))
    parsed = load_via_project(path)
    assert parsed.issues == [] and parsed.videos == ["a.mp4", "b.mp4"]
    names = class_names(parsed.segments)
    intervals = label_intervals(parsed.segments_of("a.mp4"), names)
    expected = sorted(((b.label, b.start, b.end) for b in bouts), key=lambda t: (t[1], t[0]))
    assert [(i.label, i.start, i.end) for i in intervals] == [
        (label, pytest.approx(s, abs=1e-5), pytest.approx(e, abs=1e-5)) for label, s, e in expected
    ]


@pytest.fixture(scope="module")
def demo_model(demo_run: tuple[Path, str]) -> Path:
    out, _ = demo_run
    return next((out / "work").glob("best_*.ckpt"))


def test_the_demo_models_bouts_match_the_annotated_ones(
    demo_model: Path, demo_run: tuple[Path, str]
) -> None:
    """On the two videos kept out of training: the annotated bouts of body behaviours are found
    with IoU ≥ 0.7 (1 s stride, no smoothing); wagging, the hardest, is reported, not asserted.

    The demo's clips are not byte-identical between processes (x264, see docs/design.md "Known
    limits"), so the model differs a little from run to run, and sitting (stillness, the
    tiny 3D CNN's weakest body class) varies most. Runs on record: two gave 9 of 10 at ≥ 0.7
    (sit 0.59–0.63); one 10 of 10 (sit 0.75, 0.81; mean 0.86); one, in CI, 8 of 10 (sit 0.42
    and 0.33, mean 0.76). So: 8 of 10 must reach 0.7, the mean must reach 0.7, and every body
    bout must be found (IoU ≥ 0.25: a predicted bout of its label covers a good part of it)."""
    out, _ = demo_run
    root = out / "dog_video"
    model = load_model(str(demo_model), device="cpu")
    project = load_via_project(root / "Feb/2_5_park/via/0205.json")
    names = class_names(project.segments)
    ious = {}
    for video in ("020500.mp4", "020515.mp4"):
        options = PredictOptions(stride_sec=1.0, out=out / "iou", bouts=BoutOptions(smooth_sec=0.0))
        results = predict(
            model, str(demo_model), [str(root / "Feb/2_5_park/video" / video)], options
        )
        bouts = results[0].summary["bouts"]  # type: ignore[index]
        for truth in label_intervals(project.segments_of(video), names):
            best = max(
                (
                    max(0.0, min(truth.end, b["end"]) - max(truth.start, b["start"]))
                    / (max(truth.end, b["end"]) - min(truth.start, b["start"]))
                    for b in bouts
                    if b["label"] == truth.label
                ),
                default=0.0,
            )
            ious[(video, truth.label, round(truth.start, 1))] = best
    body = {k: v for k, v in ious.items() if k[1] != "wag"}
    print(json.dumps({f"{k[0]} {k[1]} {k[2]}": round(v, 2) for k, v in ious.items()}))
    assert len(body) >= 8
    assert sum(v >= 0.7 for v in body.values()) >= 0.8 * len(body), body
    assert sum(body.values()) / len(body) >= 0.7, body
    assert min(body.values()) >= 0.25, body


def video(
    path: Path,
    width: int = 96,
    height: int = 64,
    *,
    times: list[float] | None = None,
    tb: Fraction = Fraction(1, 90000),
) -> Path:
    pix_fmt = "yuv444p" if width % 2 or height % 2 else "yuv420p"  # 4:2:0 needs even sides
    spec = StreamSpec(width, height, times or cfr_times(60, 12), time_base=tb, pix_fmt=pix_fmt)
    return write_video(path, VideoSpec([spec]))


def rotated_video(path: Path, degrees: int) -> Path:
    """A phone-style file: a display matrix on a stream copy (made by the ffmpeg tool)."""
    import subprocess

    from .realdata import ffmpeg_binary

    exe = ffmpeg_binary()
    if exe is None:
        pytest.skip("imageio-ffmpeg is not installed")
    source = video(path.with_name("unrotated.mp4"), 96, 64)
    subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-display_rotation",
            str(degrees),
            "-i",
            str(source),
            "-c",
            "copy",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


def test_awkward_inputs_are_predicted(
    demo_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = video(tmp_path / "short.mp4", times=cfr_times(20, 12))  # 1.7 s: less than a 4 s window
    odd = video(tmp_path / "odd.mp4", 97, 61, times=cfr_times(120, 12))
    vfr = video(
        tmp_path / "vfr.mp4",
        times=np.concatenate(
            [[0.0], np.cumsum(np.random.default_rng(0).choice([1 / 15, 1 / 10, 1 / 8], 70))]
        )
        .round(3)
        .tolist(),
        tb=Fraction(1, 1000),
    )
    ntsc = video(tmp_path / "ntsc.mp4", times=cfr_times(200, 30000 / 1001))
    phone = rotated_video(tmp_path / "phone.mp4", 90)
    code = main(
        [
            "predict",
            str(demo_model),
            str(short),
            str(odd),
            str(vfr),
            str(ntsc),
            str(phone),
            "--json",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(lines) == 5
    by_name = {Path(r["video"]).name: r for r in lines}
    assert by_name["short.mp4"]["padded"] and by_name["short.mp4"]["windows"] == 1
    assert not by_name["odd.mp4"]["padded"] and by_name["odd.mp4"]["windows"] >= 2
    # 6.67 s, 4 s windows every eighth of a window (the default stride): starts 0, 0.5, …, 2.5
    assert by_name["ntsc.mp4"]["windows"] == 6 and len(by_name["ntsc.mp4"]["top_k"]) == 5
    for record in lines:
        assert record["multi_label"] and record["score"] == "sigmoid probability"
        assert all(0 <= item["score"] <= 1 for item in record["top_k"])
    assert main(["predict", str(demo_model), str(short)]) == 0
    assert "shorter than one window: its last frame was repeated" in capsys.readouterr().out


def _rss() -> int:
    """The process's resident memory now (Linux), in bytes: torch's CPU allocator and the
    decoder's buffers, which tracemalloc does not see."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
def test_memory_stays_flat_on_long_videos(demo_model: Path, tmp_path: Path) -> None:
    if not Path("/proc/self/statm").exists():
        pytest.skip("resident memory is read from /proc (Linux)")
    model = load_model(str(demo_model), device="cpu")
    # 640x480 frames so that keeping them would stand far above the allocator's own noise: glibc
    # gives threads (the scorer, the decoder's frame threads) arenas of their own, each keeping
    # its freed pages, so one run's resident growth varies by up to ~130 MiB whatever the
    # video's length (measured at 64x48 and 640x480, 40 s and 160 s alike).
    width, height, fps = 640, 480, 12
    # A first run creates what any run needs once (torch's kernels, the first arenas).
    warm = video(tmp_path / "warm.mp4", width, height, times=cfr_times(20 * fps, fps))
    score_video(model, warm, batch_size=4)
    peaks, rss = {}, {}
    for seconds in (40, 160):
        path = video(
            tmp_path / f"long{seconds}.mp4", width, height, times=cfr_times(seconds * fps, fps)
        )
        base, samples, done = _rss(), [0], threading.Event()

        def sample(
            base: int = base, samples: list[int] = samples, done: threading.Event = done
        ) -> None:
            while not done.wait(0.002):
                samples.append(_rss() - base)

        sampler = threading.Thread(target=sample)
        sampler.start()
        tracemalloc.start()
        scored = score_video(model, path, stride_sec=2.0, batch_size=4)
        peaks[seconds] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        done.set()
        sampler.join()
        rss[seconds] = max(samples)
        assert len(scored.windows.starts) == seconds // 2 - 1
    # Python's own allocations (numpy's arrays included): four times the video, the same memory.
    assert peaks[160] < 1.25 * peaks[40], peaks
    # The process as a whole (libav's frames and torch's tensors too). A decoded 4:2:0 frame is
    # 640 x 480 x 1.5 = 460 800 B: keeping the frames would hold 1920 of them (885 MB) in the
    # 160 s run and 480 (221 MB) in the 40 s run, whose freed pages the later run reuses, so at
    # least 664 MB more. The bound leaves 256 MiB for the arenas. (Checked by keeping a 4:2:0
    # sized buffer per decoded frame: 475-575 MiB more; without: -38 to +43 MiB.)
    assert rss[160] < rss[40] + 256 * 2**20, rss


def test_config_and_checkpoint_form_with_a_label_file(
    demo_model: Path, demo_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MMAction2's demo form: CONFIG --checkpoint CKPT --label-file LABELS VIDEO."""
    out, _ = demo_run
    labels = tmp_path / "labels.txt"
    labels.write_text("JUMP\nRUN\nSIT\nSPIN\nWAG\nWALK\n")
    clip = next((out / "dataset_train" / "clips").rglob("*_run.mp4"))
    code = main(
        [
            "predict",
            str(out / "work" / "config.py"),
            str(clip),
            "--checkpoint",
            str(demo_model),
            "--label-file",
            str(labels),
            "--json",
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert code == 0
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert {item["label"] for item in record["top_k"]} <= {
        "JUMP",
        "RUN",
        "SIT",
        "SPIN",
        "WAG",
        "WALK",
    }
    assert record["top_k"][0]["label"] == "RUN"


def test_a_pretrained_torchvision_model_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``torchvision:mc3_18``: weights from torch.hub's cache (saved here, random), Kinetics
    class names from the weights' metadata; without the cached file, a clear error."""
    import torchvision

    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    weights = torchvision.models.video.MC3_18_Weights.DEFAULT
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    clip = video(tmp_path / "clip.mp4", 128, 96, times=cfr_times(36, 30))
    import urllib.error

    real = torch.hub.load_state_dict_from_url

    def cached_only(url: str, *args: object, **kwargs: object) -> object:
        if not (checkpoints / Path(url).name).exists():
            raise urllib.error.URLError("no network")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", cached_only)
    assert main(["predict", "torchvision:mc3_18", str(clip)]) == 2
    assert f"put it at {checkpoints / Path(weights.url).name}" in capsys.readouterr().err
    torch.save(
        torchvision.models.video.mc3_18(weights=None).state_dict(),
        checkpoints / Path(weights.url).name,
    )
    assert (
        main(
            [
                "predict",
                "torchvision:mc3_18",
                str(clip),
                "--json",
                "--top-k",
                "3",
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert not record["multi_label"] and record["score"] == "softmax probability"
    assert len(record["top_k"]) == 3 and all(
        item["label"] in weights.meta["categories"] for item in record["top_k"]
    )


def test_errors_resume_and_outputs(
    demo_model: Path, demo_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = demo_run
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("020200.mp4", "020230.mp4"):
        (folder / name).write_bytes((out / "dog_video/Feb/2_2_kt/video" / name).read_bytes())
    (folder / "broken.mp4").write_bytes(b"\x00" * 1000)
    args = [
        "predict",
        str(demo_model),
        str(folder),
        "--out",
        str(tmp_path / "p"),
        "--export-via",
        str(tmp_path / "p" / "via.json"),
        "--render",
    ]
    assert main(args) == 1  # one of three failed
    captured = capsys.readouterr()
    assert f"error: {folder / 'broken.mp4'}: cannot be read as a video" in captured.err
    assert "error: 1 of 3 videos could not be predicted" in captured.err
    files = {p.name for p in (tmp_path / "p" / "020200").iterdir()}
    assert {"timeline.csv", "bouts.csv", "ethogram.png", "overlay.mp4", "predictions.json"} <= files
    timeline = (tmp_path / "p" / "020200" / "timeline.csv").read_text().splitlines()
    assert timeline[0] == "start,end,jump,run,sit,spin,wag,walk" and len(timeline) > 10
    via = load_via_project(tmp_path / "p" / "via.json")
    assert set(via.videos) == {"020200.mp4", "020230.mp4"} and via.issues == []
    from ethoclip.media import probe_video

    overlay = probe_video(tmp_path / "p" / "020200" / "overlay.mp4").stream(0)
    assert overlay.frames == 44 * 12  # every frame of the 44 s video at 12 fps
    assert main(args) == 1
    assert capsys.readouterr().out.count("(done before, skipped)") == 2  # resumed: nothing redone
    notmodel = tmp_path / "model.ckpt"
    notmodel.write_text("hello")
    assert main(["predict", str(notmodel), str(folder / "020200.mp4")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {notmodel}: not a checkpoint")


def test_predict_decodes_a_window_as_the_training_loader_decodes_its_clip(tmp_path: Path) -> None:
    """The test pipeline resizes at decode (DecordDecode then Resize): the training loader
    decodes a clip straight to that size with the reader's scaler. Predict must give the model
    the same pixels for the same frames, not full frames resized afterwards (bilinear without
    antialias: aliased, noisier frames the model never saw in training)."""
    from ethoclip.data import Compose
    from ethoclip.inference._model import ClipModel, WindowPipeline

    video = tmp_path / "clip.mp4"
    write_video(video, VideoSpec([StreamSpec(320, 240, cfr_times(48, 12))]))
    pipeline = [
        {"type": "DecordInit"},
        {
            "type": "SampleFrames",
            "clip_len": 8,
            "frame_interval": 6,
            "num_clips": 1,
            "test_mode": True,
        },
        {"type": "DecordDecode"},
        {"type": "Resize", "scale": (-1, 48)},
        {"type": "FormatShape", "input_format": "NCTHW"},
        {"type": "PackActionInputs"},
    ]
    loaded = Compose(pipeline)(
        {"filename": str(video), "label": 0, "start_index": 0, "modality": "RGB"}
    )["inputs"]
    window = WindowPipeline(pipeline)
    assert window.read_size(320, 240) == (64, 48)
    seen: list[torch.Tensor] = []

    def score(batch: torch.Tensor) -> torch.Tensor:
        seen.append(batch)
        return torch.zeros(len(batch), 1)

    model = ClipModel(
        name="probe",
        classes=["a"],
        multi_label=True,
        thresholds=[0.5],
        window_sec=4.0,
        fps=Fraction(12),
        frames_per_window=48,
        clip_size=None,
        prepare=window,
        score=score,
        read_size=window.read_size,
    )
    score_video(model, video, stride_sec=4.0)
    first = seen[0][0]
    assert first.shape == loaded.shape and torch.equal(first, loaded)
