# ruff: noqa: E501  (the table of cases reads best one case a line)
"""Bad and awkward inputs to ``config``, ``train``, ``test`` and ``predict``, as a new user makes
them (issue 17's table, rerun): each case's exit status, whether it printed one ``error:`` line
or a traceback, the line itself and how long it took to say so.

    python benchmarks/bad_inputs.py --data DATASET_WITH_TEST_SPLIT --work /tmp/bad
    python benchmarks/bad_inputs.py ... --src /path/to/other/checkout/src   # e.g. before a fix

DATASET is a ``prepare`` folder with train/val/test lists (``prepare --test-fraction 0.2``);
the script trains one epoch of tiny3d on it first (a real checkpoint to feed the others).
Each case runs ``python -m ethoclip`` in a fresh process, so the seconds include start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def relabel(src: Path, dst: Path, names: list[str]) -> Path:
    """A copy of a prepare folder (clips linked) whose label map lists ``names``."""
    old = (src / "label_map.txt").read_text().split()
    rename = {o: n for o, n in zip(old, names, strict=True) if o not in names}
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    (dst / "clips").symlink_to((src / "clips").resolve())
    (dst / "label_map.txt").write_text("".join(f"{n}\n" for n in names))

    def new_id(i: int) -> int:
        return names.index(rename.get(old[i], old[i]))

    records = [json.loads(line) for line in (src / "manifest.jsonl").read_text().splitlines()]
    for record in records:
        record["label_ids"] = [new_id(i) for i in record["label_ids"]]
        record["labels"] = [names[i] for i in record["label_ids"]]
    (dst / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    for split in ("train", "val", "test"):
        if (src / f"{split}.txt").is_file():
            lines = []
            for line in (src / f"{split}.txt").read_text().splitlines():
                path, *ids = line.split()
                lines.append(" ".join([path, *(str(new_id(int(i))) for i in ids)]))
            (dst / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--src", type=Path, help="ethoclip's src folder to run (default: this)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    src = (args.src or Path(__file__).resolve().parents[1] / "src").resolve()
    env = {**os.environ, "PYTHONPATH": str(src), "CUDA_VISIBLE_DEVICES": ""}
    data = args.data.resolve()

    def ethoclip(*argv: str, timeout: float = 900) -> tuple[int, str, str, float]:
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "ethoclip", *argv],
                capture_output=True,
                text=True,
                env=env,
                cwd=work,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return 124, "", "timed out", time.perf_counter() - start
        return done.returncode, done.stdout, done.stderr, time.perf_counter() - start

    # Inputs: a config, a checkpoint trained one epoch, damaged and foreign files.
    cfg = work / "tiny.py"
    if not cfg.exists():
        ethoclip("config", "new", "--data", str(data), "--model", "tiny3d", "--out", str(cfg))
    ckpt = work / "run" / "last.ckpt"
    if not ckpt.exists():
        code, out, err, _ = ethoclip(
            "train", str(cfg), "--epochs", "1", "--work-dir", str(work / "run"), "--no-progress"
        )
        if code == 2 and "unrecognized arguments: --epochs" in err:  # a checkout without it
            code, out, err, _ = ethoclip(
                "train",
                str(cfg),
                "--cfg-options",
                "train_cfg.max_epochs=1",
                "--work-dir",
                str(work / "run"),
                "--no-progress",
            )
        if code != 0:
            sys.exit(f"training the checkpoint failed: {err[-2000:]}")
    truncated = work / "truncated.ckpt"
    truncated.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    text_file = work / "notes.ckpt"
    text_file.write_text("not a checkpoint\n")
    typo = work / "typo.py"
    typo.write_text(
        cfg.read_text().replace("average_clips='prob'", "average_clips='prob', num_clases=6")
    )
    hooks = work / "hooks.py"
    hooks.write_text(cfg.read_text() + "custom_hooks = [dict(type='EMAHook')]\n")
    broken = work / "broken.py"
    broken.write_text("model = dict(type='Recognizer3D'\n")
    names = (data / "label_map.txt").read_text().split()
    turned = relabel(data, work / "turned", names[::-1])
    other = relabel(data, work / "other", ["hop", *names[1:]])
    other_labels = work / "other_labels.txt"
    other_labels.write_text("\n".join(["hop", *names[1:]]) + "\n")
    a_file = work / "a_file"
    a_file.write_text("x")
    video = data / (data / "test.txt").read_text().split()[0]
    exists = work / "exists.py"
    exists.write_text("# taken\n")
    nope = str(work / "nope")

    cases: list[tuple[str, list[str]]] = [
        ("config show: no such file", ["config", "show", nope + ".py"]),
        ("config show: not a config (.txt)", ["config", "show", str(data / "train.txt")]),
        ("config show: Python syntax error", ["config", "show", str(broken)]),
        ("config show: cls_head.num_clases in the file", ["config", "show", str(typo)]),
        ("config show: --cfg-options model.cls_head.num_clases=3",
         ["config", "show", str(cfg), "--cfg-options", "model.cls_head.num_clases=3"]),
        ("config show: --cfg-options a..b=1", ["config", "show", str(cfg), "--cfg-options", "a..b=1"]),
        ("config show: --cfg-options 'k=[1,2'", ["config", "show", str(cfg), "--cfg-options", "k=[1,2"]),
        ("config show: --cfg-options without =", ["config", "show", str(cfg), "--cfg-options", "lr"]),
        ("config show: custom_hooks", ["config", "show", str(hooks)]),
        ("config show: --cfg-options train_cfg.max_epochs=3",
         ["config", "show", str(cfg), "--cfg-options", "train_cfg.max_epochs=3"]),
        ("config show: ethoclip::nope.py", ["config", "show", "ethoclip::nope.py"]),
        ("config new: --data missing", ["config", "new", "--data", nope, "--model", "tiny3d"]),
        ("config new: --data not a dataset", ["config", "new", "--data", str(work), "--model", "tiny3d"]),
        ("config new: --model unknown", ["config", "new", "--data", str(data), "--model", "alexnet"]),
        ("config new: --out exists", ["config", "new", "--data", str(data), "--model", "tiny3d",
                                     "--out", str(exists)]),
        ("train: no such config", ["train", nope + ".py"]),
        ("train: num_clases typo", ["train", str(typo), "--work-dir", str(work / "w_typo")]),
        ("train: --cfg-options train_cfg.max_epochs=3",
         ["train", str(cfg), "--cfg-options", "train_cfg.max_epochs=3", "--work-dir", str(work / "w_e3")]),
        ("train: --epochs 0", ["train", str(cfg), "--epochs", "0"]),
        ("train: --resume without a checkpoint", ["train", str(cfg), "--resume", "--work-dir", str(work / "w_r")]),
        ("train: batch_size=0", ["train", str(cfg), "--cfg-options", "train_dataloader.batch_size=0",
                                 "--work-dir", str(work / "w_b")]),
        ("train: ann_file missing", ["train", str(cfg), "--cfg-options",
                                     "train_dataloader.dataset.ann_file=/nope.txt", "--work-dir", str(work / "w_a")]),
        ("train: num_classes=3 (data has more)", ["train", str(cfg), "--cfg-options",
                                                  "model.cls_head.num_classes=3", "--work-dir", str(work / "w_n")]),
        ("train: --devices 0", ["train", str(cfg), "--devices", "0"]),
        ("train: custom_hooks", ["train", str(hooks), "--work-dir", str(work / "w_h")]),
        ("train: --resume a truncated checkpoint", ["train", str(cfg), "--resume", str(truncated),
                                                    "--work-dir", str(work / "w_t")]),
        ("train: --work-dir is a file", ["train", str(cfg), "--work-dir", str(a_file)]),
        ("test: no such checkpoint", ["test", nope + ".ckpt"]),
        ("test: a text file", ["test", str(text_file)]),
        ("test: a truncated checkpoint", ["test", str(truncated)]),
        ("test: --data missing", ["test", str(ckpt), "--data", nope]),
        ("test: --data, labels in another order", ["test", str(ckpt), "--data", str(turned), "--split", "test"]),
        ("test: --data, other labels", ["test", str(ckpt), "--data", str(other), "--split", "test"]),
        ("test: --split test", ["test", str(ckpt), "--split", "test"]),
        ("test: --split val (thresholds tuned there)", ["test", str(ckpt), "--split", "val"]),
        ("test: --batch-size 0", ["test", str(ckpt), "--batch-size", "0"]),
        ("test: --device cuda without a GPU", ["test", str(ckpt), "--device", "cuda"]),
        ("test: --out is a file", ["test", str(ckpt), "--out", str(a_file)]),
        ("predict: --top-k 0", ["predict", str(ckpt), str(video), "--top-k", "0"]),
        ("predict: --batch-size 0", ["predict", str(ckpt), str(video), "--batch-size", "0"]),
        ("predict: --window 0", ["predict", str(ckpt), str(video), "--window", "0"]),
        ("predict: --device cuda without a GPU", ["predict", str(ckpt), str(video), "--device", "cuda"]),
        ("predict: no such video", ["predict", str(ckpt), nope + ".mp4", "--out", str(work / "p1")]),
        ("predict: --label-file with other names", ["predict", str(ckpt), str(video),
                                                   "--label-file", str(other_labels), "--out", str(work / "p2")]),
        ("predict: a config MODEL without --checkpoint", ["predict", str(cfg), str(video)]),
        ("predict: --stride longer than --window", ["predict", str(ckpt), str(video), "--window", "2",
                                                    "--stride", "5"]),
    ]  # fmt: skip
    rows = []
    print("| # | case | rc | outcome | seconds | first error line |")
    print("|---|---|---|---|---|---|")
    for number, (name, argv) in enumerate(cases, 1):
        code, out, err, seconds = ethoclip(*argv)
        lines = [line for line in err.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        if "Traceback" in err:
            outcome = f"TRACEBACK ({len(lines)} lines)"
        elif code == 0:
            outcome = "ran"
        elif len(errors) == 1 and lines[-1].startswith("error:"):
            outcome = "one line"
        else:
            outcome = f"{len(lines)} lines"
        said = errors[0] if errors else (lines[-1] if lines else out.strip().splitlines()[-1:])
        said = str(said).replace("|", "/")[:220]
        notes = [line for line in (out + err).splitlines() if line.startswith("note:")]
        if code == 0 and notes:
            said = notes[0][:220]
        rows.append({"case": name, "rc": code, "outcome": outcome, "seconds": round(seconds, 1),
                     "said": said})  # fmt: skip
        print(f"| {number} | {name} | {code} | {outcome} | {seconds:.1f} | {said} |", flush=True)
    for leftover in ("w_typo", "w_e3", "w_n", "w_h", "w_a", "w_b", "w_t", "w_r"):
        if (work / leftover).is_dir() and not any((work / leftover).iterdir()):
            print(f"empty work dir left after a refusal: {work / leftover}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
