"""Every public function a package re-exports documents its parameters (``Args:``), as the README's standards ask.

"Public" means: named in ``nlhf_core.__all__`` or a package ``__init__``'s ``__all__``, plus the public methods
(and class/static methods) those re-exported classes define themselves. A function or method that takes
parameters (besides ``self``/``cls``) must have an ``Args:`` section in its docstring.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import nlhf_core


def _packages() -> list[str]:
    return ["nlhf_core"] + [f"nlhf_core.{m.name}" for m in pkgutil.iter_modules(nlhf_core.__path__) if m.ispkg]


def _members(name: str, obj: Any) -> Iterator[tuple[str, Any]]:
    """The function itself, or the functions a class defines (public names; class/static methods unwrapped)."""
    if not inspect.isclass(obj):
        yield name, obj
        return
    for member, value in vars(obj).items():
        if member.startswith("_"):
            continue
        if isinstance(value, classmethod | staticmethod):
            value = value.__func__
        yield f"{name}.{member}", value


def public_functions() -> dict[str, Callable[..., Any]]:
    """``"defining module:name"`` -> function, for every re-exported function or method with parameters."""
    found: dict[str, Callable[..., Any]] = {}
    seen: set[int] = set()
    for package in _packages():
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            for shown, f in _members(name, getattr(module, name)):
                if not inspect.isfunction(f) or id(f) in seen:
                    continue
                seen.add(id(f))
                if any(p not in ("self", "cls") for p in inspect.signature(f).parameters):
                    found[f"{f.__module__}:{shown}"] = f
    return found


def _documents_args(f: Callable[..., Any]) -> bool:
    return "Args:" in (inspect.getdoc(f) or "")


def test_every_public_function_with_parameters_has_args():
    functions = public_functions()
    assert len(functions) > 100  # the walk found the library (196 public functions in all at the time of writing)
    missing = sorted(key for key, f in functions.items() if not _documents_args(f))
    assert missing == [], (
        "These public functions take parameters but their docstring has no 'Args:' section; add Google-style "
        "Args:/Returns: (and Raises: for the NLHFError a caller should expect): " + ", ".join(missing)
    )
