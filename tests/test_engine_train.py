"""Training on a tiny model: what the work dir holds, what each MMAction2 setting does, exact
resume, refusals, a two-process DDP run, and ``test``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ethoclip.cli import main
from ethoclip.config import Config
from ethoclip.engine import TrainingInterrupted, TrainOptions, load_trained, read_checkpoint, train
from ethoclip.engine._evaluate import evaluate
from ethoclip.errors import CheckpointError, ConfigError, DatasetError, MediaError

TINY = """\
_base_ = ['ethoclip::_base_/default_runtime.py']
data_root = {data!r}
model = dict(
    type='Recognizer3D',
    backbone=dict(type='TinyVideoNet', widths=(4, 8)),
    cls_head=dict(type='I3DHead', num_classes=None, dropout_ratio=0.5, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3,
                           format_shape='NCTHW'))
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=8),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=8, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ClipDataset', data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ClipDataset', data_root=data_root, split='val', pipeline=val_pipeline, test_mode=True))
val_evaluator = dict(type='AccMetric', metric_list=('mean_average_precision', 'mmit_mean_average_precision'))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4, val_begin=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=0.01), clip_grad=dict(max_norm=10))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=4, by_epoch=True, milestones=[2], gamma=0.1)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='auto'),
                     logger=dict(type='LoggerHook', interval=1))
"""


@pytest.fixture(scope="module")
def tiny(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "tiny.py"
    path.write_text(TINY.format(data=str(demo_dataset)))
    return path


def run(config: Path, work_dir: Path, *options: str, **kwargs: object) -> object:
    return train(
        Config.fromfile(config, list(options) or None),
        TrainOptions(work_dir=work_dir, progress_bar=False, **kwargs),
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("work") / "w"
    run(tiny, work)
    return work


def records(work: Path) -> list[dict]:
    return [json.loads(line) for line in (work / "log.jsonl").read_text().splitlines()]


def test_the_work_dir_holds_config_logs_checkpoints_and_curves(trained: Path, tiny: Path) -> None:
    names = {p.name for p in trained.iterdir()}
    assert {
        "config.py",
        "config_origins.txt",
        "log.jsonl",
        "curves.png",
        "tb",
        "last.ckpt",
    } <= names
    # max_keep_ckpts=2: exactly two epoch checkpoints besides best and last.
    assert sorted(n for n in names if n.startswith("epoch_")) == ["epoch_3.ckpt", "epoch_4.ckpt"]
    assert "best_acc_mean_average_precision.ckpt" in names
    assert Config.fromfile(trained / "config.py").to_dict() == Config.fromfile(tiny).to_dict()
    origins = (trained / "config_origins.txt").read_text()
    assert "train_cfg.max_epochs = 4  # " in origins and "tiny.py:" in origins
    assert list((trained / "tb").rglob("events.out.tfevents.*"))
    data = torch.load(trained / "last.ckpt", weights_only=True)  # plain tensors and values only
    meta = data["ethoclip"]
    assert meta["classes"] == ["jump", "run", "sit", "spin", "wag", "walk"] and meta["multi_label"]
    assert len(meta["thresholds"]) == 6 and meta["epoch"] == 4
    pre = meta["preprocessing"]
    assert (pre["clip_frames"], pre["fps"], pre["clip_sec"], pre["format_shape"]) == (
        48,
        "12",
        4.0,
        "NCTHW",
    )
    assert pre["test_pipeline"][1]["test_mode"] is True and meta["version"] and meta["config_text"]


def test_multistep_lr_and_validation_follow_the_config(trained: Path) -> None:
    steps = [r for r in records(trained) if "iter" in r]
    lr_by_epoch = {r["epoch"]: r["lr"] for r in steps if r["iter"] % 5 == 2}  # mid-epoch
    assert lr_by_epoch[1] == pytest.approx(0.01) and lr_by_epoch[2] == pytest.approx(0.01)
    assert lr_by_epoch[3] == pytest.approx(0.001) and lr_by_epoch[4] == pytest.approx(0.001)
    epochs = [r for r in records(trained) if "val" in r]
    assert [r["epoch"] for r in epochs if r["val"]] == [1, 2, 3, 4]


@pytest.mark.slow
def test_validation_starts_at_val_begin_every_val_interval(tiny: Path, tmp_path: Path) -> None:
    work = tmp_path / "w"
    run(tiny, work, "train_cfg.max_epochs=5", "train_cfg.val_begin=2", "train_cfg.val_interval=2")
    validated = [r["epoch"] for r in records(work) if r.get("val")]
    assert validated == [2, 4, 5]  # MMEngine: e ≥ val_begin and e % interval == 0, and the last


def same_run(work: Path, trained: Path) -> None:
    done, clean = read_checkpoint(work / "last.ckpt"), read_checkpoint(trained / "last.ckpt")
    assert done["ethoclip"]["metrics"] == clean["ethoclip"]["metrics"]  # the same validation
    for key, value in clean["state_dict"].items():
        assert torch.equal(done["state_dict"][key], value), key  # the same weights, bit for bit


def test_a_resumed_run_ends_as_an_uninterrupted_one(
    tiny: Path, trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of epoch 2 (5 batches an epoch: the 8th batch): interrupted.ckpt
    resumes to the same weights as an unbroken run; so does the epoch checkpoint before it."""
    from ethoclip.engine._module import RecognizerModule

    original = RecognizerModule.training_step

    def stop_mid_epoch(self: RecognizerModule, batch: dict, batch_idx: int) -> torch.Tensor:
        if self.global_step == 7:
            raise KeyboardInterrupt
        return original(self, batch, batch_idx)

    work = tmp_path / "w"
    monkeypatch.setattr(RecognizerModule, "training_step", stop_mid_epoch)
    with pytest.raises(
        TrainingInterrupted,
        match=r"interrupted in epoch 2; saved .*interrupted\.ckpt, the state that epoch started "
        r"from: resume with .*--resume .*interrupted\.ckpt",
    ):
        run(tiny, work)
    assert read_checkpoint(work / "interrupted.ckpt")["ethoclip"]["epoch"] == 1
    assert not list(work.glob(".*"))  # no temporary files left
    monkeypatch.setattr(RecognizerModule, "training_step", original)
    again = tmp_path / "again"
    shutil.copytree(work, again)
    run(tiny, work, resume=str(work / "interrupted.ckpt"))
    same_run(work, trained)
    run(tiny, again, resume=str(again / "epoch_1.ckpt"))
    same_run(again, trained)


