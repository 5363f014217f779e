"""MMAction2 1.2.0's crops, flip and ColorJitter on fixed frames, with seeded random state.

The cases come as params from tests/test_data_transforms_mmaction2.py: ``crops`` (name,
transform dict, (height, width)), ``jitter`` (name, ColorJitter arguments, order, factors),
``seeds``. MMAction2 draws from numpy's global generator and Python's ``random``; each case
seeds both with the number the ethoclip test uses. ColorJitter runs with injected factors and
a fixed order (its draws replaced), so the colour arithmetic is compared on its own.
Writes ``cases.json`` (boxes, flags, errors), ``<case>-<seed>.npy`` (the frames out) and
``input-<h>-<w>.npy`` (the frames in, for the test to check it made the same).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from _mma import args, done, save


def frames(height: int, width: int, count: int = 2) -> np.ndarray:
    rng = np.random.RandomState(height * 1000 + width)
    return rng.randint(0, 256, (count, height, width, 3)).astype(np.uint8)


def tuples(value: Any) -> Any:
    """JSON lists back to the tuples MMAction2's argument checks want."""
    if isinstance(value, dict):
        return {k: tuples(v) for k, v in value.items()}
    return tuple(tuples(v) for v in value) if isinstance(value, list) else value


def _injected(queue: list[float]) -> Any:
    """A stand-in for ``np.random.uniform`` handing out ``queue`` in order."""

    def uniform(low: float = 0.0, high: float = 1.0, size: Any = None) -> float:
        return queue.pop(0)

    return uniform


def main() -> None:
    out, params = args()
    crops, jitters, seeds = params["crops"], params["jitter"], range(params["seeds"])
    from mmaction.registry import TRANSFORMS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    cases: dict[str, Any] = {}
    for name, cfg, (height, width) in crops:
        save(out, f"input-{height}-{width}", frames(height, width))
        cfg = tuples(cfg)
        for seed in seeds:
            random.seed(seed)
            np.random.seed(seed)
            transform = TRANSFORMS.build(dict(cfg))
            imgs = frames(height, width)
            results = transform(
                {"imgs": list(imgs), "img_shape": (height, width), "modality": "RGB"}
            )
            key = f"{name}-{seed}"
            bbox = results.get("crop_bbox")
            cases[key] = {
                "crop_bbox": None if bbox is None else np.asarray(bbox).tolist(),
                "flip": results.get("flip"),
                "img_shape": list(results["img_shape"]),
            }
            save(out, key, np.stack(results["imgs"]))
    save(out, "input-16-20", frames(16, 20, 3))
    for name, kwargs, order, factors in jitters:
        transform = TRANSFORMS.build({"type": "ColorJitter", **tuples(kwargs)})
        transform.fn_idx = np.array(order)
        uniform = np.random.uniform
        np.random.uniform = _injected(list(factors))
        try:
            results = transform({"imgs": list(frames(16, 20, 3))})
            save(out, f"jitter-{name}", np.stack(results["imgs"]))
            cases[f"jitter-{name}"] = {"error": None}
        except Exception as exc:
            cases[f"jitter-{name}"] = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            np.random.uniform = uniform
    # The one MMAction2 config that passes io_backend to DecordDecode (tsm 1x1x16 kinetics).
    try:
        TRANSFORMS.build({"type": "DecordDecode", "io_backend": "disk"})
        cases["decord_decode_io_backend"] = {"error": None}
    except Exception as exc:
        cases["decord_decode_io_backend"] = {"error": f"{type(exc).__name__}: {exc}"}
    # The samplers as installed (the tests also run their source from the wheel directly).
    sampled = []
    for kind, kwargs, total, seed in params.get("sampling", []):
        np.random.seed(seed)
        result = TRANSFORMS.build({"type": kind, **kwargs})(
            {"total_frames": total, "start_index": 0}
        )
        sampled.append(np.asarray(result["frame_inds"]).tolist())
    cases["sampling"] = sampled
    # RawframeDataset's reading of list files.
    from mmaction.datasets import RawframeDataset

    lists = []
    for index, (text, kwargs) in enumerate(params.get("rawframes", [])):
        ann = out / f"rawframes-{index}.txt"
        ann.write_text(text)
        dataset = RawframeDataset(str(ann), pipeline=[], data_prefix={"img": "root"}, **kwargs)
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        keys = ("frame_dir", "offset", "total_frames", "label")
        lists.append(
            [{k: np.asarray(info[k]).tolist() for k in keys if k in info} for info in infos]
        )
    cases["rawframes"] = lists
    save(out, "cases", cases)
    done(out)


if __name__ == "__main__":
    main()
