"""Read config files as MMEngine does (Python, YAML, JSON; ``_base_``, ``_delete_``), and
remember where every value came from.

Supported in Python configs, as in MMEngine's (old-style) configs: any Python that computes
values; ``_base_`` as one path or a list; base values through ``{{_base_.key}}`` or
``_base_.key`` (not as bare names: a child does not see its bases' variables);
``{{ fileDirname }}``, ``{{ fileBasename }}``, ``{{ fileBasenameNoExtension }}``,
``{{ fileExtname }}`` and ``{{$ENV_NAME:default}}``. Module-level names that start with two
underscores, and imported modules, functions and classes, are not config keys.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._dict import ConfigDict, to_plain

BASE_KEY = "_base_"
DELETE_KEY = "_delete_"
PACKAGE_PREFIX = "ethoclip::"
KeyPath = tuple[Any, ...]  # str keys and int list indices

_ENV = re.compile(r"\{\{['\"]?\s*\$(\w+)\s*(?::\s*(.*?))?\s*['\"]?\}\}")
_BASE_REF = re.compile(r"\{\{\s*_base_\.([\w.\[\]'\"]+)\s*\}\}")


@dataclass(frozen=True)
class Origin:
    """Where a value was set: a file and line, or a command-line option."""

    source: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass
class Loaded:
    data: dict[str, Any]
    origins: dict[KeyPath, Origin]
    files: list[Path]  # the file and all its bases, in load order


def shipped_configs() -> Path:
    """The folder of configs that ship with ethoclip (``ethoclip::<path>``)."""
    return Path(str(files("ethoclip").joinpath("configs")))


def where(origin: Origin | None) -> str:
    """An origin as a person reads it: shipped configs as ethoclip::…, other files relative to
    the current directory, command-line options as they are."""
    if origin is None:
        return "?"
    text = str(origin)
    shipped = str(shipped_configs()) + os.sep
    if text.startswith(shipped):
        return PACKAGE_PREFIX + text[len(shipped) :]
    try:
        return os.path.relpath(text) if Path(origin.source).is_absolute() else text
    except ValueError:  # another drive (Windows): no relative path
        return text


def resolve_path(name: str | os.PathLike[str], relative_to: Path | None = None) -> Path:
    """A config path: ``ethoclip::x.py`` (shipped), absolute, or relative to ``relative_to``."""
    text = str(name)
    if text.startswith(PACKAGE_PREFIX):
        path = shipped_configs() / text[len(PACKAGE_PREFIX) :]
    else:
        path = Path(os.path.expanduser(text))
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
    return Path(os.path.normpath(path))  # "a/b/../../c.py" reads better as "c.py" in origins


def load_file(path: Path, *, chain: tuple[Path, ...] = ()) -> Loaded:
    """One config file with all its bases merged in; ``chain`` detects cycles."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " → ".join(p.name for p in (*chain, resolved))
        raise ConfigError(f"{path}: the config inherits from itself ({cycle}); remove the cycle")
    if not path.is_file():
        where = f" (a base of {chain[-1]})" if chain else ""
        raise ConfigError(f"{path}: config file not found{where}; check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc}); save it as UTF-8") from None
    text = _substitute_predefined(text, path)
    suffix = path.suffix.lower()
    if suffix == ".py":
        return _load_python(path, text, (*chain, resolved))
    if suffix in (".yaml", ".yml", ".json"):
        return _load_data(path, text, suffix, (*chain, resolved))
    raise ConfigError(f"{path}: unknown config type {suffix!r}; use a .py, .yaml or .json file")


