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
from ..evaluation import report
from ..inference._loader import predict_loader
from ..models._checkpoint import Trained, load_trained
from ..preflight._classes import class_order, describe_order


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
        dataset_cfg = _split_list(dict(loader["dataset"]), split)
        dataset = build_dataset(dataset_cfg, key=f"{split}_dataloader.dataset", defaults=known)
    elif (Path(data) / LABEL_MAP).is_file():
        # Without num_classes: another label set is refused below, naming both lists.
        dataset = ClipDataset(
            data, pipeline, split=split, test_mode=True, multi_class=trained.multi_label
        )
    elif Path(data).is_file():
        named = (Path(data).parent / LABEL_MAP).is_file()
        dataset = VideoDataset(
            data,
            pipeline,
            data_prefix={"video": str(Path(data).parent)},
            test_mode=True,
            **({"multi_class": trained.multi_label} if named else known),
        )
    else:
        raise DatasetError(f"{data}: neither a dataset folder (with {LABEL_MAP}) nor a list file")
    return dataset


def _split_list(dataset_cfg: dict[str, Any], split: str) -> dict[str, Any]:
    """The config's list for ``split``, or ``<split>.txt`` beside it: configs written before
    ``config new`` wired test.txt point test_dataloader at val.txt, and ``--split test`` must
    not evaluate the validation clips under the name 'test'."""
    if dataset_cfg.get("type") == "ClipDataset":
        dataset_cfg["split"] = split  # a prepare folder by split: that split, or its error
        return dataset_cfg
    ann_file = dataset_cfg.get("ann_file")
    if isinstance(ann_file, str) and Path(ann_file).stem in ("train", "val", "test"):
        stem = Path(ann_file).stem
        other = Path(ann_file).with_name(f"{split}.txt")
        if stem != split and other.is_file():
            dataset_cfg["ann_file"] = str(other)
        elif stem != split:
            raise DatasetError(
                f"{ann_file}: the checkpoint's config reads {split!r} clips from the {stem!r} "
                f"list, and there is no {split}.txt beside it; pass --split {stem}, or --data "
                "with the clips to evaluate"
            )
    return dataset_cfg


def _tuned_on(trained: Trained) -> str | None:
    """The list whose clips chose the per-class thresholds (the training run's validation)."""
    config = trained.meta.get("config") or {}
    loader = config.get("val_dataloader") or {}
    dataset = loader.get("dataset") or {}
    ann_file = dataset.get("ann_file")
    if isinstance(ann_file, str):
        root = dataset.get("data_root")
        path = Path(ann_file) if not root or os.path.isabs(ann_file) else Path(root) / ann_file
        return str(path)
    if dataset.get("type") == "ClipDataset" and dataset.get("data_root"):
        return f"{Path(dataset['data_root'])} ({dataset.get('split', 'train')})"
    return None


def _same_list(a: str, b: str | None) -> bool:
    if b is None:
        return False
    if a == b:
        return True
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _remap_targets(targets: torch.Tensor, order: list[int], multi_label: bool) -> torch.Tensor:
    """Targets in the data's class order → the model's (``order[j]``: data index of class j)."""
    if multi_label:
        return targets[:, order]
    inverse = torch.full((len(order) + 1,), -1, dtype=torch.long)
    for model_index, data_index in enumerate(order):
        inverse[data_index] = model_index
    labels = targets.long()
    return torch.where(labels >= 0, inverse[labels.clamp(min=0)], labels)


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
    from ..models._memory import keep_freed_memory

    keep_freed_memory()  # each batch's forward reuses the last one's pages
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
    named = dataset.class_names != [str(i) for i in range(dataset.num_classes)]
    order = (
        class_order(
            trained.classes,
            dataset.class_names,
            model_source=str(checkpoint),
            data_source=dataset.source,
        )
        if named
        else None
    )
    notes = []
    fp16 = bool((trained.meta["config"].get("test_cfg") or {}).get("fp16"))
    _, scores, targets = predict_loader(trained.model, loader, target, fp16=fp16)
    if order is not None:
        targets = _remap_targets(targets, order, trained.multi_label)
        notes.append(
            f"{dataset.source}: {describe_order(order, trained.classes, dataset.class_names)}"
        )
    tuned_on = _tuned_on(trained) if trained.meta.get("thresholds") else None
    in_sample = trained.multi_label and _same_list(dataset.source, tuned_on)
    if in_sample:
        notes.append(
            f"the F1 figures use thresholds tuned on these same clips ({tuned_on}): they are "
            "in-sample, so optimistic; evaluate held-out clips (--split test) for a fair figure"
        )
    result = report(
        scores,
        targets,
        class_names=trained.classes,
        multi_label=trained.multi_label,
        thresholds=trained.thresholds if trained.multi_label else None,
    )
    result.update(
        checkpoint=str(checkpoint),
        data=dataset.source,
        split=split if data is None or (Path(data) / LABEL_MAP).is_file() else None,
        list=dataset.source,
        thresholds_tuned_on=tuned_on,
        in_sample=in_sample,
        class_order_remapped=order is not None,
        notes=notes,
        epoch=trained.meta.get("epoch"),
    )
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
