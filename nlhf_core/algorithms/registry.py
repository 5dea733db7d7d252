"""The algorithm registry: what each solver computes, its parameters and their valid ranges.

The app and the command line build their controls and help from these entries, so a
new solver becomes available everywhere by registering one :class:`AlgorithmSpec`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nlhf_core.errors import ParameterError


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


@dataclass(frozen=True)
class ParamSpec:
    """One solver parameter.

    ``kind`` is ``"float"``, ``"int"`` or ``"choice"``; numbers must lie in
    ``[low, high]``; ``log_scale`` tells the app to use a logarithmic slider.
    """

    name: str
    default: Any
    description: str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    log_scale: bool = False
    choices: tuple[str, ...] = ()

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to the parameter's type, or raise with its range."""
        if self.kind == "choice":
            text = str(value).strip().lower()
            if text not in self.choices:
                raise ParameterError(
                    f"{self.name} = {value!r} is not one of {', '.join(self.choices)}; pick one of those."
                )
            return text
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{self.name} must be a number, not {value!r}; the default is {self.default}."
            ) from None
        show = self.show
        if not math.isfinite(number):
            raise ParameterError(
                f"{self.name} = {number} is not a finite number; use a value in [{show(self.low)}, {show(self.high)}]."
            )
        if self.kind == "int":
            if number != int(number):
                raise ParameterError(f"{self.name} = {number:g} must be a whole number.")
            number = int(number)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ParameterError(
                f"{self.name} = {show(number)} is outside its valid range [{show(self.low)}, "
                f"{show(self.high)}]; {lower_first(self.description)}".rstrip(".")
                + "."
            )
        return number

    def show(self, value: float | None) -> str:
        """A value as a message shows it: whole-number parameters in digits (``1000000000``, not
        ``1e+09``), others in short form with a plain exponent (``0.001``, ``1e9``, ``2.5e-7``)."""
        if value is None:
            return "none"
        if self.kind == "int" and abs(value) < 1e15:
            return str(int(value))
        return short_number(value)

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
        else:
            out.update(low=self.low, high=self.high, log_scale=self.log_scale)
        return out


@dataclass(frozen=True)
class AlgorithmSpec:
    """A registered iterative solver.

    Attributes:
        name: stable command-line name (lowercase, hyphens).
        title: display name.
        summary: one sentence on what it does.
        update: the update rule, as a formula.
        params: its parameters (``iterations`` is common to all and not listed).
        target: what the iterates converge to.
        iterate: ``"last"`` or ``"average"``: which iterate converges.
        queries_per_iteration: preference queries (``P pi`` evaluations) per iteration.
        citation: paper and equation/algorithm number.
        solver: builds the :class:`~nlhf_core.algorithms.engine.Solver` from the validated
            parameters and the log reference policy.
        converges_to: the kind of target for given parameters: ``"regularized"``
            (``pi*_tau``), ``"nash"`` (the unregularized Nash), ``"reference-best-response"``
            or ``"none"``; the runner measures the KL to that target.
        latex: the update rule in LaTeX, for the app.
    """

    name: str
    title: str
    summary: str
    update: str
    params: tuple[ParamSpec, ...]
    target: str
    iterate: str
    queries_per_iteration: int
    citation: str
    solver: Callable[..., Any] = field(repr=False)
    converges_to: Callable[[dict[str, Any]], str] = field(default=lambda params: "regularized", repr=False)
    latex: str = ""

    def param(self, name: str) -> ParamSpec:
        """The spec of one parameter."""
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(
            f"{self.title} has no parameter {name!r}; its parameters are {', '.join(p.name for p in self.params)}."
        )

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overridden by ``given`` (``None`` means default), each validated."""
        unknown = [k for k, v in given.items() if v is not None and k not in {p.name for p in self.params}]
        if unknown:
            raise ParameterError(
                f"{self.title} has no parameter {unknown[0]!r}; its parameters are "
                f"{', '.join(p.name for p in self.params)}."
            )
        out = {}
        for p in self.params:
            value = given.get(p.name)
            out[p.name] = p.validate(p.default if value is None else value)
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly description."""
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "update": self.update,
            "params": [p.as_dict() for p in self.params],
            "target": self.target,
            "iterate": self.iterate,
            "queries_per_iteration": self.queries_per_iteration,
            "citation": self.citation,
        }


_REGISTRY: dict[str, AlgorithmSpec] = {}


def register(spec: AlgorithmSpec) -> AlgorithmSpec:
    """Add a solver to the registry (names are unique)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"algorithm {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def get_algorithm(name: str) -> AlgorithmSpec:
    """The registered solver called ``name``, or a :class:`ParameterError` listing them."""
    key = str(name).strip().lower()
    if key not in _REGISTRY:
        raise ParameterError(
            f"There is no algorithm {name!r}; choose one of "
            f"{', '.join(s.name for s in list_algorithms())} (`nlhf algorithms` lists them)."
        )
    return _REGISTRY[key]


#: Display order: the paper's algorithm, its variants, then its peers, then classics.
DISPLAY_ORDER = (
    "nash-md",
    "nash-ema",
    "omd",
    "mwu",
    "nash-mp",
    "egpo",
    "mmd",
    "omwu",
    "fictitious-play",
    "replicator",
    "best-response",
)


def list_algorithms() -> list[AlgorithmSpec]:
    """All registered solvers, in :data:`DISPLAY_ORDER` (others after, by name)."""
    rank = {name: k for k, name in enumerate(DISPLAY_ORDER)}
    return sorted(_REGISTRY.values(), key=lambda s: (rank.get(s.name, len(rank)), s.name))