EMA = ("custom_hooks=[dict(type='EMAHook', momentum=0.2)]",)


def test_an_ema_run_validates_saves_and_resumes_the_average(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``EMAHook``: checkpoints' ``state_dict`` is the average (what ``test`` and ``predict``
    load) and validation scored it; the trained weights are kept beside it, and a run
    interrupted mid-epoch resumes to the same average and weights as an unbroken one."""
    from ethoclip.engine._module import RecognizerModule

    clean = tmp_path / "clean"
    run(tiny, clean, *EMA)
    last = read_checkpoint(clean / "last.ckpt")
    average, trained_weights = last["state_dict"], last["current_model_state"]
    assert any(not torch.equal(average[k], trained_weights[k]) for k in average)
    scored = last["ethoclip"]["metrics"]["acc/mean_average_precision"]
    assert evaluate(clean / "last.ckpt", workers=0)["mAP"] == pytest.approx(scored)

    original = RecognizerModule.training_step

    def stop_mid_epoch(self: RecognizerModule, batch: dict, batch_idx: int) -> torch.Tensor:
        if self.global_step == 7:
            raise KeyboardInterrupt
        return original(self, batch, batch_idx)

    work = tmp_path / "w"
    monkeypatch.setattr(RecognizerModule, "training_step", stop_mid_epoch)
    with pytest.raises(TrainingInterrupted):
        run(tiny, work, *EMA)
    monkeypatch.setattr(RecognizerModule, "training_step", original)
    run(tiny, work, *EMA, resume=str(work / "interrupted.ckpt"))
    same_run(work, clean)
    done = read_checkpoint(work / "last.ckpt")["current_model_state"]
    for key, value in trained_weights.items():
        assert torch.equal(done[key], value), key


def test_sigterm_stops_within_seconds_with_one_line_and_a_checkpoint(
    tiny: Path, tmp_path: Path
) -> None:
    """As `timeout` does: SIGTERM to the whole process group, loader workers included."""
    import os
    import signal
    import time

    work = tmp_path / "w"
    args = [sys.executable, "-m", "ethoclip", "train", str(tiny), "--work-dir", str(work)]
    args += ["--no-progress", "--cfg-options", "train_dataloader.num_workers=2"]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    log = work / "log.jsonl"
    while proc.poll() is None and not (log.is_file() and '"epoch": 2' in log.read_text()):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    # A hang guard only (generous: the process is normally gone within a second or two).
    _, err = proc.communicate(timeout=1800)
    assert proc.returncode == 2, err
    # One line for the interrupt (the notes before it describe the config, as on every run).
    said = [line for line in err.strip().splitlines() if not line.startswith("note: ")]
    assert "Traceback" not in err and len(said) == 1, err
    assert "interrupted in epoch 2; saved" in said[0]
    assert read_checkpoint(work / "interrupted.ckpt")["ethoclip"]["epoch"] == 1


def test_resume_refuses_damaged_and_foreign_checkpoints(
    tiny: Path, trained: Path, tmp_path: Path
) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "last.ckpt").write_bytes((trained / "last.ckpt").read_bytes()[:5000])  # truncated
    with pytest.raises(CheckpointError, match=r"last\.ckpt: not a checkpoint"):
        run(tiny, work, resume=True)
    with pytest.raises(
        CheckpointError, match=r"last\.ckpt: a checkpoint of another model or label set"
    ):
        run(tiny, work, "model.backbone.widths=(4, 6)", resume=str(trained / "last.ckpt"))


def test_leftovers_of_a_killed_run_are_removed_and_named(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ethoclip.engine._train import clean_leftovers

    work = tmp_path / "w"
    work.mkdir()
    (work / ".epoch_1.ckpt.tmp").write_bytes(b"half")
    (work / ".curves.tmp.png").write_bytes(b"half")
    (work / "keep.txt").write_text("mine")
    assert clean_leftovers(work) == [".curves.tmp.png", ".epoch_1.ckpt.tmp"]
    assert [p.name for p in work.iterdir()] == ["keep.txt"]


def test_a_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.models import BaseRecognizer

    original = BaseRecognizer.loss
    calls = {"n": 0}

    def failing(self: BaseRecognizer, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        loss = original(self, inputs, target)
        return loss * float("nan") if calls["n"] == 8 else loss

    monkeypatch.setattr(BaseRecognizer, "loss", failing)
    work = tmp_path / "w"
    with pytest.raises(
        Exception,
        match=r"the loss became nan at epoch 2, iteration 8; training stopped and the last good checkpoint is kept",
    ):
        run(tiny, work)
    assert read_checkpoint(work / "last.ckpt")["ethoclip"]["epoch"] == 1


def test_refusals(tiny: Path, trained: Path, tmp_path: Path, demo_dataset: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"train_dataloader\.dataset\.pipeline\.1: SampleFrames takes 8 frames 32 apart \(225 frames\) but the clips have 48; use frame_interval=6",
    ):
        run(
            tiny,
            tmp_path / "a",
            "train_dataloader.dataset.pipeline.1.clip_len=8",
            "train_dataloader.dataset.pipeline.1.frame_interval=32",
        )
    with pytest.raises(DatasetError, match=r"has no 'test' clips \(splits: train, val\)"):
        run(tiny, tmp_path / "b", "val_dataloader.dataset.split=test")
    # A checkpoint of another label set: refused unless the head is re-initialised.
    three = tmp_path / "three"
    three.mkdir()
    (three / "label_map.txt").write_text("a\nb\nc\n")
    lines = (demo_dataset / "train.txt").read_text().splitlines()[:8]
    (three / "train.txt").write_text(
        "".join(f"{demo_dataset / line.split()[0]} {i % 3}\n" for i, line in enumerate(lines))
    )
    options = [
        "load_from=" + str(trained / "last.ckpt"),
        f"train_dataloader.dataset={{'type':'VideoDataset','ann_file':'{three / 'train.txt'}','pipeline':[]}}",
    ]
    cfg = Config.fromfile(
        tiny,
        [
            options[0],
            "val_dataloader=None",
            "train_cfg.max_epochs=1",
            "val_evaluator.metric_list=None",
        ],
    )
    cfg.train_dataloader.dataset = {
        "type": "VideoDataset",
        "ann_file": str(three / "train.txt"),
        "pipeline": cfg.train_pipeline,
    }
    with pytest.raises(
        CheckpointError,
        match=r"last\.ckpt: its classification head does not fit \(it has 6 classes, this model 3\).*--reinit-head",
    ):
        train(cfg, TrainOptions(work_dir=tmp_path / "c", progress_bar=False))
    result = train(cfg, TrainOptions(work_dir=tmp_path / "c", progress_bar=False, reinit_head=True))
    assert result.epochs == 1


def test_test_writes_metrics_json_and_plots(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", str(trained / "last.ckpt"), "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "17 clips" in out and "mAP" in out
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert set(metrics["per_class"]["wag"]) == {"ap", "f1", "threshold", "support"}
    assert metrics["mAP"] == pytest.approx(
        read_checkpoint(trained / "last.ckpt")["ethoclip"]["metrics"]["acc/mean_average_precision"]
    )
    assert {p.name for p in (tmp_path / "eval").glob("*.png")} == {
        "per_class_ap.png",
        "pr_curves.png",
        "co_occurrence.png",
    }
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["test", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}: not a checkpoint")


def test_single_label_training_reports_top_k(
    tiny: Path, demo_dataset: Path, tmp_path: Path
) -> None:
    single = tmp_path / "single"
    shutil.copytree(demo_dataset, single)
    for split in ("train", "val"):
        lines = (single / f"{split}.txt").read_text().splitlines()
        (single / f"{split}.txt").write_text(
            "".join(" ".join(line.split()[:2]) + "\n" for line in lines)
        )
    cfg = Config.fromfile(tiny, ["train_cfg.max_epochs=1", "val_evaluator.metric_list=None"])
    for loader in ("train_dataloader", "val_dataloader"):
        split = loader.split("_")[0]
        cfg[loader]["dataset"] = {
            "type": "VideoDataset",
            "ann_file": str(single / f"{split}.txt"),
            "data_prefix": {"video": str(single)},
            "pipeline": cfg[f"{split}_pipeline"],
        }
    result = train(cfg, TrainOptions(work_dir=tmp_path / "w", progress_bar=False))
    assert set(result.metrics) >= {"acc/top1", "acc/top5", "acc/mean_class_accuracy"}
    trained_model = load_trained(tmp_path / "w" / "last.ckpt")
    assert not trained_model.multi_label
    report = evaluate(tmp_path / "w" / "last.ckpt", out=tmp_path / "eval", workers=0)
    assert {"top1", "top5", "mean_class_accuracy", "confusion"} <= set(report)
    assert (tmp_path / "eval" / "confusion.png").is_file()


@pytest.mark.slow
def test_two_process_ddp_on_cpu(tiny: Path, tmp_path: Path) -> None:
    """Lightning's DDP with gloo: same checkpoint format, metrics over the whole val set."""
    work = tmp_path / "ddp"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ethoclip",
            "train",
            str(tiny),
            "--work-dir",
            str(work),
            "--devices",
            "2",
            "--accelerator",
            "cpu",
            "--no-progress",
            "--epochs",  # the run and its schedule (a bare max_epochs=2 is refused)
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=2 * 3600,  # a hang guard only (a two-process run takes about a minute)
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 process(es) on cpu" in result.stdout
    data = torch.load(work / "last.ckpt", weights_only=True)
    meta = data["ethoclip"]
    assert meta["epoch"] == 2 and set(data["state_dict"]) == set(
        torch.load(work / "epoch_1.ckpt", weights_only=True)["state_dict"]
    )
    # The validation metric in the checkpoint is the one over all 17 val clips: a single
    # process evaluating the same weights on the whole set gets the same number.
    whole = evaluate(work / "last.ckpt", workers=0)
    assert whole["clips"] == 17
    assert meta["metrics"]["acc/mean_average_precision"] == pytest.approx(whole["mAP"], abs=1e-6)


