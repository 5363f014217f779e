"""The census of MMAction2 1.2.0's recognition configs: for each of the wheel's 125
``configs/recognition/**/*.py``, does ethoclip resolve it, build its model, build its
train/val/test dataloaders (datasets, pipelines, samplers)?

A failure must be a refusal by name (an ``EthoclipError`` naming the type or key and why);
anything else is a crash and a bug. Used by ``tests/test_mma_configs.py`` and printed by
``benchmarks/mma_census.py``.

The model is built without pretrained weights (every ``pretrained``/``init_cfg`` key in the
model off, ``clip_pretrained=False``) on the ``meta`` device, so even ViT-L costs no memory
and no initialisation time. Dataloaders are built for real over a one-line list file in a
temporary folder (an empty video file or frame folder: building checks existence only).
"""

from __future__ import annotations

import collections
import json
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .realdata import fetch_package

LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")
_MODELS: dict[str, str] = {}  # a model dict (as JSON) → its outcome
_OFF = {"pretrained": None, "pretrained2d": False, "clip_pretrained": False, "init_cfg": None}


@dataclass
class Row:
    name: str  # "tsn/tsn_…-rgb.py", below configs/recognition
    resolved: str = "ok"  # "ok" or the refusal / crash
    model: str = "ok"
    loaders: dict[str, str] = field(default_factory=dict)  # train/val/test → "ok" or why

    @property
    def family(self) -> str:
        return self.name.split("/")[0]

    @property
    def pipelines_ok(self) -> bool:
        return self.resolved == "ok" and all(v == "ok" for v in self.loaders.values())

    def failures(self) -> list[str]:
        return [v for v in (self.resolved, self.model, *self.loaders.values()) if v != "ok"]


def extract_configs(folder: Path) -> Path:
    """The wheel's config tree under ``folder``; its ``recognition`` folder."""
    with zipfile.ZipFile(fetch_package("mmaction2==1.2.0")) as archive:
        members = [m for m in archive.namelist() if m.startswith("mmaction/.mim/configs/")]
        archive.extractall(folder, members)
    return folder / "mmaction/.mim/configs/recognition"


def _outcome(exc: BaseException) -> str:
    from ethoclip.errors import EthoclipError

    if isinstance(exc, EthoclipError):
        return f"refused: {exc}"
    return f"CRASH {type(exc).__name__}: {exc}"


def _weights_off(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: (_OFF[k] if k in _OFF else _weights_off(v)) for k, v in value.items()}
        if out.get("type") == "UniFormerV2":  # loads OpenAI's CLIP unless told not to
            out["clip_pretrained"] = False
        return out
    if isinstance(value, list):
        return [_weights_off(v) for v in value]
    return value


def _local_data(dataset: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """The dataset pointed at a one-line list in ``tmp`` (parts of a ConcatDataset too)."""
    dataset = dict(dataset)
    if "datasets" in dataset:
        dataset["datasets"] = [_local_data(d, tmp) for d in dataset["datasets"]]
        return dataset
    frames = dataset.get("type") == "RawframeDataset"
    sep = str(dataset.get("delimiter", " "))
    offset = "0 " if dataset.get("with_offset") else ""
    line = f"clip {offset}16 0\n" if frames else f"clip.mp4{sep}0\n"
    lines = (
        tmp
        / f"list-{'frames' if frames else 'videos'}{'-offset' if offset else ''}-{ord(sep[0])}.txt"
    )
    (tmp / "clip").mkdir(exist_ok=True)
    (tmp / "clip.mp4").touch()
    lines.write_text(line)
    if "ann_file" in dataset:
        dataset["ann_file"] = str(lines)
    dataset["data_root"] = None
    dataset["data_prefix"] = {"img" if frames else "video": str(tmp)}
    return dataset


def census_one(path: Path, root: Path, tmp: Path) -> Row:
    import torch

    from ethoclip.config import Config
    from ethoclip.data import build_dataloader
    from ethoclip.models import build_recognizer

    row = Row(str(path.relative_to(root)))
    try:
        cfg = Config.fromfile(path).to_dict()
    except Exception as exc:
        row.resolved = _outcome(exc)
        return row
    model = _weights_off(cfg["model"])
    key = json.dumps(model, sort_keys=True, default=str)
    if key not in _MODELS:  # many configs share one model: built once
        try:
            with torch.device("meta"):
                build_recognizer(model)
            _MODELS[key] = "ok"
        except Exception as exc:
            _MODELS[key] = _outcome(exc)
    row.model = _MODELS[key]
    # As the experiment does for val/test: the classes the model's head has.
    head = (cfg.get("model") or {}).get("cls_head") or {}
    defaults = {"num_classes": head["num_classes"]} if head.get("num_classes") else None
    for key in LOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        loader = dict(loader)
        try:
            loader["dataset"] = _local_data(dict(loader.get("dataset") or {}), tmp)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "8 workers on 2 cores": none are started
                build_dataloader(
                    loader, key=key, training=key == "train_dataloader", dataset_defaults=defaults
                )
            row.loaders[key.split("_")[0]] = "ok"
        except Exception as exc:
            row.loaders[key.split("_")[0]] = _outcome(exc)
    return row


def census(root: Path | None = None) -> list[Row]:
    """One row per recognition config of MMAction2 1.2.0's wheel, in path order."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        root = root or extract_configs(tmp / "wheel")
        data = tmp / "data"
        data.mkdir()
        return [census_one(p, root, data) for p in sorted(root.rglob("*.py"))]


def families(rows: list[Row]) -> Iterator[tuple[str, int, int, int, int]]:
    """(family, configs, resolved, models built, all pipelines built) per family."""
    grouped: dict[str, list[Row]] = collections.defaultdict(list)
    for row in rows:
        grouped[row.family].append(row)
    for name, group in sorted(grouped.items()):
        yield (
            name,
            len(group),
            sum(r.resolved == "ok" for r in group),
            sum(r.model == "ok" for r in group),
            sum(r.pipelines_ok for r in group),
        )


def reason(failure: str) -> str:
    """A failure shortened to its kind, for counting (``refused: X.type: 'Y' is …`` → Y)."""
    text = failure.split(": ", 1)[1] if failure.startswith("refused: ") else failure
    return text[:110]