def _substitute_predefined(text: str, path: Path) -> str:
    """MMEngine's predefined variables and ``{{$ENV:default}}``, replaced in the text."""
    names = {
        "fileDirname": str(path.parent.resolve()),
        "fileBasename": path.name,
        "fileBasenameNoExtension": path.stem,
        "fileExtname": path.suffix,
    }
    for name, value in names.items():
        text = re.sub(r"\{\{\s*" + name + r"\s*\}\}", value.replace("\\", "/"), text)

    def env(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise ConfigError(
                f"{path}: the config reads the environment variable {name}, which is not set "
                f"and has no default; set it, or write {{{{${name}:default}}}}"
            )
        return default

    return _ENV.sub(env, text)


def _bases_of(path: Path, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(
        f"{path}: {BASE_KEY} must be a file name or a list of file names, "
        f"not {type(value).__name__}"
    )


def _merge_bases(path: Path, bases: list[str], chain: tuple[Path, ...]) -> Loaded:
    """Every field of every base; a key in two bases is an error naming both."""
    merged: dict[str, Any] = {}
    origins: dict[KeyPath, Origin] = {}
    owner: dict[str, Path] = {}
    loaded_files: list[Path] = []
    for name in bases:
        base_path = resolve_path(name, path.parent)
        base = load_file(base_path, chain=chain)
        for key in base.data:
            if key in merged:
                raise ConfigError(
                    f"{path}: key {key!r} is defined in two bases, {owner[key]} and "
                    f"{base_path}; define it in one of them, or set it in {path.name}"
                )
            owner[key] = base_path
        merged.update(base.data)
        origins.update(base.origins)
        loaded_files += base.files
    return Loaded(merged, origins, loaded_files)


def _load_python(path: Path, text: str, chain: tuple[Path, ...]) -> Loaded:
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise ConfigError(
            f"{path}: line {exc.lineno}: Python syntax error ({exc.msg}); fix the config"
        ) from None
    bases: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == BASE_KEY for t in stmt.targets
        ):
            # As MMEngine: the expression alone is evaluated before the file runs, so it may
            # join strings but not use the file's variables.
            try:
                value = eval(
                    compile(ast.Expression(stmt.value), str(path), "eval"), {"__builtins__": {}}
                )
            except Exception as exc:
                raise ConfigError(
                    f"{path}: line {stmt.lineno}: {BASE_KEY} must be file names written out "
                    f"(strings, a list of strings); it is read before the file runs ({exc})"
                ) from None
            bases = _bases_of(path, value)
    base = _merge_bases(path, bases, chain)
    # {{_base_.a.b}} is MMEngine's text placeholder for a base value: here it is the same
    # expression without the braces, evaluated against a copy of the bases.
    code = _BASE_REF.sub(lambda m: f"{BASE_KEY}.{m.group(1)}", text)
    if code != text:
        tree = ast.parse(code, filename=str(path))
    # The file's own ``_base_ = …`` line has been read; running it would hide the bases.
    tree.body = [
        stmt
        for stmt in tree.body
        if not (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == BASE_KEY for t in stmt.targets)
        )
    ]
    namespace: dict[str, Any] = {
        "__file__": str(path),
        "__name__": "__ethoclip_config__",
        BASE_KEY: ConfigDict(copy.deepcopy(base.data)),
    }
    try:
        exec(compile(tree, str(path), "exec"), namespace)
    except ConfigError:
        raise
    except Exception as exc:  # the user's code failed: say where, in one line
        line = _error_line(exc, path)
        raise ConfigError(
            f"{path}{f': line {line}' if line else ''}: running the config failed "
            f"({type(exc).__name__}: {exc}); fix the config"
        ) from None
    own = {
        name: to_plain(value)
        for name, value in namespace.items()
        if not name.startswith("__")
        and name != BASE_KEY
        and not isinstance(value, types.ModuleType | types.FunctionType | type)
    }
    own_origins = _python_origins(tree, path, own)
    data, origins = merge(base.data, own, base.origins, own_origins)
    return Loaded(data, origins, [*base.files, path])


def _error_line(exc: Exception, path: Path) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _load_data(path: Path, text: str, suffix: str, chain: tuple[Path, ...]) -> Loaded:
    if suffix == ".json":
        try:
            own = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}: line {exc.lineno}: invalid JSON ({exc.msg}); fix the config"
            ) from None
    else:
        try:
            import yaml
        except ImportError:
            raise ConfigError(
                f"{path}: reading YAML configs needs PyYAML; pip install pyyaml"
            ) from None
        try:
            own = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML ({exc}); fix the config") from None
    if own is None:
        own = {}
    if not isinstance(own, dict):
        raise ConfigError(f"{path}: a config must hold a mapping, not {type(own).__name__}")
    bases = _bases_of(path, own.pop(BASE_KEY)) if BASE_KEY in own else []
    base = _merge_bases(path, bases, chain)
    own_origins = {p: Origin(str(path)) for p in leaf_paths(own)}
    data, origins = merge(base.data, own, base.origins, own_origins)
    return Loaded(data, origins, [*base.files, path])


