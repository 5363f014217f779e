"""``optim_wrapper``: the optimizer, gradient clipping, mixed precision, parameter-wise settings.

``paramwise_cfg.custom_keys`` works as in MMEngine: a parameter whose name as MMEngine spells
it (``backbone.cls_token``; only the model's own parameters get a leading dot) contains a key
gets that key's ``lr_mult`` and ``decay_mult`` (the longest matching key wins);
``norm_decay_mult`` and ``bias_decay_mult`` apply to normalisation weights and biases. A key
that matches no parameter is reported (MMAction2's TimeSformer keys '.backbone.cls_token' …
match nothing in MMEngine either). ``constructor='SwinOptimWrapperConstructor'`` is
MMAction2's: every ``paramwise_cfg`` key found in ``base.<name>`` multiplies that parameter's
LR and decay. ``constructor='TSMOptimWrapperConstructor'`` is MMAction2's TSN/TSM grouping: the
first conv as it is, other biases at 2× LR without decay, norms without decay, and with
``paramwise_cfg=dict(fc_lr5=True)`` the last linear layer at 5× (weight) and 10× (bias) LR.
``constructor='LearningRateDecayOptimizerConstructor'`` is MMAction2's layer-wise LR decay for
MViT and ViT backbones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..config._check import OPTIM_CONSTRUCTORS
from ..registry import OPTIMIZERS, building, config_error

NORMS = (
    nn.modules.batchnorm._BatchNorm,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.modules.instancenorm._InstanceNorm,
)


CONSTRUCTORS = (None, *OPTIM_CONSTRUCTORS)


@dataclass
class OptimWrapper:
    """MMEngine's ``OptimWrapper``: an optimizer, gradient clipping, gradient accumulation."""

    optimizer: Mapping[str, Any] = field(default_factory=lambda: {"type": "SGD", "lr": 0.01})
    clip_grad: Mapping[str, Any] | None = None
    paramwise_cfg: Mapping[str, Any] | None = None
    accumulative_counts: int = 1
    dtype: str | None = None  # AmpOptimWrapper: float16 or bfloat16
    loss_scale: Any = "dynamic"
    constructor: str | None = None  # MMAction2's SwinOptimWrapperConstructor, or the default
    amp: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.clip_grad is not None:
            unknown = set(self.clip_grad) - {"max_norm", "norm_type"}
            if unknown or "max_norm" not in self.clip_grad:
                raise config_error(
                    "clip_grad", f"takes max_norm (and norm_type), got {dict(self.clip_grad)}"
                )
        if not isinstance(self.accumulative_counts, int) or self.accumulative_counts < 1:
            raise config_error(
                "accumulative_counts",
                f"must be a whole number ≥ 1 (got {self.accumulative_counts!r})",
            )
        if self.dtype not in (None, "float16", "bfloat16"):
            raise config_error("dtype", f"must be 'float16' or 'bfloat16' (got {self.dtype!r})")
        if self.loss_scale != "dynamic":
            raise config_error("loss_scale", "only 'dynamic' loss scaling is supported")
        if self.constructor not in CONSTRUCTORS:
            raise config_error(
                "constructor",
                f"must be one of {', '.join(map(str, CONSTRUCTORS))} (got {self.constructor!r})",
            )

    def precision(self, device: str) -> str | None:
        """Lightning's precision for this wrapper on ``device`` ("cuda" or "cpu")."""
        if not self.amp:
            return None
        if self.dtype == "bfloat16" or device == "cpu":
            return "bf16-mixed"  # CPUs have no float16 autocast worth the name
        return "16-mixed"


