"""Every ``type=`` of a config and its arguments, checked from source (no torch).

Each place a config builds an object has one registry: the model and its parts, the datasets,
their pipelines and samplers, the optimizer wrapper and optimizer, the schedulers, hooks,
loops and evaluators. A type the registry does not have, or an argument its class does not
take, is a problem naming the full key and the closest valid name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..config._dict import closest
from ..config._runtime_keys import CUSTOM_HOOKS
from ..errors import ConfigError
from ..registry import (
    DATA_SAMPLERS,
    DATASETS,
    HOOKS,
    LOOPS,
    METRICS,
    MODELS,
    OPTIM_WRAPPERS,
    OPTIMIZERS,
    PARAM_SCHEDULERS,
    TRANSFORMS,
    Registry,
)
from ..registry._static import find_definition, module_classes, module_file, static_params

# Model arguments that are themselves built from MODELS (a wrong type there is an error);
# other nested dicts with a type (norm_cfg=dict(type='BN3d') …) are the class's business.
MODEL_SLOTS = frozenset({"backbone", "cls_head", "neck", "data_preprocessor", "loss_cls"})
# Where torch's own classes come from when a registry falls back to them.
TORCH_MODULES = {OPTIMIZERS.name: "torch.optim", PARAM_SCHEDULERS.name: "torch.optim.lr_scheduler"}
# Defaults the builders use when a section gives no type.
DEFAULT_TYPES = {
    "train_cfg": "EpochBasedTrainLoop",
    "val_cfg": "ValLoop",
    "test_cfg": "TestLoop",
    "optim_wrapper": "OptimWrapper",
}


def _torch_names(module: str) -> list[str]:
    path = module_file(module)
    names = list(module_classes(module))
    if path is None:
        return names
    import ast

    from ..registry._static import _tree

    tree = _tree(path)
    for node in tree.body if tree else []:  # __all__ is the public list where a module has one
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            try:
                listed = ast.literal_eval(node.value)
            except ValueError:
                break
            return [n for n in listed if n[:1].isupper()]
    return names


def _target(registry: Registry, kind: str, key: str) -> str | None:
    """The ``module:attr`` of a type; a ConfigError for a name the registry does not have."""
    if kind in registry._entries:
        return registry._entries[kind].target
    module = TORCH_MODULES.get(registry.name)
    if module is not None:
        names = _torch_names(module)
        if kind in names and find_definition(module, kind) is not None:
            return f"{module}:{kind}"
        if module_file(module) is None:
            return None  # torch is not installed here: the build will say so
        hint = closest(kind, [*registry._entries, *names])
        suggestion = f"did you mean {', '.join(map(repr, hint))}? " if hint else ""
        raise ConfigError(
            f"{key}: unknown {registry.name[:-1]} type {kind!r}; {suggestion}"
            f"see 'ethoclip list {registry.name}'"
        )
    registry.entry(kind, key=key)  # raises with the registry's own message
    return None


def check_object(
    registry: Registry, cfg: Any, key: str, *, default_type: str | None = None
) -> list[str]:
    """The problems of one ``dict(type=…, …)``: its type and its argument names."""
    if not isinstance(cfg, Mapping):
        return [f"{key}: expected a dict with a 'type', found {type(cfg).__name__} {cfg!r}"]
    kind = cfg.get("type", default_type)
    if kind is None:
        return []  # the builder says what is missing, with the choices
    if not isinstance(kind, str):
        return [f"{key}.type: must be a name (text), found {type(kind).__name__} {kind!r}"]
    try:
        target = _target(registry, kind, f"{key}.type")
    except ConfigError as exc:
        return [str(exc)]
    if target is None:
        return []
    params = static_params(target)
    if params is None or params.var_keyword:
        return []
    problems = []
    for arg in cfg:
        if arg == "type" or arg in params.accepted:
            continue
        hint = closest(arg, params.accepted)
        problems.append(
            f"{key}.{arg}: {kind} takes no argument {arg!r}"
            + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else "")
            + (f" ({kind} takes {', '.join(params.accepted)})" if not hint else "")
        )
    return problems


def _model_parts(cfg: Mapping[str, Any], key: str) -> Iterator[tuple[Any, str]]:
    for name, value in cfg.items():
        built = isinstance(value, Mapping) and value.get("type") in MODELS
        if (name in MODEL_SLOTS and value is not None) or built:
            yield value, f"{key}.{name}"


def _check_model(cfg: Any, key: str) -> list[str]:
    problems = check_object(MODELS, cfg, key)
    if isinstance(cfg, Mapping):
        for part, part_key in _model_parts(cfg, key):
            if isinstance(part, str) and part_key.endswith("loss_cls"):
                part = {"type": part}
            problems += _check_model(part, part_key)
    return problems


def _check_dataloader(cfg: Any, key: str) -> list[str]:
    if not isinstance(cfg, Mapping):
        return []  # check_config and the loader say what a dataloader must be
    problems = []
    for name, least in (("batch_size", 1), ("num_workers", 0), ("prefetch_factor", 1)):
        value = cfg.get(name)
        if (
            name in cfg
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int) or value < least)
        ):
            problems.append(f"{key}.{name}: must be a whole number ≥ {least} (got {value!r})")
    if cfg.get("sampler") is not None:
        problems += check_object(DATA_SAMPLERS, cfg["sampler"], f"{key}.sampler")
    dataset = cfg.get("dataset")
    if dataset is None:
        return problems
    problems += check_object(DATASETS, dataset, f"{key}.dataset")
    pipeline = dataset.get("pipeline") if isinstance(dataset, Mapping) else None
    if isinstance(pipeline, list | tuple):
        for index, step in enumerate(pipeline):
            problems += check_object(TRANSFORMS, step, f"{key}.dataset.pipeline.{index}")
    elif pipeline is not None:
        problems.append(f"{key}.dataset.pipeline: must be a list of transforms, found {pipeline!r}")
    return problems


def check_model_types(data: Mapping[str, Any]) -> list[str]:
    """What prediction builds from a config: the model and the test (or val) pipeline."""
    problems = _check_model(data["model"], "model") if data.get("model") is not None else []
    for split in ("test", "val"):
        if data.get(f"{split}_dataloader"):
            return problems + _check_dataloader(data[f"{split}_dataloader"], f"{split}_dataloader")
    return problems


def check_types(data: Mapping[str, Any]) -> list[str]:
    """Every type and argument problem of a whole config, at once."""
    problems: list[str] = []
    if data.get("model") is not None:
        problems += _check_model(data["model"], "model")
    for split in ("train", "val", "test"):
        if data.get(f"{split}_dataloader"):
            problems += _check_dataloader(data[f"{split}_dataloader"], f"{split}_dataloader")
    wrapper = data.get("optim_wrapper")
    if isinstance(wrapper, Mapping):
        problems += check_object(
            OPTIM_WRAPPERS,
            {k: v for k, v in wrapper.items() if k != "optimizer"},
            "optim_wrapper",
            default_type=DEFAULT_TYPES["optim_wrapper"],
        )
        if wrapper.get("optimizer") is not None:
            problems += check_object(OPTIMIZERS, wrapper["optimizer"], "optim_wrapper.optimizer")
    schedulers = data.get("param_scheduler")
    if schedulers is not None:
        items = schedulers if isinstance(schedulers, list | tuple) else [schedulers]
        for index, item in enumerate(items):
            problems += check_object(PARAM_SCHEDULERS, item, f"param_scheduler.{index}")
    for name, loop in (
        ("train_cfg", data.get("train_cfg")),
        ("val_cfg", data.get("val_cfg")),
        ("test_cfg", data.get("test_cfg")),
    ):
        if isinstance(loop, Mapping) and loop:
            args = {k: v for k, v in loop.items() if k != "by_epoch"}
            problems += check_object(LOOPS, args, name, default_type=DEFAULT_TYPES[name])
    hooks = data.get("default_hooks")
    if isinstance(hooks, Mapping):
        for name, hook in hooks.items():
            if hook is not None and name != "visualization":
                problems += check_object(HOOKS, hook, f"default_hooks.{name}")
    custom = data.get("custom_hooks")
    for index, hook in enumerate(custom if isinstance(custom, list | tuple) else []):
        # A type train does not run is the runtime check's to refuse; here, the arguments.
        if isinstance(hook, Mapping) and hook.get("type") in CUSTOM_HOOKS:
            problems += check_object(HOOKS, hook, f"custom_hooks.{index}")
    for name in ("val_evaluator", "test_evaluator"):
        value = data.get(name)
        items = value if isinstance(value, list | tuple) else [value] if value else []
        for index, item in enumerate(items):
            where = f"{name}.{index}" if isinstance(value, list | tuple) else name
            problems += check_object(METRICS, item, where)
    return problems