ONE_EPOCH = (
    "train_cfg.max_epochs=1",
    "val_dataloader=None",
    "default_hooks.checkpoint.save_best=None",
)


def test_accumulative_counts_steps_the_optimizer_every_k_batches(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.engine._module import RecognizerModule

    stepped: list[int] = []
    original = RecognizerModule.optimizer_step

    def record(self: RecognizerModule, epoch: int, batch_idx: int, *args: object) -> None:
        stepped.append(batch_idx)
        original(self, epoch, batch_idx, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(RecognizerModule, "optimizer_step", record)
    options = ("train_dataloader.batch_size=4", "optim_wrapper.accumulative_counts=3")
    run(tiny, tmp_path / "w", *ONE_EPOCH, *options)  # 40 clips: 10 batches
    # Every third batch, and the epoch's last (Lightning steps the remainder at an epoch's end;
    # MMEngine carries it into the next epoch).
    assert stepped == [2, 5, 8, 9]
    assert read_checkpoint(tmp_path / "w" / "last.ckpt")["global_step"] == 4


def test_auto_scale_lr_scales_by_the_batch_size_ratio(tiny: Path, tmp_path: Path) -> None:
    options = ("auto_scale_lr.enable=True", "auto_scale_lr.base_batch_size=32")
    run(tiny, tmp_path / "w", *ONE_EPOCH, *options)
    first = next(r for r in records(tmp_path / "w") if "iter" in r)
    assert first["lr"] == pytest.approx(0.01 * 8 / 32)  # lr × batch 8 (× 1 process) / base 32


def test_clip_grad_bounds_the_gradient_norm(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.engine._module import RecognizerModule

    norms: list[float] = []

    def measure(self: RecognizerModule, *args: object) -> None:  # after the step: grads kept
        grads = [p.grad.flatten() for p in self.model.parameters() if p.grad is not None]
        norms.append(float(torch.cat(grads).norm()))

    monkeypatch.setattr(RecognizerModule, "on_train_batch_end", measure, raising=False)
    run(tiny, tmp_path / "a", *ONE_EPOCH, "optim_wrapper.clip_grad=None")
    unclipped, norms[:] = list(norms), []
    run(tiny, tmp_path / "b", *ONE_EPOCH, "optim_wrapper.clip_grad.max_norm=0.01")
    assert len(norms) == len(unclipped) == 5
    assert min(unclipped) > 0.01  # so clipping had something to do
    assert max(norms) <= 0.01 * (1 + 1e-5)


def test_amp_trains_in_bfloat16_on_cpu_and_val_cfg_fp16_validates_so(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.models._heads import BaseHead

    seen: set[tuple[bool, torch.dtype]] = set()
    original = BaseHead.forward

    def spy(self: BaseHead, x: torch.Tensor, num_segs: int = 1) -> torch.Tensor:
        out = original(self, x, num_segs)
        seen.add((self.training, out.dtype))
        return out

    monkeypatch.setattr(BaseHead, "forward", spy)
    run(tiny, tmp_path / "a", *ONE_EPOCH, amp=True, accelerator="cpu")
    assert seen == {(True, torch.bfloat16)}
    seen.clear()
    options = ("train_cfg.max_epochs=1", "val_cfg.fp16=True")
    run(tiny, tmp_path / "b", *options, accelerator="cpu")
    assert seen == {(True, torch.float32), (False, torch.bfloat16)}


def test_num_nodes_reaches_lightning(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lightning.pytorch as pl

    class Stop(Exception):
        pass

    given: dict[str, object] = {}

    def capture(self: object, **kwargs: object) -> None:
        given.update(kwargs)
        raise Stop

    monkeypatch.setattr(pl.Trainer, "__init__", capture)
    args = ["train", str(tiny), "--work-dir", str(tmp_path / "w"), "--accelerator", "cpu"]
    with pytest.raises(Stop):
        main([*args, "--num-nodes", "3", "--devices", "2"])
    assert given["num_nodes"] == 3 and given["devices"] == 2 and given["strategy"] == "ddp"


def test_empty_cache_hook_acts(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []  # who called it (Lightning calls it once too, at teardown)
    monkeypatch.setattr(
        torch.cuda, "empty_cache", lambda: calls.append(sys._getframe(1).f_globals["__name__"])
    )
    cfg = Config.fromfile(tiny, list(ONE_EPOCH))
    cfg.custom_hooks = [{"type": "EmptyCacheHook", "after_iter": True, "after_epoch": False}]
    train(cfg, TrainOptions(work_dir=tmp_path / "w", progress_bar=False))
    assert calls.count("ethoclip.engine._callbacks") == 5  # after each of the 5 iterations


def test_scores_come_from_the_head_in_validation_test_and_prediction(
    tiny: Path, trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethoclip.inference import load_model
    from ethoclip.models._heads import BaseHead

    callers: list[bool] = []
    original = BaseHead.scores

    def spy(self: BaseHead, logits: torch.Tensor) -> torch.Tensor:
        callers.append(True)
        return original(self, logits)

    monkeypatch.setattr(BaseHead, "scores", spy)
    run(tiny, tmp_path / "w", "train_cfg.max_epochs=1")
    assert len(callers) == 3  # the 17 val clips in batches of 8
    evaluate(trained / "last.ckpt", workers=0, batch_size=4)
    assert len(callers) == 3 + 5  # …and in batches of 4
    model = load_model(str(trained / "last.ckpt"), device="cpu")
    scores = model.score(torch.zeros(2, 1, 3, 4, 32, 32, dtype=torch.uint8))
    assert len(callers) == 9 and scores.shape == (2, 6)


def test_a_damaged_clip_met_in_training_is_one_line_advising_prepare(
    tiny: Path, demo_dataset: Path, tmp_path: Path
) -> None:
    data = tmp_path / "ds"
    shutil.copytree(demo_dataset, data)
    clip = data / (data / "train.txt").read_text().split()[0]
    clip.write_bytes(clip.read_bytes()[:3000])  # a copy that did not finish
    cfg = Config.fromfile(tiny, [*ONE_EPOCH, "train_dataloader.num_workers=2"])
    cfg.train_dataloader.dataset.data_root = str(data)
    with pytest.raises(MediaError) as caught:
        train(cfg, TrainOptions(work_dir=tmp_path / "w", progress_bar=False))
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"{clip}: cannot be read as a video")
    assert message.endswith("run prepare again: it re-cuts damaged clips")


def test_hook_and_loop_arguments_act_or_are_refused_or_listed_by_name(tiny: Path) -> None:
    from dataclasses import fields

    from ethoclip.config._runtime_keys import RUNTIME_KEYS
    from ethoclip.engine import read_settings
    from ethoclip.registry import HOOKS, LOOPS

    # The table decides every argument each hook and loop takes: a new one must be decided.
    for name, table in RUNTIME_KEYS.items():
        target = (HOOKS if name.endswith("Hook") else LOOPS).get(name)
        assert {f.name for f in fields(target)} == set(table), name
    refused = {
        "default_hooks.checkpoint.out_dir='/elsewhere'": r"default_hooks\.checkpoint\.out_dir: '/elsewhere' is not supported \(checkpoints go in the work dir; use --work-dir\)",
        "default_hooks.logger.out_dir='/x'": r"default_hooks\.logger\.out_dir: '/x' is not supported",
        "default_hooks.logger.log_metric_by_epoch=False": r"log_metric_by_epoch: False is not supported",
        "default_hooks.checkpoint.by_epoch=False": r"checkpoint\.by_epoch: False is not supported",
    }
    for option, message in refused.items():
        with pytest.raises(ConfigError, match=message):
            read_settings(Config.fromfile(tiny, [option]))
    cfg = Config.fromfile(tiny)
    cfg.custom_hooks = [{"type": "ProfilerHook"}]
    with pytest.raises(
        ConfigError,
        match=r"custom_hooks\.0: ProfilerHook is not a hook ethoclip runs \(of custom hooks it "
        r"runs EmptyCacheHook, EMAHook\); remove it",
    ):
        read_settings(cfg)
    settings = read_settings(Config.fromfile(tiny, ["default_hooks.logger.ignore_last=False"]))
    assert "default_hooks.logger.ignore_last" in settings.ignored


@pytest.mark.slow
def test_a_per_step_best_checkpoint_needs_a_per_step_model_before_anything_runs(
    tiny: Path, tmp_path: Path
) -> None:
    """save_best='step_mean_average_precision' (what config new writes for the hybrid) on a
    clip-only model: refused before the first batch, not after the first epoch."""
    with pytest.raises(ConfigError, match=r"needs per-step scores .* no per-step head"):
        run(tiny, tmp_path / "w", "default_hooks.checkpoint.save_best=step_mean_average_precision")
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").glob("*.ckpt"))