@dataclass
class AmpOptimWrapper(OptimWrapper):
    """The same, in automatic mixed precision (float16 on GPUs, bfloat16 on CPUs)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.amp = True


def param_groups(
    model: nn.Module, base_lr: float, weight_decay: float, paramwise: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parameter groups with their LR and weight decay; and notes (unused keys).

    Parameters with the same LR and decay share one group (``names`` lists them): torch's
    multi-tensor optimizers work group by group, and one group per parameter made AdamW's
    step several times slower on small models.
    """
    paramwise = dict(paramwise or {})
    custom = dict(paramwise.pop("custom_keys", {}) or {})
    norm_mult = paramwise.pop("norm_decay_mult", None)
    bias_mult = paramwise.pop("bias_decay_mult", None)
    paramwise.pop("bypass_duplicate", None)
    if paramwise:
        raise config_error(
            "paramwise_cfg",
            f"{', '.join(paramwise)} not supported (custom_keys, norm_decay_mult and "
            "bias_decay_mult are)",
        )
    keys = sorted(sorted(custom), key=len, reverse=True)
    used: set[str] = set()
    groups: dict[tuple[float, float], dict[str, Any]] = {}
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            full = f"{module_name}.{name}"  # MMEngine's spelling: ".cls_token" at the top
            lr, decay = base_lr, weight_decay
            key = next((k for k in keys if k in full), None)
            if key is not None:
                used.add(key)
                lr *= float(custom[key].get("lr_mult", 1.0))
                decay *= float(custom[key].get("decay_mult", 1.0))
            else:
                if norm_mult is not None and isinstance(module, NORMS):
                    decay *= float(norm_mult)
                elif bias_mult is not None and name == "bias":
                    decay *= float(bias_mult)
            group = groups.setdefault(
                (lr, decay), {"params": [], "lr": lr, "weight_decay": decay, "names": []}
            )
            group["params"].append(param)
            group["names"].append(full.lstrip("."))
    notes = [
        f"paramwise_cfg.custom_keys {k!r} matches no parameter of this model"
        for k in keys
        if k not in used
    ]
    return list(groups.values()), notes


