"""What ``train`` does with each argument of MMEngine's hooks and loops: one table, read by the
trainer and by the config checker, so ``config show`` reports a config as ``train`` treats it.

Each argument is one of: ``acts`` (training does what MMEngine does with it), ``ignored``
(accepted, listed as ignored: it changes nothing ethoclip does) or ``refused`` (an error naming
it, unless its value is one of the ``allowed`` ones: MMEngine's default, or what ethoclip does
anyway). No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

ACTS, IGNORED, REFUSED = "acts", "ignored", "refused"


@dataclass(frozen=True)
class Treatment:
    does: str
    why: str = ""
    allowed: tuple[Any, ...] = ()


_A = Treatment(ACTS)

# hook or loop type → argument → what train does with it.
RUNTIME_KEYS: dict[str, dict[str, Treatment]] = {
    "CheckpointHook": {
        "interval": _A,
        "by_epoch": Treatment(REFUSED, "checkpoints are saved per epoch", (True,)),
        "save_last": _A,
        "max_keep_ckpts": _A,
        "save_best": _A,
        "rule": _A,
        "out_dir": Treatment(REFUSED, "checkpoints go in the work dir; use --work-dir", (None,)),
        "save_optimizer": Treatment(REFUSED, "checkpoints hold the optimizer to resume", (True,)),
        "save_param_scheduler": Treatment(
            REFUSED, "checkpoints hold the schedule to resume", (True,)
        ),
    },
    "LoggerHook": {
        "interval": _A,
        "ignore_last": Treatment(
            IGNORED, "log.jsonl logs every interval-th iteration of the run, and each epoch"
        ),
        "log_metric_by_epoch": Treatment(
            REFUSED, "validation metrics are logged per epoch", (True,)
        ),
        "out_dir": Treatment(REFUSED, "logs go in the work dir; use --work-dir", (None,)),
    },
    "EmptyCacheHook": {"before_epoch": _A, "after_epoch": _A, "after_iter": _A},
    "EMAHook": {
        **{k: _A for k in ("ema_type", "momentum", "gamma", "interval", "update_buffers")},
        "begin_iter": _A,
        "begin_epoch": _A,
        "strict_load": Treatment(
            IGNORED, "a resumed run restores the average from ethoclip's own checkpoint, whole"
        ),
    },
    # What every run does anyway (Lightning's loop): no arguments.
    "RuntimeInfoHook": {},
    "IterTimerHook": {},
    "ParamSchedulerHook": {},
    "DistSamplerSeedHook": {},
    "SyncBuffersHook": {},
    "ValLoop": {"fp16": _A},  # validation under autocast (float16 on GPUs, bfloat16 on CPUs)
    "TestLoop": {"fp16": _A},  # ``ethoclip test`` likewise
}
# The validation metric of a per-step model's frame scores (the engine's validation names it
# so; ``default_hooks.checkpoint.save_best`` may name it).
STEP_METRIC = "step_mean_average_precision"

# The hooks ``custom_hooks`` may hold: those ``train`` runs; any other is refused by name.
CUSTOM_HOOKS = ("EmptyCacheHook", "EMAHook")


def runtime_findings(data: Mapping[str, Any]) -> list[str]:
    """Refuse what ``train`` refuses (a ``ConfigError`` naming each key); return the keys it
    ignores (``default_hooks.logger.ignore_last``), for the list of ignored keys."""
    problems, ignored = _walk(data)
    if problems:
        raise ConfigError("; ".join(problems))
    return [key for key, _ in ignored]


def runtime_problems(data: Mapping[str, Any]) -> list[str]:
    """What ``train`` would refuse among the runtime keys, one message each (for the
    validation pass before training)."""
    return _walk(data)[0]


def runtime_notes(data: Mapping[str, Any]) -> list[str]:
    """The accepted keys that change nothing, in words."""
    return [f"{key}: accepted and ignored ({why})" for key, why in _walk(data)[1]]


def _walk(data: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    problems: list[str] = []
    ignored: list[tuple[str, str]] = []
    hooks = data.get("default_hooks") or {}
    places: list[tuple[str, Any]] = [(f"default_hooks.{k}", v) for k, v in hooks.items()]
    places += [(name, data.get(name)) for name in ("val_cfg", "test_cfg")]
    custom = data.get("custom_hooks") or []
    for index, hook in enumerate(custom if isinstance(custom, list | tuple) else [custom]):
        kind = hook.get("type") if isinstance(hook, Mapping) else hook
        if kind not in CUSTOM_HOOKS:
            problems.append(
                f"custom_hooks.{index}: {kind} is not a hook ethoclip runs (of custom hooks it "
                f"runs {', '.join(CUSTOM_HOOKS)}); remove it"
            )
        places.append((f"custom_hooks.{index}", hook))
    default_type = {"val_cfg": "ValLoop", "test_cfg": "TestLoop"}
    for place, cfg in places:
        if not isinstance(cfg, Mapping):
            continue
        table = RUNTIME_KEYS.get(str(cfg.get("type", default_type.get(place))), {})
        for arg, value in cfg.items():
            found = table.get(arg)
            if found is None:
                continue  # not this table's business: the builder checks unknown arguments
            if found.does == IGNORED:
                ignored.append((f"{place}.{arg}", found.why))
            elif found.does == REFUSED and value not in found.allowed:
                problems.append(
                    f"{place}.{arg}: {value!r} is not supported ({found.why}); "
                    f"remove it or set it to {found.allowed[0]!r}"
                )
    return problems, ignored
