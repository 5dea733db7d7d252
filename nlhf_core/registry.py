"""The one registry of methods: tabular solvers and policy-gradient methods, one set of names.

Every method is a :class:`MethodSpec` of a *family*:

* ``"tabular"`` — iterative solvers on the exact policy table
  (:class:`nlhf_core.algorithms.registry.AlgorithmSpec`: Nash-MD, Nash-EMA, OMD, ...);
* ``"policy-gradient"`` — sampled policy gradients on a parametric policy
  (:class:`nlhf_core.policy_gradient.registry.PolicyGradientSpec`: ``rlhf``, ``self-play``,
  ``nash-md-pg``, ``nash-ema-pg``; the language-model trainer uses the same names).

A spec is declarative (names, parameters as :class:`~nlhf_core.params.ParamSpec`, target,
citation) and carries the solver knowledge callers need — the geometric-mixture weight
(:meth:`MethodSpec.mixture_weight`) and a proven bound on the KL to the target
(:meth:`MethodSpec.kl_bound`) — so no caller decides rules by a method's name.

The families register their entries when imported (``nlhf_core`` imports both), and
:func:`list_algorithms` / :func:`get_algorithm` read them here. A spec's ``aliases`` are
older names that still resolve (``rlhf-pg`` → ``rlhf``); listings show only the names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from nlhf_core.errors import ParameterError
from nlhf_core.params import ParamSpec

#: The method families, in listing order.
FAMILIES = ("tabular", "policy-gradient")

#: Listing order: the paper's algorithm, its variants, its peers, then classics; then the parametric methods.
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
    "nash-md-pg",
    "nash-ema-pg",
    "self-play",
    "rlhf",
)


class KLBound(NamedTuple):
    """A proven upper bound on ``KL(target || pi_t)`` along a run: the theorem's name and one value per step.

    ``values`` is ``inf`` at steps where the bound does not hold yet (e.g. ``T = 0``).
    """

    label: str
    values: np.ndarray


@dataclass(frozen=True, kw_only=True)
class MethodSpec:
    """A registered method: what it computes, its parameters and what it converges to.

    Attributes:
        name: stable name (lowercase, hyphens), used by the command line, links and configs.
        title: display name.
        summary: one sentence on what it does.
        params: its parameters (``iterations``/``steps`` bookkeeping aside).
        target: what the iterates converge to, in words.
        citation: paper and equation/section.
        latex: the update (or the estimator) in LaTeX, for the app.
        aliases: former names that still resolve in :func:`get_algorithm` (never listed).
    """

    family: ClassVar[str] = ""

    name: str
    title: str
    summary: str
    params: tuple[ParamSpec, ...]
    target: str
    citation: str
    latex: str = ""
    aliases: tuple[str, ...] = ()

    def param(self, name: str) -> ParamSpec:
        """The spec of one parameter, or a :class:`ParameterError` listing them."""
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(
            f"{self.title} has no parameter {name!r}; its parameters are {', '.join(p.name for p in self.params)}."
        )

    def has_param(self, name: str) -> bool:
        """Whether the method has a parameter called ``name``."""
        return any(p.name == name for p in self.params)

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overridden by ``given`` (``None`` means default), each validated.

        Args:
            given: parameter name -> value (user input; unknown names are refused).

        Returns:
            Every parameter of the method with its validated value (a ``float``, ``int`` or
            choice string, as its :class:`~nlhf_core.params.ParamSpec` says).
        """
        names = [p.name for p in self.params]
        unknown = [k for k, v in given.items() if v is not None and k not in names]
        if unknown:
            raise ParameterError(
                f"{self.title} has no parameter {unknown[0]!r}; its parameters are {', '.join(names)}."
            )
        return {p.name: p.validate(p.default if given.get(p.name) is None else given[p.name]) for p in self.params}

    def mixture_weight(self, params: Mapping[str, Any]) -> Any:
        """The reference's constant weight in the geometric mixture the method plays against, or None.

        None when the method has no such mixture, or when a schedule sets the weight step by step.
        Overridden by the families (``eta × tau`` for tabular mixtures, ``beta`` for Nash-MD-PG).
        """
        return None

    def kl_bound(self, params: Mapping[str, Any], steps: np.ndarray) -> KLBound | None:
        """A proven bound on ``KL(target || pi_t)`` at ``steps`` for these parameters, or None if no theorem applies."""
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly description (``nlhf algorithms --json``)."""
        return {
            "name": self.name,
            "family": self.family,
            "title": self.title,
            "summary": self.summary,
            "params": [p.as_dict() for p in self.params],
            "target": self.target,
            "citation": self.citation,
        }


_REGISTRY: dict[str, MethodSpec] = {}
_ALIASES: dict[str, str] = {}


def register(spec: MethodSpec) -> MethodSpec:
    """Add a method to the registry; names and aliases are unique across every family.

    Args:
        spec: the method's spec, of one of :data:`FAMILIES`.

    Returns:
        ``spec`` itself (so it can be kept in a module constant).

    Raises:
        ValueError: an unknown family, or a name or alias already taken (a programming error, not user input).
    """
    if spec.family not in FAMILIES:
        raise ValueError(f"method {spec.name!r} has family {spec.family!r}, not one of {', '.join(FAMILIES)}")
    for key in (spec.name, *spec.aliases):
        if key in _REGISTRY or key in _ALIASES:
            raise ValueError(f"the method name {key!r} is already registered")
    _REGISTRY[spec.name] = spec
    _ALIASES.update(dict.fromkeys(spec.aliases, spec.name))
    return spec


def list_algorithms(family: str | None = None) -> list[MethodSpec]:
    """Registered methods of one family (or all), in :data:`DISPLAY_ORDER` (others after, by name).

    Args:
        family: ``"tabular"``, ``"policy-gradient"`` or None for every family.

    Returns:
        The specs, tabular solvers first.
    """
    if family is not None and family not in FAMILIES:
        raise ParameterError(f"There is no method family {family!r}; choose one of {', '.join(FAMILIES)}.")
    rank = {name: k for k, name in enumerate(DISPLAY_ORDER)}
    chosen = [s for s in _REGISTRY.values() if family is None or s.family == family]
    return sorted(chosen, key=lambda s: (FAMILIES.index(s.family), rank.get(s.name, len(rank)), s.name))


def get_algorithm(name: str, family: str | None = None) -> MethodSpec:
    """The method called ``name`` (or a former name of it), optionally required to be of ``family``.

    Args:
        name: a registered name or alias, any case, surrounding spaces ignored.
        family: when given, a method of another family is refused with a sentence saying so.

    Returns:
        The method's spec.

    Raises:
        ParameterError: unknown name (the message lists the choices) or wrong family.
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    choices = ", ".join(s.name for s in list_algorithms(family))
    if key not in _REGISTRY:
        kind = "algorithm" if family in (None, "tabular") else f"{family} method"
        raise ParameterError(f"There is no {kind} {name!r}; choose one of {choices} (`nlhf algorithms` lists them).")
    spec = _REGISTRY[key]
    if family is not None and spec.family != family:
        raise ParameterError(f"{spec.name} is a {spec.family} method, not a {family} one; choose one of {choices}.")
    return spec
