"""Which keys ethoclip reads, which it knowingly ignores, and which look like typos.

At the top level, a config may define helper variables of any name (``data_root``,
``train_pipeline`` …); a name that is one or two letters away from a key ethoclip reads is an
error with a suggestion (``train_dataloder``). At the levels ethoclip defines (``train_cfg``,
the dataloaders, ``optim_wrapper``, ``default_hooks``, ``auto_scale_lr``, ``randomness``) every
unknown key is an error. Keys that only matter to MMEngine are accepted and listed as ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ._dict import closest

USED = frozenset(
    {
        "model",
        "train_dataloader",
        "val_dataloader",
        "test_dataloader",
        "train_cfg",
        "val_cfg",
        "test_cfg",
        "optim_wrapper",
        "param_scheduler",
        "default_hooks",
        "custom_hooks",
        "val_evaluator",
        "test_evaluator",
        "load_from",
        "resume",
        "auto_scale_lr",
        "randomness",
        "work_dir",
    }
)
# Only MMEngine's runner reads these (or MMAction2 0.x did): accepted, listed, unused.
IGNORED = frozenset(
    {
        "default_scope",
        "env_cfg",
        "visualizer",
        "vis_backends",
        "log_processor",
        "log_level",
        "launcher",
        "custom_imports",
        "file_client_args",
        "dist_params",
        "workflow",
        "checkpoint_config",
        "log_config",
        "evaluation",
        "opencv_num_threads",
        "mp_start_method",
        "experiment_name",
        "compile",
    }
)
# Keys of the levels ethoclip defines.
LEVELS: dict[str, frozenset[str]] = {
    "train_cfg": frozenset({"type", "max_epochs", "val_begin", "val_interval", "by_epoch"}),
    "val_cfg": frozenset({"type", "fp16"}),
    "test_cfg": frozenset({"type", "fp16"}),
    "optim_wrapper": frozenset(
        {
            "type",
            "optimizer",
            "clip_grad",
            "paramwise_cfg",
            "accumulative_counts",
            "dtype",
            "loss_scale",
        }
    ),
    "auto_scale_lr": frozenset({"enable", "base_batch_size"}),
    "randomness": frozenset({"seed", "deterministic", "diff_rank_seed"}),
    "default_hooks": frozenset(
        {
            "runtime_info",
            "timer",
            "logger",
            "param_scheduler",
            "checkpoint",
            "sampler_seed",
            "sync_buffers",
            "visualization",
        }
    ),
}
DATALOADER = frozenset(
    {
        "batch_size",
        "num_workers",
        "persistent_workers",
        "sampler",
        "dataset",
        "pin_memory",
        "drop_last",
        "collate_fn",
        "prefetch_factor",
    }
)
for _name in ("train_dataloader", "val_dataloader", "test_dataloader"):
    LEVELS[_name] = DATALOADER
IGNORED_NESTED = frozenset({"default_hooks.visualization"})
# MMEngine features ethoclip does not have: refused by name rather than ignored.
# optim_wrapper.constructor: the parameter groupings ethoclip builds (engine/_optim.py).
OPTIM_CONSTRUCTORS = (
    "DefaultOptimWrapperConstructor",
    "SwinOptimWrapperConstructor",
    "TSMOptimWrapperConstructor",
    "LearningRateDecayOptimizerConstructor",
)
UNSUPPORTED = {
    "train_cfg.other_loaders": "training on several loaders at once "
    "(MultiLoaderEpochBasedTrainLoop) is not supported",
    "train_cfg.dynamic_intervals": "changing the validation interval during training is not "
    "supported; use val_begin and val_interval",
    "train_cfg.max_iters": "iteration-based training (IterBasedTrainLoop) is not supported; "
    "use max_epochs",
}


def _typo_of(name: str, known: frozenset[str]) -> str | None:
    """The known key ``name`` is probably a misspelling of (edit distance ≤ 2, long names)."""
    if name in known or len(name) < 6:
        return None
    for candidate in closest(name, known, n=1):
        if _distance(name, candidate) <= 2:
            return candidate
    return None


def _distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (a swapped pair of letters is one typo)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def check_config(cfg: Mapping[str, Any]) -> list[str]:
    """Every typo-looking or unknown key at once (a ConfigError); else the ignored keys."""
    problems, ignored = config_problems(cfg)
    if problems:
        raise ConfigError("; ".join(problems))
    return ignored


def config_problems(cfg: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(each typo-looking or unknown key's problem, the keys only MMEngine reads)."""
    problems: list[str] = []
    ignored: list[str] = []
    for key in cfg:
        if key in IGNORED:
            ignored.append(key)
            continue
        typo = _typo_of(key, USED | IGNORED)
        if typo:
            problems.append(f"{key}: not a key ethoclip knows; did you mean {typo!r}?")
    for level, known in LEVELS.items():
        value = cfg.get(level)
        if not isinstance(value, Mapping):
            continue
        for key in value:
            if f"{level}.{key}" in IGNORED_NESTED:
                ignored.append(f"{level}.{key}")
            elif f"{level}.{key}" in UNSUPPORTED:
                problems.append(f"{level}.{key}: {UNSUPPORTED[f'{level}.{key}']}")
            elif level == "optim_wrapper" and key == "constructor":
                if value[key] not in OPTIM_CONSTRUCTORS:
                    problems.append(
                        f"optim_wrapper.constructor: {value[key]!r} is not a parameter grouping "
                        f"ethoclip builds; use one of {', '.join(OPTIM_CONSTRUCTORS)}, or "
                        "paramwise_cfg"
                    )
            elif key not in known:
                hint = closest(key, known, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                problems.append(
                    f"{level}.{key}: ethoclip does not know this key{suggestion} "
                    f"({level} takes {', '.join(sorted(known))})"
                )
    return problems, ignored
