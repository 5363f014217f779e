"""CPU forward time per clip for each model family ``ethoclip config new`` offers, in a table.

Each model is built from its shipped config (random weights: speed does not depend on them),
in eval mode without gradients, and scores one clip (one view) of the shape its config
samples: the tiny 3D CNN 24 frames at 64×86 (the demo's 64-pixel copy of 4:3 video), TSN 8
segments, 3D models their clip length, at the crop size. Best of ``--repeat`` runs after a
warm-up. The table gives milliseconds per clip, how many 4-second clips a second that is
(real-time factor) and the ratio to the tiny model (how much slower than it each family is).

    python benchmarks/bench_models.py [--repeat 3] [--families tiny3d,tsn_r50,...]
    python benchmarks/bench_models.py --mmaction [--cases tsn,i3d,...]

``--mmaction``: MMAction2 1.2.0 side by side (its venv from ``tests/oracle/build_mmaction2.sh``):
one wheel config per family (``mma_forward_cases.py``), both built from that file with random
weights, eval forward on the same input, same thread count; the ratio is MMAction2's time over
ethoclip's (above 1: ethoclip is faster).
"""

from __future__ import annotations

import argparse

import torch

from ethoclip.config import Config
from ethoclip.config._new import MODEL_FAMILIES  # its home; the package keeps it lazy (no av)
from ethoclip.models import build_recognizer

from _common import best_of  # first: it puts the repository on sys.path

CLIP_SEC = 4.0  # prepare's default clip length


def clip_input(family: str) -> torch.Tensor:
    spec = MODEL_FAMILIES[family]
    if spec.crop is None:  # the tiny model sees whole 4:3 frames at its short side
        height, width = spec.short_side, round(spec.short_side * 4 / 3 / 2) * 2
    else:
        height = width = spec.crop
    if spec.kind == "2d":
        return torch.randint(0, 256, (1, spec.frames, 3, height, width)).float()
    return torch.randint(0, 256, (1, 1, 3, spec.frames, height, width)).float()


def build(family: str) -> torch.nn.Module:
    cfg = Config.fromfile(f"ethoclip::_base_/models/{MODEL_FAMILIES[family].base}.py")
    model = cfg.to_dict()["model"]
    model["backbone"]["pretrained"] = None  # no network here
    return build_recognizer(model, num_classes=6, multi_label=True).eval()


def side_by_side(names: list[str], repeat: int) -> None:
    """Eval forward per family: ethoclip here, MMAction2 in its venv, one after the other."""
    import json
    import subprocess
    from pathlib import Path

    from mma_forward_cases import CASES, weights_off

    from tests.mmaction2_oracle import Unavailable, oracle_python

    try:
        python = oracle_python()
    except Unavailable as exc:
        raise SystemExit(f"error: {exc}") from None
    threads = torch.get_num_threads()
    configs = (
        Path(
            subprocess.run(
                [
                    str(python),
                    "-c",
                    "import mmaction, os; print(os.path.dirname(mmaction.__file__))",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        / ".mim"
        / "configs"
    )
    print(f"torch {torch.__version__}, {threads} threads, one view, eval, best of {repeat}")
    print(f"{'family':<12} {'input':<18} {'ethoclip ms':>12} {'MMAction2 ms':>13} {'ratio':>7}")
    for name in names:
        rel, shape = CASES[name]
        cfg = Config.fromfile(configs / rel)
        torch.manual_seed(0)
        model = build_recognizer(weights_off(cfg.to_dict()["model"])).eval()
        x = torch.randn(*shape)
        with torch.no_grad():
            model.run(x, normalised=True)
            ours = best_of(repeat, lambda m=model, v=x: m.run(v, normalised=True))
        del model
        done = subprocess.run(
            [
                str(python),
                str(Path(__file__).with_name("_mma_forward.py")),
                str(repeat),
                name,
                str(threads),
            ],
            capture_output=True,
            text=True,
            env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "PATH": "/usr/bin:/bin"},
            check=False,
        )
        if done.returncode != 0:
            why = done.stderr.strip().splitlines()[-1][:70]
            print(f"{name:<12} {'':<18} {ours * 1000:>12.0f}  MMAction2 cannot run it: {why}")
            continue
        theirs = json.loads(done.stdout.strip().splitlines()[-1])[name]
        dims = "×".join(str(d) for d in shape[1:])
        print(
            f"{name:<12} {dims:<18} {ours * 1000:>12.0f} {theirs * 1000:>13.0f} "
            f"{theirs / ours:>6.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", default=",".join(MODEL_FAMILIES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mmaction", action="store_true", help="MMAction2 side by side")
    parser.add_argument("--cases", default=None, help="families for --mmaction (default all)")
    args = parser.parse_args()
    if args.mmaction:
        from mma_forward_cases import CASES

        side_by_side(args.cases.split(",") if args.cases else list(CASES), args.repeat)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch of 1 clip")
    print(
        f"{'family':<14} {'input':<22} {'params':>8} {'ms/clip':>9} "
        f"{'x real time':>12} {'vs tiny3d':>10}"
    )
    tiny_ms = None
    for family in args.families.split(","):
        model = build(family)
        clip = clip_input(family)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        with torch.no_grad():
            model.predict(clip)  # warm-up: allocator, kernels chosen
            seconds = best_of(args.repeat, lambda m=model, c=clip: m.predict(c))
        ms = seconds * 1000
        tiny_ms = tiny_ms or (ms if family == "tiny3d" else None)
        ratio = f"{ms / tiny_ms:.0f}x" if tiny_ms else "-"
        shape = "×".join(str(d) for d in clip.shape[1:])
        print(
            f"{family:<14} {shape:<22} {params:>7.1f}M {ms:>9.0f} {CLIP_SEC / seconds:>11.1f}x "
            f"{ratio:>10}"
        )


if __name__ == "__main__":
    main()
