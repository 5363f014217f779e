"""``ConfigDict``: a dict whose keys read and write as attributes too, at every depth."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any


def to_config(value: Any) -> Any:
    """Dicts (also inside lists and tuples) become ConfigDicts; everything else is kept."""
    if isinstance(value, ConfigDict):
        return value
    if isinstance(value, Mapping):
        return ConfigDict(value)
    if isinstance(value, list):
        return [to_config(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_config(v) for v in value)
    return value


def to_plain(value: Any) -> Any:
    """ConfigDicts back to plain dicts, recursively (lists and tuples keep their kind)."""
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_plain(v) for v in value)
    return value


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The names among ``choices`` that ``name`` was probably meant to be."""
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=0.6)


class ConfigDict(dict[Any, Any]):
    """``cfg.key`` and ``cfg['key']`` both read and write; nested dicts are ConfigDicts too.

    It prints as the plain dict it holds (``{'key1': 'value1', 'key2': 0.1}``), as in MMEngine.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, to_config(value))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # copy/pickle probe dunders: not keys
        try:
            return self[name]
        except KeyError:
            hint = closest(name, [k for k in self if isinstance(k, str)])
            suggestion = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
            raise AttributeError(f"the config has no key {name!r}{suggestion}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> ConfigDict:
        return ConfigDict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> ConfigDict:
        import copy

        return ConfigDict({copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in self.items()})

    def __reduce__(self) -> tuple[Any, ...]:
        return (ConfigDict, (dict(self),))

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)
