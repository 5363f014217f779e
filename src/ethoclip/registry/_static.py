"""The arguments a registered class takes, read from its source without importing it.

Checking a config's ``type=`` arguments by ``inspect.signature`` would import the class, and
with it torch (seconds to a minute on a busy machine). The source says the same thing: the
class's ``__init__`` (or its dataclass fields), else the nearest base's, found through the
module's own definitions and its ``from … import`` lines. When the source does not settle it
(a base from a C extension, a metaclass, a computed signature) the answer is ``None`` and the
check is left to the build, which still runs ``check_arguments`` on the real class.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

# How many bases and re-exports are followed before giving up (real chains are 2-3 deep).
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Params:
    """What a constructor accepts: named arguments, those without a default, and ``**kwargs``."""

    accepted: tuple[str, ...]
    required: tuple[str, ...]
    var_keyword: bool


@functools.cache
def module_file(module: str) -> Path | None:
    """The source file of ``module`` (a package's ``__init__.py``), found without importing it
    or its parent packages."""
    top, _, rest = module.partition(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: finds, imports nothing
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    base = Path(spec.origin).parent if spec.submodule_search_locations else None
    if not rest:
        return Path(spec.origin)
    if base is None:
        return None
    path = base.joinpath(*rest.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _tree(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    prefix = ".".join(parts[:keep])
    return f"{prefix}.{node.module}" if node.module else prefix


def find_definition(module: str, name: str, depth: int = 0) -> tuple[str, ast.AST] | None:
    """The ``class``/``def`` that ``module.name`` is, following re-exports and aliases."""
    path = module_file(module)
    tree = _tree(path) if path else None
    if tree is None or depth > _MAX_DEPTH:
        return None
    is_package = path is not None and path.name == "__init__.py"
    found: tuple[str, ast.AST] | None = None
    for node in tree.body:  # the last binding of the name wins, as at run time
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
            found = (module, node)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = _absolute(module, node, is_package)
                    found = find_definition(source, alias.name, depth + 1) or found
        elif (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Name)
        ):
            found = find_definition(module, node.value.id, depth + 1) or found
    return found


def _function_params(func: ast.FunctionDef, *, skip_first: bool) -> Params:
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    if skip_first and positional:
        positional = positional[1:]
    # Defaults belong to the last positional arguments.
    without_default = len(positional) - len(args.defaults)
    required = [a.arg for i, a in enumerate(positional) if i < without_default]
    required += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    accepted = [a.arg for a in positional] + [a.arg for a in args.kwonlyargs]
    return Params(tuple(accepted), tuple(required), args.kwarg is not None)


def _is_dataclass(node: ast.ClassDef) -> bool:
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return False


def _dataclass_fields(node: ast.ClassDef) -> list[tuple[str, bool]]:
    """(name, has a default) of the fields a dataclass body declares (ClassVars are not)."""
    fields = []
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            if "ClassVar" in ast.unparse(item.annotation):
                continue
            default = item.value is not None
            if isinstance(item.value, ast.Call) and ast.unparse(item.value.func).endswith("field"):
                keywords = {k.arg for k in item.value.keywords}
                default = bool(keywords & {"default", "default_factory"})
                if any(
                    k.arg == "init" and ast.unparse(k.value) == "False" for k in item.value.keywords
                ):
                    continue
            fields.append((item.target.id, default))
    return fields


def _bases(module: str, node: ast.ClassDef, depth: int) -> list[tuple[str, ast.ClassDef]] | None:
    """The class's bases as definitions; None when one cannot be found in source."""
    found = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            if base.id == "object":
                continue
            definition = find_definition(module, base.id, depth + 1)
        elif isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
            definition = _attribute_definition(module, base.value.id, base.attr, depth)
        else:
            return None
        if definition is None or not isinstance(definition[1], ast.ClassDef):
            return None
        found.append((definition[0], definition[1]))
    return found


def _attribute_definition(
    module: str, alias: str, attr: str, depth: int
) -> tuple[str, ast.AST] | None:
    """``nn.Module`` where the module did ``from torch import nn`` or ``import torch.nn as nn``."""
    path = module_file(module)
    tree = _tree(path) if path else None
    if tree is None:
        return None
    is_package = path is not None and path.name == "__init__.py"
    for node in tree.body:
        if isinstance(node, ast.Import):
            for item in node.names:
                if (item.asname or item.name) == alias:
                    return find_definition(item.name, attr, depth + 1)
        elif isinstance(node, ast.ImportFrom):
            for item in node.names:
                if (item.asname or item.name) == alias:
                    source = _absolute(module, node, is_package)
                    return find_definition(f"{source}.{item.name}", attr, depth + 1)
    return None


def _class_params(module: str, node: ast.ClassDef, depth: int) -> Params | None:
    if depth > _MAX_DEPTH or node.keywords:  # metaclass=…: the signature may be computed
        return None
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            params = _function_params(item, skip_first=True)
            if params.var_keyword and _forwards_kwargs(item):
                return _with_base(module, node, params, depth)
            return params
        if isinstance(item, ast.FunctionDef) and item.name in ("__new__", "__signature__"):
            return None
    bases = _bases(module, node, depth)
    if bases is None:
        return None
    if _is_dataclass(node):
        inherited: list[tuple[str, bool]] = []
        for base_module, base in reversed(bases):
            if not _is_dataclass(base):
                if _class_params(base_module, base, depth + 1) != Params((), (), False):
                    return None  # a dataclass over a class with its own __init__: unusual
                continue
            inherited += _all_dataclass_fields(base_module, base, depth + 1) or []
        own = dict(inherited)
        own.update(dict(_dataclass_fields(node)))
        return Params(
            tuple(own), tuple(n for n, has_default in own.items() if not has_default), False
        )
    if not bases:
        return Params((), (), False)
    return _class_params(bases[0][0], bases[0][1], depth + 1)


def _forwards_kwargs(func: ast.FunctionDef) -> bool:
    """``super().__init__(…, **kwargs)`` with the function's own ``**kwargs`` and nothing else
    done with them: the class takes what its base takes."""
    name = func.args.kwarg.arg if func.args.kwarg else None
    uses = [n for n in ast.walk(func) if isinstance(n, ast.Name) and n.id == name]
    for call in ast.walk(func):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "__init__"
            and isinstance(call.func.value, ast.Call)
            and ast.unparse(call.func.value.func) == "super"
        ):
            spread = [
                k
                for k in call.keywords
                if k.arg is None and isinstance(k.value, ast.Name) and k.value.id == name
            ]
            return len(spread) == 1 and len(uses) == 1
    return False


