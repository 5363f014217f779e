"""MMAction2 1.2.0's own pure-numpy code, straight from its wheel, as a test oracle.

Some of MMAction2's classes and functions need nothing but numpy (the frame samplers, the
accuracy functions, the crop arithmetic). These are taken from the wheel that
``tests.realdata.fetch_package`` downloads and hash-checks, parsed with ``ast`` and executed
with numpy, so the comparisons run without the 6 GB oracle venv. Only the named definitions
are taken, their registry decorators dropped; nothing from the wheel is copied into ethoclip.
"""

from __future__ import annotations

import ast
import functools
import random
import typing
import zipfile
from typing import Any

import numpy as np
import pytest

from .realdata import Unavailable, fetch_package


class BaseTransform:
    """MMCV's ``BaseTransform``: calling it runs ``transform``."""

    def __call__(self, results: dict[str, Any]) -> Any:
        return self.transform(results)  # type: ignore[attr-defined]


@functools.cache
def _wheel_text(member: str) -> str:
    wheel = fetch_package("mmaction2==1.2.0")
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member).decode()


def load(member: str, names: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    """The definitions ``names`` of ``member`` (e.g. ``mmaction/datasets/transforms/loading.py``)
    executed in a namespace with numpy, typing's names and ``extra``; skips when the wheel
    cannot be fetched."""
    try:
        text = _wheel_text(member)
    except Unavailable as exc:
        pytest.skip(str(exc))
    tree = ast.parse(text)
    wanted = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name in names
    ]
    missing = set(names) - {node.name for node in wanted}
    if missing:
        raise LookupError(f"{member} of MMAction2 1.2.0 has no {sorted(missing)}")
    for node in wanted:
        node.decorator_list = [
            d for d in node.decorator_list if ast.unparse(d) in ("staticmethod", "classmethod")
        ]
    namespace: dict[str, Any] = {
        "np": np,
        "random": random,
        "BaseTransform": BaseTransform,
        **{name: getattr(typing, name) for name in ("Dict", "List", "Optional", "Sequence")},
        **{name: getattr(typing, name) for name in ("Tuple", "Union")},
        **extra,
    }
    module = ast.Module(body=wanted, type_ignores=[])
    exec(compile(module, f"mmaction2-1.2.0/{member}", "exec"), namespace)
    return {name: namespace[name] for name in names}


def loading(*names: str, **extra: Any) -> dict[str, Any]:
    return load("mmaction/datasets/transforms/loading.py", names, **extra)


def accuracy(*names: str, **extra: Any) -> dict[str, Any]:
    return load("mmaction/evaluation/functional/accuracy.py", names, **extra)
