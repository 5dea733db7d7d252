"""Declarative parameter specs: one system for every method's parameters (tabular, policy-gradient, LM).

A :class:`ParamSpec` names a parameter, its default, a one-line description, its kind
(``"float"``, ``"int"``, ``"choice"``, or ``"value"`` for a typed config field) and valid range,
choices or constraint. From it the command line builds its help, the app its widgets
(``log_scale`` asks for a logarithmic slider), and :meth:`ParamSpec.validate` turns user input into
a checked value, or raises one sentence naming the range. The same spec sits on a dataclass field
(:meth:`ParamSpec.as_field`), so a typed config validates and documents itself: the language-model
configuration (:mod:`nlhf_core.llm.settings`) declares every field this way, with the constraints
of this module (:class:`Interval`, :class:`Options` or a named predicate), in the style of
scikit-learn's parameter constraints.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, cast

from nlhf_core.errors import ParameterError

#: A parameter's value once validated.
ParamValue = float | int | str

#: The kinds of parameter a spec can describe ("value": a typed config field, checked by its constraint).
KINDS = ("float", "int", "choice", "value")

#: A rule a value must satisfy (a named function, an :class:`Interval` or :class:`Options`).
Constraint = Callable[[Any], bool]


@dataclass(frozen=True)
class Interval:
    """``low <= value <= high`` with each bound closed or open (``closed``), a missing bound unbounded."""

    low: float | None = None
    high: float | None = None
    closed: Literal["both", "left", "right", "neither"] = "both"

    def __call__(self, value: float) -> bool:
        if self.low is not None:
            inside_low = value >= self.low if self.closed in ("both", "left") else value > self.low
            if not inside_low:
                return False
        if self.high is not None:
            return value <= self.high if self.closed in ("both", "right") else value < self.high
        return True


@dataclass(frozen=True)
class Options:
    """``value`` is one of a fixed set of strings."""

    values: tuple[str, ...]

    def __call__(self, value: str) -> bool:
        return value in self.values


def lower_first(text: str) -> str:
    """``text`` continuing a sentence: its first letter lower-cased unless it starts an acronym
    (``"Number of steps"`` → ``"number of steps"``, ``"KL-regularization"`` stays)."""
    if len(text) >= 2 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def short_number(value: float) -> str:
    """A number in short form with a plain exponent, for messages: ``0.001``, ``1e9`` (not ``1e+09``)."""
    mantissa, _, exponent = f"{value:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def check_seed(seed: object) -> int:
    """A random seed as NumPy's generators take it: a whole number ``>= 0`` (of any size).

    Args:
        seed: the seed given by the user.

    Returns:
        The seed as an ``int``.

    Raises:
        ParameterError: ``seed`` is negative, fractional or not a number.
    """
    try:
        value = -1 if isinstance(seed, bool) else operator.index(seed)  # type: ignore[arg-type]
    except TypeError:
        value = -1
    if value < 0:
        raise ParameterError(f"seed = {seed!r} is not a valid random seed; use a whole number >= 0, such as 0.")
    return value


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: name, default, description, kind and valid values.

    Attributes:
        name: the parameter's name (as in ``--param name=value`` and the link).
        default: its value when none is given.
        description: one sentence on what it does (shown as help).
        kind: ``"float"``, ``"int"`` or ``"choice"``.
        low, high: inclusive range of a number (``None``: unbounded on that side).
        log_scale: a positive number best chosen on a logarithmic scale.
        choices: the allowed values of a ``"choice"`` (lowercase).
        check: a further rule the value must satisfy (for ``"value"``: the rule besides its type).
        expect: the phrase that ends an out-of-range sentence ("it must be ..."; the description if empty).
    """

    name: str
    default: Any
    description: str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    log_scale: bool = False
    choices: tuple[str, ...] = ()
    check: Constraint | None = None
    expect: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"ParamSpec {self.name!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"ParamSpec {self.name!r}: the default {self.default!r} is not among its choices")

    def validate(self, value: object) -> ParamValue:
        """``value`` converted to the parameter's type and checked against its range or choices.

        Args:
            value: user input (a number, or text such as ``"0.5"`` or ``"Theorem"``).

        Returns:
            A ``float``, an ``int`` or a lowercase choice.

        Raises:
            ParameterError: one sentence naming the valid values.
        """
        if self.kind == "value":
            if self.check is not None and not self.check(value):
                raise ParameterError(f"{self.name} = {value!r} is out of range; it must be {self._expected()}.")
            return cast(ParamValue, value)
        if self.kind == "choice":
            text = str(value).strip().lower()
            if text not in self.choices:
                raise ParameterError(
                    f"{self.name} = {value!r} is not one of {', '.join(self.choices)}; pick one of those."
                )
            return text
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ParameterError(
                f"{self.name} must be a number, not {value!r}; the default is {self.default}."
            ) from None
        if not math.isfinite(number):
            raise ParameterError(f"{self.name} = {number} is not a finite number; use a value in {self._range()}.")
        if self.kind == "int":
            if number != int(number):
                raise ParameterError(f"{self.name} = {number:g} must be a whole number.")
            number = int(number)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ParameterError(
                f"{self.name} = {self.show(number)} is outside its valid range {self._range()}; "
                f"{lower_first(self.description)}".rstrip(".")
                + "."
            )
        return number

    def _expected(self) -> str:
        return self.expect or lower_first(self.description).rstrip(".")

    def show(self, value: float | None) -> str:
        """A value as a message shows it: whole-number parameters in digits (``1000000000``, not
        ``1e+09``), others in short form with a plain exponent (``0.001``, ``1e9``, ``2.5e-7``).

        Args:
            value: the number to show (None for an open bound).

        Returns:
            The text (``"none"`` for None).
        """
        if value is None:
            return "none"
        if self.kind == "int" and abs(value) < 1e15:
            return str(int(value))
        return short_number(value)

    def _range(self) -> str:
        low = "-inf" if self.low is None else self.show(self.low)
        high = "inf" if self.high is None else self.show(self.high)
        return f"[{low}, {high}]"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly description (for ``nlhf algorithms --json`` and the app)."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "description": self.description,
        }
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        elif self.kind == "value":
            out["expect"] = self._expected()
        else:
            out.update(low=self.low, high=self.high, log_scale=self.log_scale)
        return out

    def as_field(self) -> Any:
        """A dataclass field with this default that carries the spec as ``metadata["param"]``.

        Returns:
            ``dataclasses.field(default=..., metadata={"param": self})``, for typed configs (a list
            default is copied for each instance).
        """
        metadata = {"param": self}
        if isinstance(self.default, list):
            return dataclasses.field(default_factory=partial(copy.deepcopy, self.default), metadata=metadata)
        return dataclasses.field(default=self.default, metadata=metadata)