def swin_param_groups(
    model: nn.Module, base_lr: float, weight_decay: float, paramwise: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """MMAction2's ``SwinOptimWrapperConstructor``: each key of ``paramwise_cfg`` found in
    ``base.<parameter name>`` multiplies its LR by ``lr_mult`` and its decay by ``decay_mult``
    (several keys: the product), e.g. ``norm`` for every norm, ``backbone`` for the backbone."""
    rules = dict(paramwise or {})
    bad = [k for k, v in rules.items() if not isinstance(v, Mapping)]
    if bad:
        raise config_error(
            "paramwise_cfg", f"{', '.join(bad)}: each key takes dict(lr_mult=…, decay_mult=…)"
        )
    used: set[str] = set()
    groups: dict[tuple[float, float], dict[str, Any]] = {}
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            full = f"base.{module_name}.{name}" if module_name else f"base.{name}"
            lr, decay = base_lr, weight_decay
            for key, rule in rules.items():
                if key in full:
                    used.add(key)
                    lr *= float(rule.get("lr_mult", 1.0))
                    decay *= float(rule.get("decay_mult", 1.0))
            group = groups.setdefault(
                (lr, decay), {"params": [], "lr": lr, "weight_decay": decay, "names": []}
            )
            group["params"].append(param)
            group["names"].append(full.removeprefix("base."))
    notes = [
        f"paramwise_cfg {k!r} matches no parameter of this model" for k in rules if k not in used
    ]
    return list(groups.values()), notes


def tsm_param_groups(
    model: nn.Module, base_lr: float, weight_decay: float, paramwise: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """MMAction2's ``TSMOptimWrapperConstructor``, walking the modules in order: the first conv
    keeps the LR and decay (its bias 2× LR, no decay); other convs and linears likewise; norms'
    trainable parameters no decay; the last linear layer (the classifier) 5× LR and 10× for its
    bias with ``fc_lr5``."""
    rules = dict(paramwise or {})
    unknown = set(rules) - {"fc_lr5"}
    if unknown:
        raise config_error(
            "paramwise_cfg", f"TSMOptimWrapperConstructor takes only fc_lr5 (got {sorted(unknown)})"
        )
    convs = [m for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not convs or not linears:
        raise config_error(
            "constructor",
            "TSMOptimWrapperConstructor needs a model with convolutions and a linear classifier",
        )
    last = linears[-1]  # MMAction2 takes the last linear's weight and bias apart
    named = {id(p): n for n, p in model.named_parameters()}
    fc = bool(rules.get("fc_lr5", False))
    plan: list[tuple[nn.Parameter, float, float]] = []
    for module in model.modules():
        own = list(module.parameters(recurse=False))
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
            scale = 5.0 if fc and module is last else 1.0
            plan.append((own[0], scale, weight_decay))
            if len(own) == 2:
                plan.append((own[1], 2 * scale, 0.0))
        elif isinstance(module, NORMS):
            plan += [(p, 1.0, 0.0) for p in own if p.requires_grad]
        elif own:
            raise config_error(
                "constructor",
                f"TSMOptimWrapperConstructor has no rule for {type(module).__name__} "
                f"({named[id(own[0])]}); use the default constructor with paramwise_cfg",
            )
    groups: dict[tuple[float, float], dict[str, Any]] = {}
    for param, scale, decay in plan:
        if not param.requires_grad:
            continue
        lr = base_lr * scale
        group = groups.setdefault(
            (lr, decay), {"params": [], "lr": lr, "weight_decay": decay, "names": []}
        )
        group["params"].append(param)
        group["names"].append(named[id(param)])
    return list(groups.values()), []


def layer_decay_param_groups(
    model: nn.Module, base_lr: float, weight_decay: float, paramwise: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """MMAction2's ``LearningRateDecayOptimizerConstructor`` (MViT and ViT): layer ``i`` of
    ``num_layers`` trains at ``decay_rate ** (num_layers - i + 1)`` × the LR. The class token,
    the mask token, ``pos_embed`` and the patch embedding are layer 0, ``backbone.blocks.N``
    layer N + 1, everything else (the head) layer ``num_layers + 1`` (× 1); 1-D parameters and
    biases take no weight decay."""
    rules = dict(paramwise or {})
    unknown = set(rules) - {"num_layers", "decay_rate", "decay_type"}
    if unknown or not {"num_layers", "decay_rate"} <= set(rules):
        raise config_error(
            "paramwise_cfg",
            "LearningRateDecayOptimizerConstructor takes num_layers, decay_rate and decay_type "
            f"(got {sorted(rules)})",
        )
    if rules.get("decay_type", "layer_wise") != "layer_wise":
        got = rules["decay_type"]
        raise config_error("paramwise_cfg.decay_type", f"only 'layer_wise' is supported ({got!r})")
    backbone = type(getattr(model, "backbone", None)).__name__
    if "MViT" not in backbone and "VisionTransformer" not in backbone:
        raise config_error(
            "constructor",
            f"LearningRateDecayOptimizerConstructor numbers the layers of MViT and "
            f"VisionTransformer backbones, not {backbone}",
        )
    norms = [n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._NormBase)]
    if norms:
        raise config_error(
            "constructor",
            f"LearningRateDecayOptimizerConstructor does not take batch norms ({norms[0]})",
        )
    layers, rate = int(rules["num_layers"]), float(rules["decay_rate"])
    groups: dict[tuple[float, float], dict[str, Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        decay = 0.0 if param.ndim == 1 or name.endswith(".bias") else weight_decay
        tokens = ("backbone.cls_token", "backbone.mask_token", "backbone.pos_embed")
        if name in tokens or name.startswith("backbone.patch_embed"):
            layer = 0
        elif name.startswith("backbone.blocks."):
            layer = int(name.split(".")[2]) + 1
        else:
            layer = layers + 1
        lr = base_lr * rate ** (layers - layer + 1)
        group = groups.setdefault(
            (lr, decay), {"params": [], "lr": lr, "weight_decay": decay, "names": []}
        )
        group["params"].append(param)
        group["names"].append(name)
    return list(groups.values()), []


def build_optimizer(
    model: nn.Module, wrapper: OptimWrapper, *, lr_scale: float = 1.0
) -> tuple[torch.optim.Optimizer, list[str]]:
    """The optimizer ``wrapper.optimizer`` names, over ``model``'s trainable parameters."""
    cfg = dict(wrapper.optimizer)
    if "lr" not in cfg:
        raise config_error("optimizer.lr", "is missing: the optimizer needs a learning rate")
    cfg["lr"] = float(cfg["lr"]) * lr_scale
    grouping = {
        "SwinOptimWrapperConstructor": swin_param_groups,
        "TSMOptimWrapperConstructor": tsm_param_groups,
        "LearningRateDecayOptimizerConstructor": layer_decay_param_groups,
    }.get(wrapper.constructor or "", param_groups)
    groups, notes = grouping(
        model, cfg["lr"], float(cfg.get("weight_decay", 0.0)), wrapper.paramwise_cfg
    )
    if not groups:
        raise config_error(
            "optimizer", "the model has no trainable parameters (everything frozen?)"
        )
    with building("optim_wrapper"):
        optimizer = OPTIMIZERS.build(cfg, default_args={"params": groups}, key="optimizer")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise config_error("optimizer.type", f"{cfg.get('type')!r} is not a torch optimizer")
    return optimizer, notes