def leaf_paths(value: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Paths to every leaf (a value that is not a non-empty dict or list)."""
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from leaf_paths(child, (*prefix, key))
    elif isinstance(value, list | tuple) and value:
        for index, child in enumerate(value):
            yield from leaf_paths(child, (*prefix, index))
    elif prefix:
        yield prefix


def merge(
    base: dict[str, Any],
    child: dict[str, Any],
    base_origins: dict[KeyPath, Origin],
    child_origins: dict[KeyPath, Origin],
) -> tuple[dict[str, Any], dict[KeyPath, Origin]]:
    """``child`` over ``base``: dicts merge key by key, ``_delete_=True`` replaces, lists and
    everything else are replaced. Origins follow the values."""
    origins = dict(base_origins)
    data = _merge(copy.deepcopy(base), child, (), origins, child_origins)
    return data, origins


def _merge(
    base: dict[str, Any],
    child: dict[str, Any],
    prefix: KeyPath,
    origins: dict[KeyPath, Origin],
    child_origins: dict[KeyPath, Origin],
) -> dict[str, Any]:
    for key, value in child.items():
        path = (*prefix, key)
        if isinstance(value, dict):
            replace = bool(value.get(DELETE_KEY, False))
            value = {k: v for k, v in value.items() if k != DELETE_KEY}
            if not replace and isinstance(base.get(key), dict):
                base[key] = _merge(base[key], value, path, origins, child_origins)
                continue
        _drop_under(origins, path)
        base[key] = _strip_delete(value)
        for leaf in leaf_paths(base[key], path):
            origin = _closest_origin(child_origins, leaf)
            if origin is not None:
                origins[leaf] = origin
    return base


def _strip_delete(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_delete(v) for k, v in value.items() if k != DELETE_KEY}
    if isinstance(value, list):
        return [_strip_delete(v) for v in value]
    return value


def _drop_under(origins: dict[KeyPath, Origin], path: KeyPath) -> None:
    for key in [k for k in origins if k[: len(path)] == path]:
        del origins[key]


def _closest_origin(origins: dict[KeyPath, Origin], path: KeyPath) -> Origin | None:
    for end in range(len(path), 0, -1):
        origin = origins.get(path[:end])
        if origin is not None:
            return origin
    return None


def _python_origins(tree: ast.Module, path: Path, own: dict[str, Any]) -> dict[KeyPath, Origin]:
    """File and line of every leaf the file sets, read from its syntax tree.

    ``key=value`` arguments of ``dict(...)``, dict literals, list elements and names of other
    top-level variables are followed; a computed value gets the line of the expression.
    """
    source = str(path)
    assigned: dict[str, ast.expr] = {}
    mutations: list[tuple[KeyPath, int]] = []
    for stmt in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.AugAssign):
            targets = [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                assigned[target.id] = value
            else:
                chain = _target_path(target)
                if chain:
                    mutations.append((chain, stmt.lineno))
    origins: dict[KeyPath, Origin] = {}

    def walk(
        node: ast.expr | None, value: Any, key: KeyPath, line: int, seen: frozenset[str]
    ) -> None:
        if isinstance(node, ast.Name) and node.id in assigned and node.id not in seen:
            seen = seen | {node.id}
            node = assigned[node.id]
        line = getattr(node, "lineno", line)
        if isinstance(value, dict) and value:
            children = _dict_children(node)
            for k, v in value.items():
                walk(children.get(k), v, (*key, k), line, seen)
        elif isinstance(value, list | tuple) and value:
            elements = node.elts if isinstance(node, ast.List | ast.Tuple) else []
            same = len(elements) == len(value) and not any(
                isinstance(e, ast.Starred) for e in elements
            )
            for i, v in enumerate(value):
                walk(elements[i] if same else None, v, (*key, i), line, seen)
        else:
            origins[key] = Origin(source, line)

    for name, value in own.items():
        node = assigned.get(name)
        walk(node, value, (name,), getattr(node, "lineno", 0), frozenset({name}))
    for chain, line in mutations:
        if chain[0] in own:
            for leaf in [p for p in origins if p[: len(chain)] == chain] or [chain]:
                origins[leaf] = Origin(source, line)
    return {k: Origin(v.source, v.line or None) for k, v in origins.items()}


def _dict_children(node: ast.expr | None) -> dict[Any, ast.expr]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}
    if isinstance(node, ast.Dict):
        return {
            k.value: v
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant)
        }
    return {}


def _target_path(target: ast.expr) -> KeyPath:
    """``a['b'][0].c = …`` → ("a", "b", 0, "c"); () when it is not such a chain."""
    parts: list[Any] = []
    while True:
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            parts.append(target.slice.value)
            target = target.value
        elif isinstance(target, ast.Attribute):
            parts.append(target.attr)
            target = target.value
        elif isinstance(target, ast.Name):
            parts.append(target.id)
            return tuple(reversed(parts))
        else:
            return ()
