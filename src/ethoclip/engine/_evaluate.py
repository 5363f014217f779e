"""``ethoclip test``: a checkpoint on a split or a list file → metrics.json and plots.

The checkpoint alone says how to read clips (its test pipeline), what the classes are and
which per-class thresholds validation chose.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from ..data import ClipDataset, ClipSamples, DefaultSampler, VideoDataset, build_dataset, collate
from ..dataset import LABEL_MAP
from ..errors import DatasetError
from ..inference._loader import predict_loader
from ..models._checkpoint import Trained, load_trained
from ._metrics import report


def evaluation_dataset(trained: Trained, data: str | None, split: str) -> ClipSamples:
    """The clips to evaluate on: a ``prepare`` folder's split, a list file, or the config's."""
    pipeline = trained.preprocessing["test_pipeline"]
    if not pipeline:
        raise DatasetError(f"{trained.path}: the checkpoint's config has no val/test pipeline")
    known: dict[str, Any] = {
        "num_classes": len(trained.classes),
        "multi_class": trained.multi_label,
    }
    if data is None:
        config = trained.meta["config"]
        loader = config.get(f"{split}_dataloader") or config.get("val_dataloader")
        if not loader:
            raise DatasetError(f"{trained.path}: its config has no {split} data; pass --data")
        dataset = build_dataset(
            loader["dataset"], key=f"{split}_dataloader.dataset", defaults=known
        )
    elif (Path(data) / LABEL_MAP).is_file():
        dataset = ClipDataset(data, pipeline, split=split, test_mode=True, **known)
    elif Path(data).is_file():
        dataset = VideoDataset(
            data, pipeline, data_prefix={"video": str(Path(data).parent)}, test_mode=True, **known
        )
    else:
        raise DatasetError(f"{data}: neither a dataset folder (with {LABEL_MAP}) nor a list file")
    if (
        dataset.class_names != trained.classes
        and (Path(dataset.source).parent / LABEL_MAP).exists()
    ):
        raise DatasetError(
            f"{dataset.source}: its labels {dataset.class_names} are not the model's "
            f"{trained.classes}; evaluate on data prepared with the same labels (--label-map)"
        )
    return dataset


def evaluate(
    checkpoint: str | os.PathLike[str],
    *,
    data: str | None = None,
    split: str = "val",
    out: str | os.PathLike[str] | None = None,
    batch_size: int = 4,
    workers: int = 2,
    device: str | None = None,
) -> dict[str, Any]:
    """Metrics of a checkpoint on some clips; with ``out``, metrics.json and plots there."""
    target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    trained = load_trained(checkpoint, device=target)
    dataset = evaluation_dataset(trained, data, split)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=DefaultSampler(dataset, shuffle=False, round_up=False),
        num_workers=workers,
        collate_fn=collate,
    )
    fp16 = bool((trained.meta["config"].get("test_cfg") or {}).get("fp16"))
    _, scores, targets = predict_loader(trained.model, loader, target, fp16=fp16)
    result = report(
        scores,
        targets,
        class_names=trained.classes,
        multi_label=trained.multi_label,
        thresholds=trained.thresholds if trained.multi_label else None,
    )
    result.update(checkpoint=str(checkpoint), data=dataset.source, epoch=trained.meta.get("epoch"))
    if out is not None:
        from ._plots import test_plots

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(_finite(result), indent=2)
        tmp = folder / ".metrics.json.tmp"
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, folder / "metrics.json")
        result["plots"] = [
            str(p) for p in test_plots(result, scores, targets, trained.classes, folder)
        ]
    return result


def _finite(value: Any) -> Any:
    """JSON has no NaN: undefined values (a class without clips) become null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
