"""``--cfg-options a.b=1 c=[1,2] d.e=None key.0.x=3``: MMEngine's syntax (``DictAction``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError


def parse_value(text: str) -> Any:
    """int, float, True/False (any case), None, a list ``[a,b]`` / ``a,b``, a tuple ``(a,b)``,
    a dict ``dict(a=1,b=[2,3])`` (which MMEngine cannot parse), else the text itself. Quotes
    around the value are dropped and spaces removed, as MMEngine does, so values with spaces
    cannot be passed this way."""
    text = text.strip("'\"").replace(" ", "")
    return _parse(text)


def _scalar(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text == "None":
        return None
    return text


def _balanced(text: str) -> bool:
    """Brackets open and close in order: ``[1,(2,3)]`` yes, ``[1,2`` and ``1]`` no."""
    closing = {")": "(", "]": "["}
    stack: list[str] = []
    for char in text:
        if char in "([":
            stack.append(char)
        elif char in closing and (not stack or stack.pop() != closing[char]):
            return False
    return not stack


def _parse(text: str) -> Any:
    if text.startswith("dict(") and text.endswith(")") and _balanced(text[4:]):
        return _dict(text[5:-1])
    bracketed = len(text) >= 2 and (
        (text[0] == "[" and text[-1] == "]") or (text[0] == "(" and text[-1] == ")")
    )
    if not bracketed and "," not in text:
        return _scalar(text)
    inner = text[1:-1] if bracketed else text
    parts = _split_top_level(inner) if inner else []
    if not bracketed and len(parts) == 1:
        return _scalar(text)  # commas only inside brackets, as in f(1,2): one value
    items = [_parse(part) for part in parts]
    return tuple(items) if bracketed and text[0] == "(" else items


def _dict(inner: str) -> dict[str, Any]:
    """``type='EMAHook',momentum=0.2`` → a dict; MMEngine's DictAction recurses without end on
    ``dict(...)``, so a hook or a pipeline step could not be given on the command line."""
    out: dict[str, Any] = {}
    for part in _split_top_level(inner):
        key, eq, value = part.partition("=")
        if not eq or not key.isidentifier():
            raise ConfigError(
                f"--cfg-options: {part!r} in dict({inner}) is not KEY=VALUE; write "
                "dict(type='EMAHook',momentum=0.2)"
            )
        out[key] = _parse(value.strip("'\""))
    return out


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p != ""]


def parse_cfg_options(items: Sequence[str]) -> dict[str, Any]:
    """``["a.b=1", "c=[1,2]"]`` → ``{"a.b": 1, "c": [1, 2]}``; every malformed item at once."""
    options: dict[str, Any] = {}
    bad = [item for item in items if "=" not in item or not item.split("=", 1)[0]]
    if bad:
        raise ConfigError(
            f"--cfg-options {' '.join(map(repr, bad))}: each option is KEY=VALUE, "
            "e.g. train_dataloader.batch_size=4"
        )
    for item in items:
        key, value = item.split("=", 1)
        parts = key.split(".")
        if any(not part or part != part.strip() for part in parts):
            raise ConfigError(
                f"--cfg-options {item!r}: the key {key!r} has an empty part (two dots, or a dot "
                "at an end, or spaces); write it as a.b.c=VALUE"
            )
        if not _balanced(value):
            raise ConfigError(
                f"--cfg-options {item!r}: the value's brackets do not match; write lists as "
                "[1,2] and tuples as (1,2), and quote the whole option for the shell"
            )
        options[key] = parse_value(value)
    return options


def set_by_path(data: dict[str, Any], dotted: str, value: Any) -> tuple[Any, ...]:
    """Set ``a.b.0.c`` in nested dicts/lists (creating dicts on the way); returns the path."""
    parts = dotted.split(".")
    node: Any = data
    path: list[Any] = []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list | tuple):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f"--cfg-options {dotted}: {'.'.join(parts[:depth]) or 'the value'} is a list "
                    f"of {len(node)}; use an index 0–{len(node) - 1} ({where})"
                )
            key: Any = int(part)
            if isinstance(node, tuple):
                raise ConfigError(f"--cfg-options {dotted}: {where} is inside a tuple")
        elif isinstance(node, dict):
            key = part
        else:
            raise ConfigError(
                f"--cfg-options {dotted}: {'.'.join(parts[:depth])} holds "
                f"{type(node).__name__} {node!r}, not a dict or list"
            )
        path.append(key)
        if last:
            node[key] = value
        else:
            if isinstance(node, dict) and not isinstance(node.get(key), dict | list):
                node[key] = {}
            node = node[key]
    return tuple(path)
