"""Primal-dual interior-point method for the Nash equilibrium of a symmetric zero-sum game.

A preference game is a symmetric two-player zero-sum game with skew payoff
``A = (P - P.T) / 2`` and value 0, so ``pi`` is a Nash equilibrium iff it lies on the simplex
and ``w = v 1 - A pi >= 0`` with ``v = 0``. The linear program ``min v`` s.t.
``A pi <= v 1, sum(pi) = 1, pi >= 0`` is self-dual, so a single primal-dual pair
``(pi, w)`` suffices: complementarity ``pi^T w = v - pi^T A pi = v`` (``A`` is skew), i.e.
the duality measure is ``v`` itself.

Mehrotra's predictor-corrector (Mehrotra 1992; Wright, *Primal-Dual Interior-Point
Methods*, 1997, Ch. 10) follows the central path ``pi_i w_i = sigma * v / n``. Each
iteration factors the bordered matrix ``[[W/Pi - A, 1], [1^T, 0]]`` once (its symmetric
part is positive definite, so it is never singular) and solves it for the predictor and
the corrector. The iterates converge to the analytic center of the Nash polytope, a
strictly complementary equilibrium: every response has ``pi_i > 0`` or ``w_i > 0`` in the
limit, which makes the support easy to read off for the exact solve in
:mod:`nlhf_core.equilibria`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import lapack

#: Fraction of the step to the boundary of the positive orthant taken each iteration.
_STEP_FRACTION = 0.995


def nash_interior_point(
    A: np.ndarray,
    *,
    tol: float = 1e-13,
    max_iterations: int = 80,
    on_iteration: Callable[[np.ndarray, np.ndarray, float], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Approximate Nash ``pi`` of the skew game ``A`` with slacks ``w = v - A pi``.

    Stops when ``v <= tol``, after ``max_iterations``, or when ``on_iteration(pi, w, v)``
    returns True (the caller certified an exact answer). Returns ``(pi, w, iterations)``.
    """
    n = A.shape[0]
    pi = np.full(n, 1.0 / n)
    x = A @ pi
    v = float(x.max()) + 1.0
    M = np.empty((n + 1, n + 1), order="F")
    diag = np.arange(n)
    iterations = 0
    while iterations < max_iterations and v > tol:
        w = v - x
        if w.min() <= 0:
            break  # the duality measure reached the rounding level of A pi: no finer iterate exists
        iterations += 1
        # Newton system for pi_i w_i = target with w = v 1 - A pi, sum(pi) = 1, divided by
        # pi_i: (W/Pi - A) dpi + 1 dv = r / pi, 1^T dpi = 0.
        M[:n, :n] = -A
        M[diag, diag] += w / pi
        M[:n, n] = 1.0
        M[n, :n] = 1.0
        M[n, n] = 0.0
        factors = lapack.dgetrf(M, overwrite_a=True)[:2]
        dpi, dw, _ = _direction(A, factors, pi, -pi * w)
        step = min(1.0, _max_step(pi, dpi), _max_step(w, dw))
        mu = v / n
        mu_affine = float(np.dot(pi + step * dpi, w + step * dw)) / n
        sigma = (max(mu_affine, 0.0) / mu) ** 3
        dpi, dw, dv = _direction(A, factors, pi, sigma * mu - pi * w - dpi * dw)
        if not (np.isfinite(dpi).all() and np.isfinite(dv)):
            break
        step = min(1.0, _STEP_FRACTION * min(_max_step(pi, dpi), _max_step(w, dw)))
        pi = np.maximum(pi + step * dpi, np.finfo(float).tiny)
        pi /= pi.sum()
        x = A @ pi
        # keep w = v - A pi strictly positive after renormalization
        v = max(v + step * dv, float(x.max()) + np.finfo(float).tiny)
        if on_iteration is not None and on_iteration(pi, v - x, v):
            break
    return pi, v - x, iterations


def _direction(
    A: np.ndarray, factors: tuple[np.ndarray, np.ndarray], pi: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Solve the factored Newton system for the complementarity residual ``r``.

    Returns ``(dpi, dw, dv)`` with ``dw = dv 1 - A dpi``.
    """
    sol = lapack.dgetrs(factors[0], factors[1], np.append(r / pi, 0.0))[0]
    dpi, dv = sol[:-1], float(sol[-1])
    return dpi, dv - A @ dpi, dv


def _max_step(z: np.ndarray, dz: np.ndarray) -> float:
    """Largest ``a`` (or infinity) keeping ``z + a dz >= 0``."""
    neg = dz < 0
    if not neg.any():
        return np.inf
    return float((-z[neg] / dz[neg]).min())
