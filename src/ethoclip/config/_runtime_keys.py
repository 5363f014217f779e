"""What ``train`` does with the runtime keys of a config: hooks and loops that act, that are
accepted without effect (the trainer does that anyway), and that are refused.

One table, read by ``config show`` and the validation pass before training, so that ``config
show`` says what ``train`` will do. The facts are those of ``engine/_hooks.py`` and
``engine/_experiment.py``: keep them in step when the engine changes (a test builds every hook
named here to check).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# default_hooks.<name> whose settings change what a run does.
HOOKS_THAT_ACT = {
    "checkpoint": "CheckpointHook: epoch_N / last / best_<metric> checkpoints, as configured",
    "logger": "LoggerHook: logs the loss and LR every `interval` iterations",
}
# default_hooks.<name> the trainer does anyway: accepted, their settings change nothing.
HOOKS_BUILT_IN = {
    "runtime_info": "RuntimeInfoHook",
    "timer": "IterTimerHook",
    "param_scheduler": "ParamSchedulerHook",
    "sampler_seed": "DistSamplerSeedHook",
    "sync_buffers": "SyncBuffersHook",
}
# default_hooks.<name> only MMEngine's visualiser reads.
HOOKS_IGNORED = {"visualization": "VisualizationHook (MMEngine's visualiser)"}
# Keys train refuses, and why.
REFUSED = {
    "custom_hooks": "ethoclip runs no custom hooks; remove them (checkpointing and logging are "
    "set in default_hooks.checkpoint / default_hooks.logger)",
}


def runtime_problems(data: Mapping[str, Any]) -> list[str]:
    """What ``train`` would refuse among the runtime keys."""
    problems = []
    hooks = data.get("custom_hooks")
    if hooks:
        items = hooks if isinstance(hooks, list | tuple) else [hooks]
        kinds = ", ".join(str(h.get("type")) if isinstance(h, Mapping) else repr(h) for h in items)
        problems.append(f"custom_hooks: {kinds}: {REFUSED['custom_hooks']}")
    return problems


def runtime_notes(data: Mapping[str, Any]) -> list[str]:
    """What the runtime keys that are accepted do (or do not do), in words."""
    hooks = data.get("default_hooks")
    if not isinstance(hooks, Mapping):
        return []
    built_in = [f"default_hooks.{n}" for n in hooks if n in HOOKS_BUILT_IN and hooks[n]]
    notes = []
    if built_in:
        notes.append(
            f"accepted, built into the trainer (their settings change nothing): "
            f"{', '.join(built_in)}"
        )
    return notes
