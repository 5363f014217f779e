"""MMAction2's optical-flow data path: RawframeDataset(modality='Flow') + RawFrameDecode and the
train/val pipelines of the wheel's two flow configs (TSN 5x1x3, SlowOnly 16x4x1), run on a
flow-frame folder this script writes (x_/y_ greyscale PNGs: lossless, so no JPEG decoder can
differ). Saves each pipeline's packed input per seed, and the dataset's data info."""

import copy
import json
import random

import _mma
import cv2
import numpy as np
from mmaction.datasets import RawframeDataset
from mmaction.utils import register_all_modules
from mmengine.dataset import Compose

CONFIGS = {
    "tsn": "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32_5x1x3-110e_kinetics400-flow.py",
    "slowonly": "recognition/slowonly/slowonly_r50_8xb16-16x4x1-256e_kinetics400-flow.py",
}
TOTAL, HEIGHT, WIDTH = 70, 36, 48
TMPL = "{}_{:05d}.png"
SEEDS = range(6)

out, _ = _mma.args()
register_all_modules(init_default_scope=True)
folder = out / "frames" / "clip"
folder.mkdir(parents=True)
rng = np.random.default_rng(0)
yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
for number in range(1, TOTAL + 1):
    for k, direction in enumerate("xy"):
        wave = 128 + 60 * np.sin(xx / 7.0 + number / 5.0 + k) * np.cos(yy / 9.0 - number / 11.0)
        noise = rng.integers(-20, 21, size=wave.shape)
        cv2.imwrite(
            str(folder / TMPL.format(direction, number)),
            np.clip(wave + noise, 0, 255).astype(np.uint8),
        )
(out / "list.txt").write_text(f"clip {TOTAL} 3\n")

cases = {}
dataset = RawframeDataset(
    str(out / "list.txt"),
    pipeline=[],
    data_prefix={"img": str(out / "frames")},
    filename_tmpl=TMPL,
    modality="Flow",
)
info = dataset.get_data_info(0)
cases["data_info"] = {k: info[k] for k in ("modality", "filename_tmpl", "total_frames")}
for name, rel in CONFIGS.items():
    cfg = _mma.load_config(rel)
    cases[f"{name}-config"] = str(_mma.configs_dir() / rel)
    for split in ("train", "val"):
        steps = copy.deepcopy(cfg[f"{split}_pipeline"])
        steps[-1]["meta_keys"] = ("img_shape", "flip")
        pipeline = Compose(steps)
        for seed in SEEDS if split == "train" else (0,):
            random.seed(seed)
            np.random.seed(seed)
            results = pipeline(dict(dataset.get_data_info(0)))
            key = f"{name}-{split}-{seed}"
            _mma.save(out, key, results["inputs"].numpy())
            cases[key] = {"flip": bool(results["data_samples"].metainfo.get("flip", False))}
(out / "cases.json").write_text(json.dumps(cases))
_mma.done(out)
