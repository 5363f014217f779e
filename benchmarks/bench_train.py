"""Training throughput (clips/s) on CPU: ``ethoclip train`` against a bare hand-written PyTorch
loop over the same data and model, in one run.

For each model (the tiny 3D CNN the demo trains, and TSN with a ResNet-50), the config comes
from ``ethoclip config new`` on a ``prepare`` output (the demo's by default), with validation
pushed past the last epoch and no pretrained download. Then:

  ethoclip: ``ethoclip.engine.train`` (Lightning, the MMEngine-style hooks, per-step seeding,
            LR schedule, gradient clipping, logging); clips/s of each training epoch from its
            ``log.jsonl`` (epoch start to epoch end: data, forward, backward, step).
  bare:     the same DataLoader and model built from the same config, ``torch.optim.AdamW``
            with the same LR and weight decay, clip_grad_norm_, and nothing else.

The first epoch of each is dropped (worker start-up); the figure is the median of the rest.
Target (issue 10): ethoclip ≥ 0.9 of bare. The ratio is the figure; clips/s drift with load.
TSN uses 3 segments at 224² here (MMAction2's 1x1x3 recipe) to keep the run to minutes.

    python benchmarks/bench_train.py [--ds PREPARE_FOLDER] [--epochs N] [--models tiny3d,tsn_r50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ethoclip.config import Config
from ethoclip.config._new import new_config  # its home; the package keeps it lazy (no av)
from ethoclip.dataset import PrepareOptions, load_dataset, prepare_dataset
from ethoclip.engine import TrainOptions, build_experiment, read_settings, train

EPOCHS = {"tiny3d": 8, "tsn_r50": 3}  # short epochs need more of them for a steady median
OVERRIDES = {
    "tiny3d": {},
    "tsn_r50": {
        "model.backbone.pretrained": None,  # no network here; weights do not change the speed
        # The loader holds its own copy of the pipeline list: override it there.
        "train_dataloader.dataset.pipeline.1.num_clips": 3,
    },
}


def config_for(ds: Path, model: str, epochs: int, folder: Path) -> Config:
    path = folder / f"{model}.py"
    path.write_text(new_config(ds, model), encoding="utf-8")
    options = {
        "train_cfg.max_epochs": epochs,
        "train_cfg.val_begin": epochs + 1,  # the final validation still runs, after the timing
        "default_hooks.checkpoint.max_keep_ckpts": 1,
        **OVERRIDES[model],
    }
    return Config.fromfile(path, cfg_options=options)


def ethoclip_epochs(cfg: Config, work_dir: Path) -> list[float]:
    train(cfg, TrainOptions(work_dir=work_dir, progress_bar=False, accelerator="cpu"))
    lines = (work_dir / "log.jsonl").read_text(encoding="utf-8").splitlines()
    return [r["seconds"] for r in map(json.loads, lines) if "seconds" in r]


def bare_epochs(cfg: Config, epochs: int) -> list[float]:
    settings = read_settings(cfg)
    torch.manual_seed(settings.seed)
    experiment = build_experiment(cfg, settings)
    model, loader = experiment.model, experiment.train_loader
    optimizer_cfg = cfg["optim_wrapper"]["optimizer"]
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=optimizer_cfg["lr"], weight_decay=optimizer_cfg["weight_decay"]
    )
    model.train()
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in loader:
            loss = model.loss(batch["inputs"], batch["label"])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 40.0)
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def prepared_demo(tmp: Path) -> Path:
    from ethoclip.demo import generate_demo_project

    generate_demo_project(tmp / "demo")
    prepare_dataset(tmp / "demo", tmp / "ds", PrepareOptions())
    return tmp / "ds"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ds", type=Path, help="a prepare folder (default: the demo, prepared)")
    parser.add_argument("--models", default="tiny3d,tsn_r50")
    parser.add_argument("--epochs", type=int, help="per model (default: tiny3d 8, tsn_r50 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ds = args.ds or prepared_demo(tmp)
        clips = len(load_dataset(ds).split("train"))
        print(
            f"{ds}: {clips} train clips; first epoch of each run dropped; "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads"
        )
        for model in args.models.split(","):
            epochs = args.epochs or EPOCHS.get(model, 4)
            cfg = config_for(ds, model, epochs, tmp)
            ours = ethoclip_epochs(cfg, tmp / f"work_{model}")[1:]
            bare = bare_epochs(cfg, epochs)[1:]
            rate_ours = clips / statistics.median(ours)
            rate_bare = clips / statistics.median(bare)
            ratio = rate_ours / rate_bare
            verdict = "ok" if ratio >= 0.9 else "UNDER the 0.9 target"
            print(
                f"  {model}: ethoclip {rate_ours:.2f} clips/s, bare loop {rate_bare:.2f} clips/s; "
                f"ratio {ratio:.2f} (target ≥ 0.9: {verdict}); epoch seconds "
                f"{[round(s, 1) for s in ours]} vs {[round(s, 1) for s in bare]}"
            )


if __name__ == "__main__":
    main()
