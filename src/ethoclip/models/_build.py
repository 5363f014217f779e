"""Build a recognizer that agrees with its data, and load weights of earlier trainings.

The number of classes and the multi-label mode come from the dataset: a head that leaves
``num_classes`` out (or None) takes the dataset's; one that sets another number is an error
naming both. Without ``loss_cls``, multi-label data trains with BCE, single-label with CE.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..config import to_plain
from ..errors import CheckpointError, ConfigError
from ..registry import MODELS
from ._recognizers import BaseRecognizer
from ._weights import load_file, unwrap_state_dict


def build_recognizer(
    model: Mapping[str, Any],
    *,
    num_classes: int | None = None,
    multi_label: bool | None = None,
    source: str = "the dataset",
) -> BaseRecognizer:
    cfg = copy.deepcopy(to_plain(model))
    head = cfg.get("cls_head")
    if not isinstance(head, dict):
        raise ConfigError("model.cls_head: missing; a recognizer needs dict(cls_head=dict(type=…))")
    if num_classes is not None:
        configured = head.get("num_classes")
        if configured is None:
            head["num_classes"] = num_classes
        elif configured != num_classes:
            raise ConfigError(
                f"model.cls_head.num_classes is {configured} in the config but {source} has "
                f"{num_classes} classes; set it to {num_classes}, or to None to take it from the "
                "data"
            )
    if multi_label is not None:
        loss = head.get("loss_cls")
        kind = loss if isinstance(loss, str) else (loss or {}).get("type")
        if kind is None:
            head["loss_cls"] = {"type": "BCELossWithLogits" if multi_label else "CrossEntropyLoss"}
        elif multi_label and kind == "CrossEntropyLoss":
            raise ConfigError(
                f"model.cls_head.loss_cls is CrossEntropyLoss but {source} is multi-label (clips "
                "with several labels or none): use dict(type='BCELossWithLogits')"
            )
    recognizer = MODELS.build(cfg, key="model")
    if not isinstance(recognizer, BaseRecognizer):
        raise ConfigError(f"model.type: {type(recognizer).__name__} is not a recognizer")
    return recognizer


def mmaction_keys(
    model: BaseRecognizer, state: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """An MMAction2 checkpoint's names → this model's. The backbones in ``models/backbones``
    are MMAction2's own architectures with its names: their checkpoints load as they are."""
    if type(model.backbone).__module__.startswith(f"{__package__}.backbones."):
        return dict(state)
    raise CheckpointError(
        f"an MMAction2 checkpoint cannot load into {type(model.backbone).__name__}, which is "
        "not an MMAction2 architecture; use the MMAction2 type name the checkpoint was "
        "trained with (ethoclip list models)"
    )


def load_weights(
    model: BaseRecognizer,
    path: str,
    *,
    reinit_head: bool = False,
    classes: Sequence[str] | None = None,
) -> list[str]:
    """Load an ethoclip, MMAction2 or plain checkpoint into ``model``; returns notes.

    Every tensor must fit: missing, unexpected or misshapen ones are named. A head trained on
    another label set fits only with ``reinit_head`` (then it keeps its fresh weights).
    ``classes``: the new model's class names; an ethoclip checkpoint's head is matched to them
    by name (the same names in another order are reordered; other names need ``reinit_head``).
    """
    data = load_file(path)
    notes: list[str] = []
    other_names = ""  # the checkpoint's class names, when they are not the new model's
    if isinstance(data, Mapping) and "ethoclip" in data:
        # Lightning keeps the recognizer under "model."
        state = {k.removeprefix("model."): v for k, v in data["state_dict"].items()}
        kind = "ethoclip"
        trained = [str(c) for c in (data["ethoclip"] or {}).get("classes") or []]
        if classes is not None and trained and not reinit_head:
            if sorted(trained) == sorted(classes):
                state, notes = _match_head(state, trained, list(classes), path)
            else:
                other_names = (
                    f"; it was trained on {len(trained)} classes ({', '.join(trained)}), "
                    f"the data has {len(classes)} ({', '.join(classes)})"
                )
    else:
        state = unwrap_state_dict(data, path)
        is_mmaction = isinstance(data, Mapping) and ("meta" in data or "message_hub" in data)
        if is_mmaction or any(".conv.weight" in k or "transformer_layers." in k for k in state):
            state = mmaction_keys(model, state)
            kind = "MMAction2"
        else:
            kind = "plain"
    own = model.state_dict()
    notes = [f"{path}: {kind} checkpoint", *notes]
    head_keys = [k for k in own if k.startswith("cls_head.")]
    head_fits = not other_names and all(
        k in state and state[k].shape == own[k].shape for k in head_keys
    )
    if not head_fits:
        if not reinit_head:
            found = state.get("cls_head.fc_cls.weight")
            other = (
                f" (it has {found.shape[0]} classes, this model {model.num_classes})"
                if found is not None
                else ""
            )
            raise CheckpointError(
                f"{path}: its classification head does not fit{other}: it was trained on another "
                f"label set{other_names}; re-initialise the head to fine-tune from it "
                "(--reinit-head)"
            )
        state = {k: v for k, v in state.items() if not k.startswith("cls_head.")}
        state.update({k: own[k] for k in head_keys})
        notes.append("head re-initialised (another label set)")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [k for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        raise CheckpointError(
            f"{path}: the weights do not fit this model: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing[:5])}" if missing else "",
                    f"not in the model {', '.join(unexpected[:5])}" if unexpected else "",
                    f"other shapes {', '.join(shapes[:5])}" if shapes else "",
                )
                if part
            )
        )
    model.load_state_dict(state, strict=True)
    return notes


def _match_head(
    state: dict[str, torch.Tensor], trained: list[str], classes: list[str], path: str
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The head's class rows in the order of ``classes`` (refused when the names differ)."""
    from ..preflight._classes import class_order, describe_order

    order = class_order(
        classes, trained, model_source="the training data", data_source=f"load_from {path}"
    )
    if order is None:
        return state, []
    index = torch.tensor(order)
    moved = {
        k: (v.index_select(0, index) if v.dim() >= 1 and v.shape[0] == len(classes) else v)
        if k.startswith("cls_head.")
        else v
        for k, v in state.items()
    }
    return moved, [f"load_from {path}: {describe_order(order, classes, trained)}; head reordered"]
