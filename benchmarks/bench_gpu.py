"""GPU checks and figures, for a machine with a CUDA GPU (one short run).

1. TimeSformer-B (divided space-time, 8×224², the shipped config, random weights) train step
   time: float32, float32 with TF32 matmuls, and mixed precision (bfloat16 autocast; float16
   autocast with a gradient scaler, as ``AmpOptimWrapper``/``--amp`` does), batch ``--batch``.
   Printed as ms per step, clips/s, and each one's ratio to float32 (how much faster).
2. ``ethoclip train`` end to end on the GPU: the demo data prepared, the tiny 3D CNN for
   ``--epochs`` epochs in float32 and with ``--amp``; TimeSformer for one epoch with ``--amp``.
   Seconds per training epoch, the ratio, and validation mAP (the GPU path learns).

    python benchmarks/bench_gpu.py [--batch 8] [--epochs 6] [--skip-train]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from ethoclip.config import Config
from ethoclip.config._new import new_config  # its home; the package keeps it lazy (no av)
from ethoclip.models import build_recognizer


def timesformer() -> torch.nn.Module:
    cfg = Config.fromfile("ethoclip::_base_/models/timesformer_base.py").to_dict()["model"]
    cfg["backbone"]["pretrained"] = None  # no network there; weights do not change the speed
    return build_recognizer(cfg, num_classes=6, multi_label=True)


def step_ms(mode: str, batch: int, steps: int) -> float:
    torch.backends.cuda.matmul.allow_tf32 = mode == "fp32+tf32"
    torch.backends.cudnn.allow_tf32 = mode == "fp32+tf32"
    model = timesformer().cuda().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    scaler = torch.amp.GradScaler("cuda", enabled=mode == "amp-fp16")
    dtype = {"amp-bf16": torch.bfloat16, "amp-fp16": torch.float16}.get(mode)
    inputs = torch.randint(0, 256, (batch, 1, 3, 8, 224, 224), device="cuda").float()
    target = (torch.rand(batch, 6, device="cuda") > 0.5).float()

    def step() -> None:
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = model.loss(inputs, target)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1000


def epochs_of(work_dir: Path) -> tuple[list[float], dict[str, float]]:
    records = [json.loads(x) for x in (work_dir / "log.jsonl").read_text().splitlines()]
    epochs = [r for r in records if "seconds" in r]
    return [r["seconds"] for r in epochs], epochs[-1].get("val", {})


def train_on_gpu(epochs: int) -> None:
    from ethoclip.dataset import PlanOptions, PrepareOptions, prepare_dataset
    from ethoclip.demo import generate_demo_project
    from ethoclip.engine import TrainOptions, train

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        generate_demo_project(tmp / "demo")
        small = PrepareOptions(plan=PlanOptions(stride_sec=1.0, short_side=64))
        prepare_dataset(tmp / "demo", tmp / "ds64", small)
        prepare_dataset(tmp / "demo", tmp / "ds", PrepareOptions())
        runs = {
            "tiny3d fp32": ("ds64", "tiny3d", False, {"train_cfg.max_epochs": epochs}),
            "tiny3d --amp": ("ds64", "tiny3d", True, {"train_cfg.max_epochs": epochs}),
            "timesformer --amp": (
                "ds",
                "timesformer",
                True,
                {"train_cfg.max_epochs": 2, "model.backbone.pretrained": None},
            ),
        }
        seconds: dict[str, float] = {}
        for name, (data, family, amp, options) in runs.items():
            config = tmp / f"{family}.py"
            config.write_text(new_config(tmp / data, family), encoding="utf-8")
            work = tmp / name.replace(" ", "_")
            train(
                Config.fromfile(config, cfg_options=options),
                TrainOptions(work_dir=work, progress_bar=False, devices=1, amp=amp),
            )
            per_epoch, val = epochs_of(work)
            seconds[name] = statistics.median(per_epoch[1:] or per_epoch)
            print(
                f"  {name}: {len(per_epoch)} epochs, median {seconds[name]:.2f} s per training "
                f"epoch (first {per_epoch[0]:.1f} s); last validation {val}"
            )
        print(
            f"  tiny3d: --amp is {seconds['tiny3d fp32'] / seconds['tiny3d --amp']:.2f}x faster "
            "per epoch (ratio fp32/amp; a tiny model is bound by data loading, not the GPU)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("error: no CUDA GPU here; this benchmark is for a GPU machine")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(f"1. TimeSformer-B train step, batch {args.batch} × 8×224², {args.steps} steps")
    base = None
    for mode in ("fp32", "fp32+tf32", "amp-bf16", "amp-fp16"):
        ms = step_ms(mode, args.batch, args.steps)
        torch.cuda.empty_cache()  # the last mode's model is gone: give its memory back
        base = base or ms
        print(
            f"  {mode:<10} {ms:7.1f} ms/step  {args.batch / ms * 1000:6.1f} clips/s  "
            f"ratio to fp32 {base / ms:.2f}x faster"
        )
    if not args.skip_train:
        print("2. ethoclip train on the GPU (demo data)")
        train_on_gpu(args.epochs)


if __name__ == "__main__":
    main()
