"""CPU forward time per clip for each model family ``ethoclip config new`` offers, in a table.

Each model is built from its shipped config (random weights: speed does not depend on them),
in eval mode without gradients, and scores one clip (one view) of the shape its config
samples: the tiny 3D CNN 24 frames at 64×86 (the demo's 64-pixel copy of 4:3 video), TSN 8
segments, 3D models their clip length, at the crop size. Best of ``--repeat`` runs after a
warm-up. The table gives milliseconds per clip, how many 4-second clips a second that is
(real-time factor) and the ratio to the tiny model (how much slower than it each family is).

    python benchmarks/bench_models.py [--repeat 3] [--families tiny3d,tsn_r50,...]
    python benchmarks/bench_models.py --mmaction [--rounds 7] [--cases tsn,i3d,...]

``--mmaction``: MMAction2 1.2.0 side by side (its venv from ``tests/oracle/build_mmaction2.sh``):
one wheel config per family (``mma_forward_cases.py``), both built from that file with random
weights, eval forward to the logits on the same input, same thread count. MMAction2's model
stays warm in its own process (``_mma_forward.py``) and the two sides take turns, round by
round, so that the load of a shared machine falls on both alike; the table gives each side's
median (and fastest) round and the ratio of the medians, MMAction2's over ethoclip's (above 1:
ethoclip is faster), and the load average at the start and the end.
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


def side_by_side(names: list[str], rounds: int) -> None:
    """Eval forward per family, ethoclip here and MMAction2 in a warm process in its venv,
    interleaved round by round; medians, minima and the ratio of the medians."""
    import os
    import statistics
    import subprocess
    import tempfile
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
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(
        f"torch {torch.__version__}, {threads} threads, one view, eval, no grad, random weights; "
        f"load average at start {load} on {os.cpu_count()} cores"
    )
    from ethoclip.models._memory import keep_freed_memory

    kept = keep_freed_memory()  # as load_model (predict), evaluate (test) and train do
    print(
        "ethoclip: recognizer.run(x, normalised=True) (backbone, neck, head: the logits that "
        "test/predict average); "
        + ("freed memory kept for reuse, as predict/test/train keep it" if kept else "")
    )
    print(
        "MMAction2: extract_feat(x, test_mode=True) + cls_head (its predict path before "
        "average_clip);"
    )
    print(
        f"both warm, {rounds} rounds interleaved (AB, BA, AB, …); median (min) ms per side, "
        "ratio = MMAction2 median / ethoclip median (above 1: ethoclip is faster)"
    )
    print(f"{'family':<12} {'input':<16} {'ethoclip ms':>16} {'MMAction2 ms':>16} {'ratio':>7}")
    for name in names:
        rel, shape = CASES[name]
        dims = "×".join(str(d) for d in shape[1:])
        cfg = Config.fromfile(configs / rel)
        torch.manual_seed(0)
        model = build_recognizer(weights_off(cfg.to_dict()["model"])).eval()
        x = torch.randn(*shape)
        with tempfile.TemporaryFile("w+") as errors:
            worker = subprocess.Popen(
                [str(python), str(Path(__file__).with_name("_mma_forward.py")), name, str(threads)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "PATH": "/usr/bin:/bin"},
            )
            assert worker.stdin is not None and worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":  # it failed: its last words
                worker.stdin.close()
                worker.wait()
                errors.seek(0)
                lines = errors.read().strip().splitlines() or ["no message"]
                with torch.no_grad():
                    ours = [timed_once(model, x) for _ in range(rounds)]
                print(
                    f"{name:<12} {dims:<16} {_cell(ours):>16}  MMAction2 cannot run it: "
                    f"{lines[-1][:70]}"
                )
                continue

            def theirs_once(w: subprocess.Popen[str] = worker) -> float:
                assert w.stdin is not None and w.stdout is not None
                w.stdin.write("run\n")
                w.stdin.flush()
                return float(w.stdout.readline())

            ours, theirs = [], []
            with torch.no_grad():
                model.run(x, normalised=True)  # warm-up: allocator, kernels chosen
                for r in range(rounds):
                    # Alternate who goes first so a drift in load favours neither side.
                    if r % 2:
                        theirs.append(theirs_once())
                        ours.append(timed_once(model, x))
                    else:
                        ours.append(timed_once(model, x))
                        theirs.append(theirs_once())
            worker.stdin.write("quit\n")
            worker.stdin.close()
            worker.wait()
        del model
        ratio = statistics.median(theirs) / statistics.median(ours)
        print(f"{name:<12} {dims:<16} {_cell(ours):>16} {_cell(theirs):>16} {ratio:>6.2f}x")
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"load average at end {load}")


def timed_once(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Seconds of one eval forward to the logits (the caller holds ``no_grad``)."""
    import time

    start = time.perf_counter()
    model.run(x, normalised=True)  # type: ignore[operator]
    return time.perf_counter() - start


def _cell(times: list[float]) -> str:
    """``median (min)`` in milliseconds."""
    import statistics

    return f"{statistics.median(times) * 1000:.0f} ({min(times) * 1000:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", default=",".join(MODEL_FAMILIES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mmaction", action="store_true", help="MMAction2 side by side")
    parser.add_argument("--cases", default=None, help="families for --mmaction (default all)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (--mmaction)")
    args = parser.parse_args()
    if args.mmaction:
        from mma_forward_cases import CASES

        side_by_side(args.cases.split(",") if args.cases else list(CASES), args.rounds)
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