def _with_base(module: str, node: ast.ClassDef, params: Params, depth: int) -> Params:
    """``params`` (which end in ``**kwargs``) joined with what the first base accepts."""
    bases = _bases(module, node, depth)
    if not bases:
        return params
    base = _class_params(bases[0][0], bases[0][1], depth + 1)
    if base is None:
        return params
    own = set(params.accepted)
    passed = set(params.accepted)  # arguments the subclass names are its own, not required here
    return Params(
        params.accepted + tuple(a for a in base.accepted if a not in own),
        params.required + tuple(a for a in base.required if a not in passed),
        base.var_keyword,
    )


def _all_dataclass_fields(
    module: str, node: ast.ClassDef, depth: int
) -> list[tuple[str, bool]] | None:
    bases = _bases(module, node, depth)
    if bases is None or depth > _MAX_DEPTH:
        return None
    fields: list[tuple[str, bool]] = []
    for base_module, base in reversed(bases):
        if _is_dataclass(base):
            fields += _all_dataclass_fields(base_module, base, depth + 1) or []
    return fields + _dataclass_fields(node)


@functools.cache
def static_params(target: str) -> Params | None:
    """The constructor arguments of ``"module:attr"``, from source; None when unsure."""
    module, _, attr = target.partition(":")
    definition = find_definition(module, attr)
    if definition is None:
        return None
    where, node = definition
    if isinstance(node, ast.FunctionDef):
        return _function_params(node, skip_first=False)
    assert isinstance(node, ast.ClassDef)
    return _class_params(where, node, 0)


@functools.cache
def module_classes(module: str) -> tuple[str, ...]:
    """Public class names a module defines or re-exports (for torch's optimizers and
    schedulers, which the registries list only by importing torch)."""
    path = module_file(module)
    tree = _tree(path) if path else None
    if tree is None:
        return ()
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            names.append(node.name)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                name = alias.asname or alias.name
                if name[:1].isupper() and not name.startswith("_"):
                    names.append(name)
    return tuple(dict.fromkeys(names))
