"""``Config``: a resolved config, its values readable as ``cfg.key`` or ``cfg['key']``, each
leaf with the file and line (or command-line option) that set it."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._dict import ConfigDict, to_plain
from ._load import KeyPath, Origin, leaf_paths, load_file, resolve_path
from ._options import parse_cfg_options, set_by_path


class Config:
    """A config: ``Config.fromfile(path)`` or ``Config(dict)``.

    Attribute and item access read and write at every depth (``cfg.model.backbone.depth``,
    ``cfg['test_list'][1] = 3``); nested dicts are ``ConfigDict``s.
    """

    def __init__(
        self,
        cfg_dict: Mapping[str, Any] | None = None,
        *,
        filename: str | os.PathLike[str] | None = None,
        origins: dict[KeyPath, Origin] | None = None,
        files: Sequence[Path] = (),
    ) -> None:
        data = dict(cfg_dict or {})
        bad = [k for k in data if not isinstance(k, str)]
        if bad:
            raise ConfigError(f"config keys must be text, found {bad[0]!r}")
        object.__setattr__(self, "_cfg_dict", ConfigDict(data))
        object.__setattr__(self, "filename", str(filename) if filename else None)
        object.__setattr__(
            self,
            "_origins",
            dict(origins) if origins is not None else {p: Origin("code") for p in leaf_paths(data)},
        )
        object.__setattr__(self, "files", list(files))

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def fromfile(
        cls,
        filename: str | os.PathLike[str],
        cfg_options: Sequence[str] | Mapping[str, Any] | None = None,
    ) -> Config:
        """Load a .py, .yaml or .json config with its ``_base_`` chain resolved.

        ``cfg_options`` are command-line overrides (``["a.b=1"]`` or ``{"a.b": 1}``).
        """
        path = resolve_path(filename)
        loaded = load_file(path)
        cfg = cls(loaded.data, filename=path, origins=loaded.origins, files=loaded.files)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        return cfg

    def merge_from_dict(
        self, options: Sequence[str] | Mapping[str, Any], *, source: str | None = None
    ) -> None:
        """Apply ``--cfg-options`` (MMEngine syntax; ``key.0.x`` indexes into lists).

        ``source`` names where the values came from instead (e.g. ``--epochs 3``)."""
        if isinstance(options, Mapping):
            parsed, texts = dict(options), {k: f"{k}={v!r}" for k, v in options.items()}
        else:
            parsed = parse_cfg_options(list(options))
            texts = {item.split("=", 1)[0]: item for item in options}
        data = to_plain(self._cfg_dict)
        for key, value in parsed.items():
            path = set_by_path(data, key, copy.deepcopy(to_plain(value)))
            for leaf in [p for p in self._origins if p[: len(path)] == path]:
                del self._origins[leaf]
            for leaf in list(leaf_paths(to_plain(value), path)) or [path]:
                self._origins[leaf] = Origin(source or f"--cfg-options {texts[key]}")
        object.__setattr__(self, "_cfg_dict", ConfigDict(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cfg_dict, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._cfg_dict, name, value)
        self._set_origin((name,), value)

    def __delattr__(self, name: str) -> None:
        delattr(self._cfg_dict, name)

    def __getitem__(self, key: str) -> Any:
        return self._cfg_dict[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._cfg_dict[key] = value
        self._set_origin((key,), value)

    def __delitem__(self, key: str) -> None:
        del self._cfg_dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._cfg_dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._cfg_dict)

    def __len__(self) -> int:
        return len(self._cfg_dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self._cfg_dict.get(key, default)

    def keys(self) -> Any:
        return self._cfg_dict.keys()

    def items(self) -> Any:
        return self._cfg_dict.items()

    def _set_origin(self, path: KeyPath, value: Any) -> None:
        for leaf in [p for p in self._origins if p[: len(path)] == path]:
            del self._origins[leaf]
        for leaf in list(leaf_paths(to_plain(value), path)) or [path]:
            self._origins[leaf] = Origin("set in code")

    def __repr__(self) -> str:
        return f"Config (path: {self.filename}): {self._cfg_dict!r}"

    def __str__(self) -> str:
        return repr(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Config:
        return Config(
            copy.deepcopy(self.to_dict(), memo),
            filename=self.filename,
            origins=dict(self._origins),
            files=self.files,
        )

    def copy(self) -> Config:
        return copy.deepcopy(self)

    # -- provenance ------------------------------------------------------------------------
    def origin(self, key: str | KeyPath) -> Origin | None:
        """Where the value at ``key`` ("a.b.0.c" or a path tuple) was set."""
        path = _path(key) if isinstance(key, str) else key
        return self._origins.get(path)

    def flat(self) -> list[tuple[str, Any, Origin | None]]:
        """Every leaf as (dotted key, value, origin), in config order."""
        data = self.to_dict()
        rows = []
        for path in leaf_paths(data):
            value: Any = data
            for part in path:
                value = value[part]
            rows.append((".".join(map(str, path)), value, self._origins.get(path)))
        return rows

    # -- writing ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return to_plain(self._cfg_dict)

    def dump(self, file: str | os.PathLike[str] | None = None) -> str:
        """The config as text (Python, or JSON/YAML by the file's extension); written to
        ``file`` when given. A dumped Python config loads back to the same dict."""
        suffix = Path(file).suffix.lower() if file else ".py"
        data = self.to_dict()
        if suffix == ".json":
            text = json.dumps(data, indent=2) + "\n"
        elif suffix in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(_lists(data), sort_keys=False)
        else:
            text = format_python(data)
        if file is not None:
            target = Path(file)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        return text


def _path(dotted: str) -> KeyPath:
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def format_python(data: Mapping[str, Any]) -> str:
    """A Python config that defines exactly ``data`` (dict(...) calls, repr for the rest)."""
    lines = []
    for key, value in data.items():
        lines.append(f"{key} = {_format(value, 0)}")
    return "\n".join(lines) + "\n"


def _format(value: Any, indent: int) -> str:
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "dict()"
        identifiers = all(isinstance(k, str) and k.isidentifier() for k in value)
        if identifiers:
            items = [f"{inner}{k}={_format(v, indent + 4)}" for k, v in value.items()]
            return "dict(\n" + ",\n".join(items) + f",\n{pad})"
        items = [f"{inner}{k!r}: {_format(v, indent + 4)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f",\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        items = [f"{inner}{_format(v, indent + 4)}" for v in value]
        return "[\n" + ",\n".join(items) + f",\n{pad}]"
    if isinstance(value, tuple):
        if not value:
            return "()"
        return (
            "("
            + ", ".join(_format(v, indent) for v in value)
            + ("," if len(value) == 1 else "")
            + ")"
        )
    if isinstance(value, float) and value != value:
        return "float('nan')"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return f"float('{value}')"
    return repr(value)
