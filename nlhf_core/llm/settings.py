"""Declarative settings: each dataclass field carries its default, its help text and its constraint.

In the style of scikit-learn's parameter constraints, a configuration section is a frozen dataclass
whose fields are declared with :func:`setting`, which puts a :class:`~nlhf_core.params.ParamSpec` (the
one parameter-spec system of the tabular and policy-gradient methods too) on the field::

    @dataclass(frozen=True)
    class PolicyConfig(Section):
        SECTION: ClassVar[str] = "policy"
        tau: float = setting(0.1, "KL strength tau", Interval(1e-3, 100), "in [0.001, 100]")

* the **type annotation** is the accepted type (``float`` also accepts an integer and converts it;
  ``str | list[float]`` accepts either; booleans are never numbers, only ``bool``);
* the **constraint** is a predicate: :class:`Interval` (bounds, each closed or open), :class:`Options`
  (a fixed set of strings), or a named function for anything else;
* the **help** is what ``nlhf train --help-config`` and the TOML comments show, and ``expect`` the
  phrase that ends the out-of-range sentence (the help when not given).

Constructing a section validates every field (:meth:`Section.__post_init__`), so a section object
is always valid; a bad value raises :class:`~nlhf_core.errors.ParameterError` with one sentence that
names the setting and what it must be.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
import typing
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from nlhf_core.errors import ParameterError
from nlhf_core.params import Constraint, Interval, Options, ParamSpec

__all__ = ["Constraint", "FieldSpec", "Interval", "Options", "Section", "coerce", "field_specs", "setting"]


def setting(default: Any, help: str, check: Constraint | None = None, expect: str = "") -> Any:
    """A dataclass field declared by a :class:`~nlhf_core.params.ParamSpec` of kind ``"value"``.

    Args:
        default: the field's default (a list is copied for each instance).
        help: what the setting does (``--help-config`` and the TOML comments show it).
        check: its constraint: an :class:`Interval`, :class:`Options` or a named predicate.
        expect: the phrase ending the out-of-range sentence (``help`` when empty).

    Returns:
        A ``dataclasses.field`` carrying the spec as ``metadata["param"]``.
    """
    return ParamSpec("", default, help, kind="value", check=check, expect=expect).as_field()


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: its name, accepted types, default and :class:`~nlhf_core.params.ParamSpec`."""

    name: str
    kinds: tuple[type, ...]
    default: Any
    param: ParamSpec


def _kinds(hint: Any) -> tuple[type, ...]:
    """``float`` -> ``(float,)``; ``list[str]`` -> ``(list,)``; ``str | list[float]`` -> ``(str, list)``."""
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return tuple(typing.get_origin(m) or m for m in members)


_SPECS: dict[type, tuple[FieldSpec, ...]] = {}


def field_specs(cls: type) -> tuple[FieldSpec, ...]:
    """Every declared field of a settings dataclass, in declaration order (read once per class)."""
    if cls not in _SPECS:
        hints = typing.get_type_hints(cls)
        specs = []
        for f in fields(cls):
            default = f.default_factory() if callable(f.default_factory) else f.default
            param = dataclasses.replace(f.metadata["param"], name=f.name)
            specs.append(FieldSpec(f.name, _kinds(hints[f.name]), default, param))
        _SPECS[cls] = tuple(specs)
    return _SPECS[cls]


def coerce(name: str, spec: FieldSpec, value: Any) -> Any:
    """``value`` checked against the field's types and constraint (an int given for a float becomes a float)."""
    kinds = spec.kinds
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join("number" if k is float else k.__name__ for k in kinds)
        raise ParameterError(f"Setting {name!r} must be a {names}, not {value!r}; see `nlhf train --help-config`.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"Setting {name!r} is {value!r}; give a finite number.")
    check = spec.param.check
    if check is not None and not check(value):
        expect = spec.param.expect or spec.param.description
        raise ParameterError(f"Setting {name!r} = {value!r} is out of range; it must be {expect}.")
    return value


@dataclass(frozen=True)
class Section:
    """Base of a configuration section: validates (and coerces) every field when constructed.

    Subclasses set ``SECTION`` (the TOML table name) and may override :meth:`check_together` for
    rules that involve several fields.
    """

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for spec in field_specs(type(self)):
            value = coerce(f"{self.SECTION}.{spec.name}", spec, getattr(self, spec.name))
            object.__setattr__(self, spec.name, value)
        self.check_together()

    def check_together(self) -> None:
        """Rules across fields of this section (none by default)."""

    def to_dict(self) -> dict[str, Any]:
        """``{key: value}`` in declaration order (lists copied)."""
        return {spec.name: copy.deepcopy(getattr(self, spec.name)) for spec in field_specs(type(self))}
