"""A registry maps the ``type=`` names of configs to the classes that implement them.

Entries name their class as ``"module:attr"`` and are imported on first use, so the table is
complete the moment ``ethoclip.registry`` is imported (nothing is missing because a module was
not imported), and listing or checking names never imports torch.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..config._dict import closest, to_plain
from ..errors import ConfigError
from ._mmaction2 import MMACTION2_TYPES

# The config key being built ("model.cls_head"), so errors deep inside name their place.
_KEY: ContextVar[str] = ContextVar("ethoclip_config_key", default="")


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "module:attr"
    description: str
    mmaction2: bool = False  # the name is MMAction2's vocabulary

    def load(self) -> Any:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


def current_key(child: str | int | None = None) -> str:
    """The config key being built, optionally with a child key appended."""
    key = _KEY.get()
    if child is None:
        return key
    return f"{key}.{child}" if key else str(child)


@contextlib.contextmanager
def building(key: str) -> Iterator[None]:
    token = _KEY.set(key)
    try:
        yield
    finally:
        _KEY.reset(token)


def config_error(arg: str | None, message: str) -> ConfigError:
    """An error about argument ``arg`` of the object being built, naming its config key."""
    return ConfigError(f"{current_key(arg) or arg or 'config'}: {message}")


class Registry:
    """Named constructors for one kind of object (models, transforms, optimizers …)."""

    def __init__(
        self,
        name: str,
        *,
        fallback: Callable[[], dict[str, Entry]] | None = None,
    ) -> None:
        self.name = name
        self._entries: dict[str, Entry] = {}
        self._fallback = fallback  # e.g. every optimizer torch has, under its own name

    def register(
        self, name: str, target: str, description: str, *, mmaction2: bool = False
    ) -> None:
        if name in self._entries:
            raise ValueError(f"{self.name}: {name!r} is registered twice")
        self._entries[name] = Entry(name, target, description, mmaction2 or name in MMACTION2_TYPES)

    def entries(self, *, include_fallback: bool = True) -> list[Entry]:
        found = dict(self._entries)
        if include_fallback and self._fallback is not None:
            for name, entry in self._fallback().items():
                found.setdefault(name, entry)
        return sorted(found.values(), key=lambda e: e.name.lower())

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def __contains__(self, name: object) -> bool:
        if name in self._entries:
            return True
        return self._fallback is not None and name in self._fallback()

    def entry(self, name: str, *, key: str = "type") -> Entry:
        """The entry for ``name``; an error that says what is supported otherwise."""
        if name in self._entries:
            return self._entries[name]
        if self._fallback is not None:
            extra = self._fallback()
            if name in extra:
                return extra[name]
        own = [e.name for e in self.entries(include_fallback=False)]
        if name in MMACTION2_TYPES:
            raise ConfigError(
                f"{key}: {name!r} is an MMAction2 type that ethoclip does not implement; "
                f"{self.name} it has: {', '.join(own)}"
            )
        hint = closest(name, self.names())
        suggestion = f"did you mean {', '.join(map(repr, hint))}? " if hint else ""
        raise ConfigError(
            f"{key}: unknown {self.name[:-1] if self.name.endswith('s') else self.name} type "
            f"{name!r}; {suggestion}see 'ethoclip list {self.name}' (it has: {', '.join(own)})"
        )

    def get(self, name: str) -> Any:
        return self.entry(name).load()

    def build(
        self,
        cfg: Mapping[str, Any] | None,
        default_args: Mapping[str, Any] | None = None,
        *,
        key: str | int | None = None,
    ) -> Any:
        """Make the object ``cfg`` describes: ``type`` picks the class, the rest are arguments.

        ``key`` is the config key of ``cfg`` below the one being built (errors name the full
        path, e.g. ``model.cls_head.num_clases``). Arguments the class does not take are
        errors with the closest valid names.
        """
        path = current_key(key)
        if not isinstance(cfg, Mapping):
            raise ConfigError(
                f"{path or self.name}: expected a dict with a 'type', found "
                f"{type(cfg).__name__} {cfg!r}"
            )
        args = dict(to_plain(cfg))
        for name, value in (default_args or {}).items():
            args.setdefault(name, value)
        kind = args.pop("type", None)
        type_key = f"{path}.type" if path else "type"
        if kind is None:
            raise ConfigError(
                f"{path or self.name}: no 'type'; choose one of {', '.join(self.names()[:40])}"
            )
        target = self.entry(kind, key=type_key).load() if isinstance(kind, str) else kind
        if not callable(target):
            raise ConfigError(f"{type_key}: {kind!r} is not something that can be built")
        check_arguments(target, args, path)
        with building(path):
            try:
                return target(**args)
            except ConfigError:
                raise
            except (TypeError, ValueError) as exc:
                name = getattr(target, "__name__", str(target))
                raise ConfigError(
                    f"{path or name}: {name} refused its arguments ({exc}); check the config"
                ) from exc


def check_arguments(target: Any, args: Mapping[str, Any], path: str) -> None:
    """Every argument must be one ``target`` takes (unless it takes ``**kwargs``)."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return
    params = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    name = getattr(target, "__name__", str(target))
    problems = []
    for arg in args:
        if arg not in accepted:
            hint = closest(arg, accepted)
            where = f"{path}.{arg}" if path else arg
            problems.append(
                f"{where}: {name} takes no argument {arg!r}"
                + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else "")
            )
    missing = [
        n
        for n, p in params.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and n not in args
        and n != "self"
    ]
    if missing:
        problems.append(f"{path or name}: {name} needs {', '.join(map(repr, missing))}")
    if problems:
        if len(problems) == 1:
            raise ConfigError(problems[0])
        raise ConfigError("; ".join(problems))
