"""The validation pass before anything heavy: keys, types and arguments read from source, the
schedule against max_epochs and ``train --epochs``, data paths and class counts, sampling by
time at mixed frame rates, ``--cfg-options`` syntax, number arguments and devices."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ethoclip.cli import main
from ethoclip.config import Config
from ethoclip.config._new import new_config
from ethoclip.config._rates import time_sampling
from ethoclip.dataset import read_manifest
from ethoclip.errors import ConfigError
from ethoclip.preflight import check, preflight, shorten, spans_by_rate
from ethoclip.preflight._schedule import schedule_problems
from ethoclip.registry import REGISTRIES
from ethoclip.registry._static import Params, static_params

SRC = str(Path(__file__).resolve().parents[1] / "src")


def rc(argv: list[str]) -> int:
    """The exit status of a command run in-process (argparse's usage errors exit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def _real_params(obj: Any) -> Params:
    sig = inspect.signature(obj)
    p = inspect.Parameter
    return Params(
        tuple(
            n for n, q in sig.parameters.items() if q.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ),
        tuple(
            n
            for n, q in sig.parameters.items()
            if q.default is p.empty and q.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ),
        any(q.kind is p.VAR_KEYWORD for q in sig.parameters.values()),
    )


def test_arguments_read_from_source_are_the_classes_own() -> None:
    """The static table agrees with inspect.signature for every registered class; where a class
    passes **kwargs on to its bases, it takes its own arguments plus (some of) theirs, and never
    an argument no class in that chain takes."""
    checked = 0
    for registry in REGISTRIES.values():
        for entry in registry.entries(include_fallback=False):
            static = static_params(entry.target)
            assert static is not None, entry.target
            obj = entry.load()
            real = _real_params(obj)
            if real.var_keyword:
                chain: list[str] = []
                for cls in obj.__mro__ if inspect.isclass(obj) else (obj,):
                    if inspect.isclass(obj) and "__init__" not in vars(cls):
                        continue
                    found = _real_params(cls)
                    chain += [a for a in found.accepted if a not in chain]
                    if not found.var_keyword:
                        break
                assert set(real.accepted) <= set(static.accepted) <= set(chain), entry.name
                assert static.accepted[: len(real.accepted)] == real.accepted, entry.name
            else:
                assert static == real, entry.name
            checked += 1
    assert checked >= 50
    import torch.optim

    for name in ("AdamW", "SGD", "Adam"):  # torch's own, reached through torch/optim/__init__
        assert static_params(f"torch.optim:{name}") == _real_params(getattr(torch.optim, name))


TINY = """\
data_root = {data!r}
model = dict(type='Recognizer3D', backbone=dict(type='TinyVideoNet', widths=(4, 8)),
             cls_head=dict(type='I3DHead', num_classes=None, average_clips='prob'))
pipe = [dict(type='DecordInit'), dict(type='SampleFrames', clip_len=4, frame_interval=8),
        dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 32)),
        dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
train_dataloader = dict(batch_size=2, num_workers=0,
    dataset=dict(type='ClipDataset', data_root=data_root, split='train', pipeline=pipe))
val_dataloader = dict(batch_size=2, num_workers=0,
    dataset=dict(type='ClipDataset', data_root=data_root, split='val', pipeline=pipe,
                 test_mode=True))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=0.01))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=4, by_epoch=True, milestones=[2])]
"""


def fake_dataset(
    root: Path,
    rates: dict[str, int] | None = None,
    *,
    labels: tuple[str, ...] = ("sit", "walk"),
    splits: tuple[str, ...] = ("train", "val"),
) -> Path:
    """A 'prepare' folder's lists, label map and manifest (no video files: the validation pass
    and config new read only these). ``rates``: fps → clips of 4 s at that rate, per split."""
    rates = rates or {"12": 3}
    root.mkdir(parents=True, exist_ok=True)
    (root / "label_map.txt").write_text("".join(f"{n}\n" for n in labels))
    lines, lists = [], {s: [] for s in splits}
    for split in splits:
        for fps, count in rates.items():
            for k in range(count):
                clip = f"clips/{split}_{fps}_{k}.mp4"
                frames = 4 * int(fps)
                label = k % len(labels)
                lines.append(
                    {
                        "clip": clip, "split": split, "labels": [labels[label]],
                        "label_ids": [label], "session": "s", "source_video": "v.mp4",
                        "via_file": "p.json", "segment_ids": ["1"], "annotated_stream": 0,
                        "source_stream": 0, "time_map": "identity", "start": 0.0, "end": 4.0,
                        "source_start": 0.0, "source_end": 4.0, "first_source_frame": 0,
                        "last_source_frame": frames - 1, "num_frames": frames,
                        "fps": float(fps), "fps_exact": fps, "width": 32, "height": 32,
                        "rotation": 0, "recipe": "r",
                    }
                )  # fmt: skip
                lists[split].append(f"{clip} {label}")
    (root / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    for split, entries in lists.items():
        (root / f"{split}.txt").write_text("\n".join(entries) + "\n")
    return root


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    data = fake_dataset(tmp_path / "ds")
    path = tmp_path / "tiny.py"
    path.write_text(TINY.format(data=str(data)))
    return path


def test_typos_are_errors_with_the_closest_name_on_both_paths(tiny: Path) -> None:
    text = tiny.read_text().replace("average_clips='prob'", "average_clips='prob', num_clases=2")
    tiny.write_text(text)
    with pytest.raises(ConfigError) as info:
        check(Config.fromfile(tiny), data=False)
    message = str(info.value)
    assert "model.cls_head.num_clases: I3DHead takes no argument 'num_clases'" in message
    assert "did you mean 'num_classes'" in message and f"{tiny.name}:3)" in message
    options = [
        "optim_wrapper.optimizer.lrr=0.1",
        "train_dataloader.dataset.pipeline.1.clip_lenn=3",
        "model.backbone.type=TinyVideoNett",
        "param_scheduler.0.milestone=[1]",
    ]
    report = preflight(Config.fromfile(tiny, options), data=False)
    found = "\n".join(report.problems)
    for expected in (
        "optim_wrapper.optimizer.lrr: AdamW takes no argument 'lrr'; did you mean 'lr'",
        "pipeline.1.clip_lenn: SampleFrames takes no argument 'clip_lenn'; did you mean 'clip_len'",
        "model.backbone.type: unknown model type 'TinyVideoNett'; did you mean 'TinyVideoNet'",
        "param_scheduler.0.milestone: MultiStepLR takes no argument 'milestone'; did you mean "
        "'milestones'",
        "(set by --cfg-options optim_wrapper.optimizer.lrr=0.1)",
    ):
        assert expected in found
    assert len(report.problems) == 5  # the head typo, and one per option


def test_the_pass_runs_without_torch_and_config_show_reports_everything(tiny: Path) -> None:
    """In a fresh interpreter: config show with typos fails in one line, and torch was never
    imported (the pass reads classes' source, not the classes)."""
    bad = tiny.with_name("bad.py")
    hooks = "[dict(type='ProfilerHook'), dict(type='EMAHook', momentun=0.1)]"
    bad.write_text(tiny.read_text() + f"custom_hooks = {hooks}\n")
    code = (
        "import sys; from ethoclip.cli import main\n"
        f"rc = main(['config', 'show', {str(bad)!r}, '--cfg-options', "
        "'model.cls_head.num_clases=3'])\n"
        "print('RC', rc, 'torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": SRC}
    )
    assert "RC 2 False" in done.stdout, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and len(done.stderr.splitlines()) == 1
    assert "custom_hooks.0: ProfilerHook is not a hook ethoclip runs" in errors[0]
    assert (
        "custom_hooks.1.momentun: EMAHook takes no argument 'momentun'; did you mean" in errors[0]
    )
    assert "model.cls_head.num_clases: I3DHead takes no argument" in errors[0]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("k=[1,2", "the value's brackets do not match"),
        ("k=(1,[2)]", "the value's brackets do not match"),
        ("a..b=1", "the key 'a..b' has an empty part"),
        ("model.=1", "has an empty part"),
        ("=3", "each option is KEY=VALUE"),
    ],
)
def test_malformed_cfg_options_are_one_line(
    tiny: Path, capsys: pytest.CaptureFixture[str], option: str, message: str
) -> None:
    assert main(["config", "show", str(tiny), "--cfg-options", option]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_new_top_level_keys_from_cfg_options_are_errors(tiny: Path) -> None:
    report = preflight(Config.fromfile(tiny, ["trian_cfg.max_epochs=3"]), data=False)
    assert any("trian_cfg" in p and "did you mean 'train_cfg'" in p for p in report.problems)
    (problem,) = preflight(Config.fromfile(tiny, ["epochs=3"]), data=False).problems
    assert problem.startswith("epochs: not a config key ethoclip reads, so setting it changes")
    assert "(set by --cfg-options epochs=3)" in problem
    # A helper variable of the file: its values were computed before the option applied.
    (problem,) = preflight(Config.fromfile(tiny, ["data_root=/x"]), data=False).problems
    assert "data_root: not a config key ethoclip reads" in problem and "set the keys" in problem


def test_a_schedule_built_for_a_longer_run_is_refused() -> None:
    """The shape of train --help's own example: max_epochs changed, the schedule left."""
    text = new_config_text()
    cfg = Config(text)
    assert schedule_problems(cfg.to_dict()) == []
    cfg.merge_from_dict(["train_cfg.max_epochs=3"])
    problems = schedule_problems(cfg.to_dict())
    assert len(problems) == 1
    assert problems[0].startswith("param_scheduler.1: CosineAnnealingLR ends at epoch 63")
    assert "--epochs 3" in problems[0]
    steps = {"train_cfg": {"max_epochs": 3}, "param_scheduler": [
        {"type": "MultiStepLR", "milestones": [2, 3]}, {"type": "LinearLR", "by_epoch": False,
                                                        "end": 500}]}  # fmt: skip
    (problem,) = schedule_problems(steps)
    assert "milestone(s) 3 at or after the end" in problem  # iterations are not judged


def new_config_text() -> dict[str, Any]:
    """The schedule `config new` writes, for 63 epochs."""
    return {
        "max_epochs": 63,
        "train_cfg": {"max_epochs": 63, "val_begin": 1},
        "param_scheduler": [
            {"type": "LinearLR", "start_factor": 0.1, "by_epoch": True, "begin": 0, "end": 1,
             "convert_to_iter_based": True},
            {"type": "CosineAnnealingLR", "T_max": 62, "eta_min": 3e-5, "by_epoch": True,
             "begin": 1, "end": 63},
        ],
    }  # fmt: skip


def test_epochs_shortens_the_run_and_its_schedule_together() -> None:
    cfg = Config(new_config_text())
    changes, notes = shorten(cfg.to_dict(), 3)
    cfg.merge_from_dict(changes, source="--epochs 3")
    data = cfg.to_dict()
    assert data["train_cfg"]["max_epochs"] == 3 and data["max_epochs"] == 3
    warmup, cosine = data["param_scheduler"]
    assert (warmup["begin"], warmup["end"]) == (0, 1)  # a warm-up keeps its epoch
    assert (cosine["begin"], cosine["end"], cosine["T_max"]) == (1, 3, 2)  # still to the end
    assert schedule_problems(data) == []
    assert str(cfg.origin("param_scheduler.1.T_max")) == "--epochs 3"
    assert "param_scheduler.1 (CosineAnnealingLR): end=63, T_max=62 → end=3, T_max=2" in notes
    steps = {
        "train_cfg": {"max_epochs": 100, "val_begin": 50},
        "param_scheduler": [{"type": "MultiStepLR", "milestones": [40, 80], "end": 100}],
    }
    changes, _ = shorten(steps, 10)  # fmt: skip
    assert changes["param_scheduler.0.milestones"] == [4, 8]
    assert changes["param_scheduler.0.end"] == 10 and changes["train_cfg.val_begin"] == 10
    one, notes = shorten(new_config_text(), 1)  # the warm-up is the whole run
    assert [s["type"] for s in one["param_scheduler"]] == ["LinearLR"]
    assert (
        "param_scheduler.1 (CosineAnnealingLR) would start at epoch 1, after the last" in notes[1]
    )
    with pytest.raises(ConfigError, match=r"no train_cfg\.max_epochs"):
        shorten({}, 3)


def test_train_epochs_runs_the_check_on_the_shortened_config(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--epochs is applied before the pass; the error path leaves no work dir behind."""
    work = tmp_path / "never"
    assert main(["train", str(tiny), "--cfg-options", "train_cfg.max_epochs=1",
                 "--work-dir", str(work)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "param_scheduler.0: MultiStepLR ends at epoch 4" in err and "--epochs 1" in err
    assert not work.exists()
    assert rc(["train", str(tiny), "--epochs", "0"]) == 2
    assert "argument --epochs: must be at least 1" in capsys.readouterr().err


def test_data_paths_and_class_counts_are_checked(tiny: Path, tmp_path: Path) -> None:
    cfg = Config.fromfile(tiny, ["model.cls_head.num_classes=3"])
    (problem,) = preflight(cfg).problems
    assert "model.cls_head.num_classes: 3 in the config but" in problem
    assert "has 2 classes (sit, walk)" in problem
    other = fake_dataset(tmp_path / "other", labels=("run", "sit"))
    cfg = Config.fromfile(tiny, [f"val_dataloader.dataset.data_root={other}"])
    (problem,) = preflight(cfg).problems
    assert (
        "val_dataloader.dataset: its classes ['run', 'sit'] are not the training data's" in problem
    )
    video = (
        "dict(type='VideoDataset', ann_file=data_root + '/nope.txt', "
        "data_prefix=dict(video=data_root + '/gone'), pipeline=pipe)"
    )
    tiny.write_text(tiny.read_text() + f"test_dataloader = dict(dataset={video})\n")
    (problem,) = preflight(Config.fromfile(tiny)).problems
    assert (
        problem.startswith("test_dataloader.dataset.ann_file:")
        and "nope.txt does not exist" in problem
    )


def test_config_new_samples_the_same_seconds_at_every_frame_rate(tmp_path: Path) -> None:
    """25 and 30 fps clips of 4 s: one frame_interval would cover 3.84 s at 25 fps and 3.2 s
    at 30 fps; config new writes target_fps, and the pass reports one span for both."""
    data = fake_dataset(tmp_path / "mixed", {"25": 2, "30": 5})
    timing = time_sampling(read_manifest(data), 24)
    assert (timing.frame_interval, timing.target_fps) == (4, 25.0)
    text = new_config(data, "tiny3d")
    assert "target_fps=25" in text
    assert "24 frames over 3.84 s at every frame rate" in text
    path = tmp_path / "mixed.py"
    path.write_text(text)
    report = check(Config.fromfile(path))
    assert report.warnings == []
    assert (
        "train_dataloader.dataset: sampling covers 25 fps (2 clips): 3.84 s of 4.00 s; "
        "30 fps (5 clips): 3.84 s of 4.00 s" in report.notes
    )
    records = read_manifest(data)
    spans = spans_by_rate({"clip_len": 24, "frame_interval": 4}, records, training=True)
    assert [round(s, 2) for _, s, _ in spans.values()] == [3.84, 3.2]
    # The same config without target_fps: warned about, with the fix.
    report = check(Config.fromfile(path, ["train_dataloader.dataset.pipeline.1.target_fps=None"]))
    (warning,) = report.warnings
    assert "25 fps (2 clips): 3.84 s of 4.00 s; 30 fps (5 clips): 3.20 s of 4.00 s" in warning
    assert "give SampleFrames a target_fps" in warning


def test_config_new_wires_the_test_split_to_test_txt(tmp_path: Path) -> None:
    with_test = fake_dataset(tmp_path / "t", splits=("train", "val", "test"))
    cfg = Config(_exec(new_config(with_test, "tiny3d")))
    assert cfg.test_dataloader.dataset.ann_file.endswith("/test.txt")
    assert cfg.val_dataloader.dataset.ann_file.endswith("/val.txt")
    assert cfg.test_dataloader.dataset.pipeline == cfg.val_dataloader.dataset.pipeline
    without = fake_dataset(tmp_path / "v")
    cfg = Config(_exec(new_config(without, "tiny3d")))
    assert cfg.test_dataloader == cfg.val_dataloader


def _exec(text: str) -> dict[str, Any]:
    """A written config's values (its _base_ is irrelevant for the data keys)."""
    scope: dict[str, Any] = {}
    exec(text, scope)
    return {k: v for k, v in scope.items() if not k.startswith("__")}


def test_number_arguments_are_refused_before_torch_and_the_model(tmp_path: Path) -> None:
    """0 is not 'the default': each bad number is one line, exit 2, with torch never imported."""
    (tmp_path / "here.ckpt").write_bytes(b"never read")
    cases = [
        ["predict", "m.ckpt", "v.mp4", "--top-k", "0"],
        ["predict", "m.ckpt", "v.mp4", "--batch-size", "0"],
        ["predict", "m.ckpt", "v.mp4", "--window", "0"],
        ["predict", "m.ckpt", "v.mp4", "--stride", "-1"],
        ["predict", "m.ckpt", "v.mp4", "--smooth", "-1"],
        ["predict", "m.ckpt", "v.mp4", "--window", "nan"],
        ["predict", "m.ckpt", "v.mp4", "--device", "gpu"],
        ["test", "m.ckpt", "--batch-size", "0"],
        ["train", "c.py", "--num-nodes", "0"],
        ["predict", "m.ckpt", "v.mp4"],  # a missing MODEL: before torch too
        ["predict", "here.ckpt", "gone.mp4"],  # a missing video, before the model loads
        ["test", "m.ckpt"],
    ]
    code = (
        "import sys, json; from tests.test_preflight import rc\n"
        f"rcs = [rc(a) for a in {cases!r}]\n"
        "print('RC', json.dumps(rcs), 'torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": f"{SRC}:{Path(SRC).parent}"},
    )  # fmt: skip
    assert f"RC {json.dumps([2] * len(cases))} False" in done.stdout, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(cases) and all(line.startswith("error: ") for line in lines)
    assert "argument --top-k: must be at least 1, got 0" in lines[0]
    assert "argument --window: must be more than 0, got 0" in lines[2]
    assert "gone.mp4: no such video file or folder" in lines[-2]


def test_a_missing_gpu_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    model = tmp_path / "m.ckpt"
    model.write_bytes(b"not read: the device is checked first")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read either")
    for argv in (["predict", str(model), str(video), "--device", "cuda"],
                 ["test", str(model), "--device", "cuda:1"]):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "this machine has no CUDA GPU; use --device cpu" in err and err.count("\n") == 1


def test_browse_and_train_refuse_a_typo_before_building_anything(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fake dataset has no video files: only a pass that runs before the build can answer."""
    out = tmp_path / "gifs"
    bad = ["--cfg-options", "train_dataloader.dataset.pipeline.3.scal=(-1,32)"]
    assert main(["browse", str(tiny), "--out", str(out), *bad]) == 2
    err = capsys.readouterr().err
    assert "pipeline.3.scal: Resize takes no argument 'scal'; did you mean 'scale'" in err
    assert not out.exists()
    assert main(["train", str(tiny), "--work-dir", str(tmp_path / "w"), *bad]) == 2
    assert "did you mean 'scale'" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


def test_predict_checks_only_what_it_builds_from_a_config(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An optimizer setting prediction never reads is not its business; a model typo is."""
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"never read")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"never read")
    argv = ["predict", str(tiny), str(video), "--checkpoint", str(weights)]
    tiny.write_text(
        tiny.read_text() + "optim_wrapper['constructor'] = 'TSMOptimWrapperConstructor'\n"
    )
    from ethoclip.preflight import check_for_prediction

    check_for_prediction(Config.fromfile(tiny))  # no error: the optimizer is training's
    tiny.write_text(tiny.read_text().replace("num_classes=None", "num_clases=None"))
    with pytest.raises(ConfigError, match="I3DHead takes no argument 'num_clases'"):
        check_for_prediction(Config.fromfile(tiny))
    assert rc(argv) == 2
    assert "did you mean 'num_classes'" in capsys.readouterr().err


def test_train_says_no_before_torch(tiny: Path, tmp_path: Path) -> None:
    """A resume file that is not there, a batch size of 0, a work dir that is a file: all said
    before the engine (and torch) is imported."""
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = [
        ["train", str(tiny), "--resume", "--work-dir", str(tmp_path / "w")],
        ["train", str(tiny), "--resume", str(tmp_path / "gone.ckpt")],
        ["train", str(tiny), "--cfg-options", "train_dataloader.batch_size=0"],
        ["train", str(tiny), "--work-dir", str(a_file)],
    ]
    code = (
        "import sys, json; from tests.test_preflight import rc\n"
        f"rcs = [rc(a) for a in {cases!r}]\n"
        "print('RC', json.dumps(rcs), 'torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": f"{SRC}:{Path(SRC).parent}"},
    )  # fmt: skip
    assert f"RC {json.dumps([2] * len(cases))} False" in done.stdout, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(cases)
    assert "no checkpoint to resume from" in errors[0] and "gone.ckpt" in errors[1]
    assert "train_dataloader.batch_size: must be a whole number ≥ 1 (got 0)" in errors[2]
    assert "exists and is not a folder" in errors[3]
    assert not (tmp_path / "w").exists()
