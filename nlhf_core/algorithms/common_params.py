"""Parameter specs shared by several solvers (same names, ranges and help everywhere)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nlhf_core.errors import ParameterError
from nlhf_core.params import ParamSpec, short_number

TAU = ParamSpec("tau", 0.1, "KL-regularization strength towards the reference.", low=1e-3, high=10.0, log_scale=True)


def eta(default: float, high: float = 1e3, note: str = "") -> ParamSpec:
    """The step size, with a solver-specific default and upper end."""
    return ParamSpec("eta", default, f"Step size{note}.", low=1e-4, high=high, log_scale=True)


def require_mixture_weight(eta: Any, tau: Any) -> None:
    """``eta × tau`` is a mixture weight (reference exponent) and must not exceed 1."""
    product = np.asarray(eta, dtype=float) * np.asarray(tau, dtype=float)
    if np.any(product > 1.0 + 1e-12):
        worst = float(np.max(product))
        raise ParameterError(
            f"eta × tau = {short_number(worst)} exceeds 1, but it is the reference's weight in the geometric "
            f"mixture; lower eta to at most 1/tau = {short_number(1.0 / float(np.max(tau)))}."
        )
