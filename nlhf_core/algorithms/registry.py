"""The tabular family of the method registry: what each solver computes, its parameters and rules.

The app and the command line build their controls and help from these entries, so a new
solver becomes available everywhere by registering one :class:`AlgorithmSpec` in
:mod:`nlhf_core.registry`. The spec also answers the questions callers used to settle by
the solver's name: the mixture weight ``eta × tau`` and the largest step it allows
(:meth:`AlgorithmSpec.max_eta`), a theorem's KL bound, and the time-invariant form of a
step schedule for drawing the update field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np

from nlhf_core.registry import KLBound, MethodSpec, get_algorithm, list_algorithms


def _regularized(params: Mapping[str, Any]) -> str:
    """The default :attr:`AlgorithmSpec.converges_to`: every parameter setting targets ``pi*_tau``.

    Args:
        params: the solver's validated parameters (unused: the answer is always the same).

    Returns:
        ``"regularized"``.
    """
    return "regularized"


@dataclass(frozen=True, kw_only=True)
class AlgorithmSpec(MethodSpec):
    """A registered tabular solver (family ``"tabular"``).

    Attributes (besides :class:`~nlhf_core.registry.MethodSpec`'s):
        update: the update rule, as a formula.
        iterate: ``"last"`` or ``"average"``: which iterate converges.
        queries_per_iteration: preference queries (``P pi`` evaluations) per iteration.
        solver: builds the :class:`~nlhf_core.algorithms.engine.Solver` from the validated
            parameters and the log reference policy.
        converges_to: the kind of target for given parameters: ``"regularized"``
            (``pi*_tau``), ``"nash"`` (the unregularized Nash), ``"reference-best-response"``
            or ``"none"``; the runner measures the KL to that target.
        mixes_reference: the update plays against (or steps from) the geometric mixture
            ``pi^(1 - eta tau) mu^(eta tau)`` (Munos et al. 2024, Eq. 4), so ``eta × tau`` is a
            weight and must not exceed 1.
        theorem_bound: for parameters a theorem covers, its bound on ``KL(target || pi_t)``.
        time_invariant: the parameters with any step schedule frozen to a constant step.
    """

    family: ClassVar[str] = "tabular"

    update: str
    iterate: str
    queries_per_iteration: int
    solver: Callable[..., Any] = field(repr=False)
    converges_to: Callable[[Mapping[str, Any]], str] = field(default=_regularized, repr=False)
    mixes_reference: bool = False
    theorem_bound: Callable[[Mapping[str, Any], np.ndarray], KLBound | None] | None = field(default=None, repr=False)
    time_invariant: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None, repr=False)

    def mixture_weight(self, params: Mapping[str, Any]) -> Any:
        """``eta × tau``, the reference's weight in the geometric mixture; None without a constant one.

        None for solvers with no geometric mixture and for a step schedule (Theorem 1's
        ``eta_t tau = 2 / (t + 2)`` changes every step and never exceeds 1). Works on arrays
        (one weight per setting of a sweep).

        Args:
            params: validated parameters (``eta``, ``tau`` and possibly ``schedule``; floats or arrays).

        Returns:
            ``eta * tau`` (a float, or an array shaped like the parameters), or None.
        """
        if not self.mixes_reference or params.get("schedule", "constant") != "constant":
            return None
        return params["eta"] * params["tau"]

    def max_eta(self, tau: float) -> float | None:
        """The largest step size allowed at ``tau``: ``1 / tau`` when ``eta × tau`` is a mixture weight, else None.

        Args:
            tau: the KL strength ``tau > 0``.

        Returns:
            ``1 / tau``, or None when the solver's step has no such cap.
        """
        return 1.0 / tau if self.mixes_reference else None

    def defaults_for_tau(self, tau: float) -> dict[str, Any]:
        """The default parameters with this ``tau`` (if the solver has one) and the step lowered to :meth:`max_eta`.

        The settings a comparison at one ``tau`` runs each solver with.

        Args:
            tau: the KL strength ``tau > 0`` (ignored by solvers without one).

        Returns:
            Every parameter of the solver with its validated value.

        Raises:
            ParameterError: ``tau`` is outside the solver's range.
        """
        params = self.resolve_params({"tau": tau} if self.has_param("tau") else {})
        cap = self.max_eta(tau)
        if cap is not None:
            params["eta"] = min(float(self.param("eta").default), cap)
        return params

    def kl_bound(self, params: Mapping[str, Any], steps: np.ndarray) -> KLBound | None:
        """The proven bound on ``KL(target || pi_t)`` at ``steps`` for these parameters, or None.

        Args:
            params: the solver's parameters (validated here; defaults fill the gaps).
            steps: iteration indices ``t``, shape ``(R,)``.

        Returns:
            The theorem's :class:`~nlhf_core.registry.KLBound` (one value per step, ``inf`` where it does
            not hold yet), or None when no theorem covers the solver or these parameters.

        Raises:
            ParameterError: a parameter out of range.
        """
        return None if self.theorem_bound is None else self.theorem_bound(self.resolve_params(params), steps)

    def frozen_for_field(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Validated parameters whose step does not change with time (a schedule frozen to a constant step).

        The update field draws one step from many points; a time-varying schedule has no single field.

        Args:
            params: the solver's parameters (validated here; defaults fill the gaps).

        Returns:
            The validated parameters, with any step schedule replaced by a constant step.

        Raises:
            ParameterError: a parameter out of range.
        """
        resolved = self.resolve_params(params)
        return resolved if self.time_invariant is None else self.time_invariant(resolved)

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
            "family": self.family,
        }


def get_solver(name: str) -> AlgorithmSpec:
    """The tabular solver called ``name``: the registry's entry, typed.

    Args:
        name: a registered tabular solver name or alias (any case).

    Returns:
        Its :class:`AlgorithmSpec`.

    Raises:
        ParameterError: unknown name, or a method of another family (the message lists the solvers).
    """
    return cast(AlgorithmSpec, get_algorithm(name, family=AlgorithmSpec.family))


def list_solvers() -> list[AlgorithmSpec]:
    """The tabular solvers, in listing order."""
    return cast(list[AlgorithmSpec], list_algorithms(AlgorithmSpec.family))
