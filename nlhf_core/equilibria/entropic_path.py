"""Newton's method on the entropic (KL-regularized) Nash equilibrium, and its path in ``tau``.

The regularized Nash equilibrium of Munos et al. (2024, Eq. 2 and Proposition 1) is the
unique fixed point

    pi(y) ∝ mu(y) exp((P pi)(y) / tau).

With logits ``z`` (``pi = softmax(z)``) and the skew part ``A = (P - P.T) / 2`` (equal to
``P - 1/2`` for an exactly complementary game; ``P pi`` and ``A pi`` differ by a constant,
which the softmax ignores) it is the root of

    F(z) = z - log mu - A softmax(z) / tau       (up to an additive constant),

whose Jacobian ``J = I - A Sigma / tau`` with ``Sigma = diag(pi) - pi pi^T`` has
eigenvalues ``1 + i omega`` (``A Sigma`` is similar to a skew-symmetric matrix), so it is
never singular. We take damped Newton steps with the regularized duality gap as merit
function, and reach small ``tau`` by continuation from ``tau = 1`` (where the fixed point
is easy) with a tangent predictor and an adaptive ``tau`` reduction factor.

Responses whose probability is negligible (below ``1e-3 min(tau, 1) / n``) are left out of the
dense Newton system: their rows of ``J`` are solved in closed form, which makes late
iterations cost ``O(k^3)`` for ``k`` live responses instead of ``O(n^3)``.

The same path, with a uniform reference and ``tau -> 0``, converges to the
*maximum-entropy* Nash equilibrium of the unregularized game (for every Nash ``pi'``,
``P_tau(pi' ≻ pi_tau) <= 1/2`` and ``P(pi' ≻ pi_tau) >= 1/2`` give
``KL(pi_tau || u) <= KL(pi' || u)``); :mod:`nlhf_core.equilibria` uses it that way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nlhf_core.errors import SolverError
from nlhf_core.games.metrics import kl_from_logs

#: Largest ``tau`` at which the path starts (the fixed point is easy there).
PATH_START_TAU = 1.0
#: Relative size (times ``min(tau, 1) / n``) under which a response leaves the dense Newton system.
_LIVE_THRESHOLD = 1e-3
# Continuation schedule: tau shrinks by ``factor`` per level; the factor adapts to how
# many Newton steps the last level took (tuned on random games, n = 100..2000).
_FACTOR_START = 0.1
_FACTOR_MIN = 0.03
_FACTOR_GROW = 1.5
_LEVEL_ITERATIONS = 8
_MAX_DAMPED = 2
# A gap this small is at the level of rounding errors (the certificate needs 1e-10).
_GAP_FLOOR = 1e-13


def logsumexp(v: np.ndarray) -> float:
    """``log sum exp(v)`` of a finite vector (NumPy only: scipy's version costs ~0.3 ms a call, which
    dominated small games' solves)."""
    m = v.max()
    return float(m + np.log(np.exp(v - m).sum()))


def softmax_from_logits(z: np.ndarray) -> np.ndarray:
    """``exp(z - logsumexp(z))`` without overflow."""
    w = np.exp(z - z.max())
    return w / w.sum()


def regularized_gap_from_logits(
    A: np.ndarray, z: np.ndarray, tau: float, log_mu: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Policy, ``A pi`` and the regularized gap ``2 tau KL(pi || softmax(log mu + A pi / tau))``.

    For an exactly skew-symmetric ``A`` this equals the regularized duality gap of
    DESIGN.md, ``2 [tau log sum mu exp(P pi / tau) + tau KL(pi || mu) - 1/2]``, because
    ``pi^T A pi = 0``; written as a KL it is non-negative and free of cancellation.
    """
    pi = softmax_from_logits(z)
    x = A @ pi
    v = log_mu + x / tau
    log_br = v - logsumexp(v)
    log_pi = z - logsumexp(z)
    return pi, x, 2.0 * tau * _kl_finite_logs(pi, log_pi, log_br)


def _kl_finite_logs(p: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> float:
    """:func:`~nlhf_core.games.metrics.kl_from_logs` (same terms) for finite logs, without its general-case
    overhead: ``sum p (d + expm1(-d))`` where ``d = log p - log q >= -1``, ``p d + q - p`` elsewhere
    (which is ``q`` where ``p`` underflowed to 0)."""
    d = log_p - log_q
    if not np.isfinite(d).all():
        return float(kl_from_logs(p, log_p, log_q))
    near = p * (d + np.expm1(-np.maximum(d, -1.0)))
    far = p * d + (np.exp(log_q) - p)
    return float(np.where(d >= -1.0, near, far).sum())


@dataclass
class _Level:
    """Newton's result at one ``tau``."""

    z: np.ndarray
    pi: np.ndarray
    x: np.ndarray
    gap: float
    iterations: int
    converged: bool
    tangent: np.ndarray | None  # dz/dtau at (a point near) the solution


class RegularizedNewton:
    """Damped Newton on ``F(z) = 0`` for one skew matrix ``A`` and reference ``mu``."""

    def __init__(self, A: np.ndarray, log_mu: np.ndarray):
        self.A = A
        self.log_mu = log_mu
        self.n = A.shape[0]
        self.newton_steps = 0

    def solve_level(
        self,
        z: np.ndarray,
        tau: float,
        gap_tol: float,
        max_iterations: int,
        max_damped: int | None = None,
    ) -> _Level:
        """Newton iterations at fixed ``tau`` from logits ``z`` until ``gap <= gap_tol``.

        With ``max_damped``, give up (``converged=False``) after that many shortened
        steps: the start was outside Newton's fast region and a smaller ``tau`` change
        is cheaper than fighting on.
        """
        A = self.A
        pi, x, gap = regularized_gap_from_logits(A, z, tau, self.log_mu)
        tangent = None
        damped = 0
        for it in range(max_iterations):
            if gap <= gap_tol:
                return _Level(z, pi, x, gap, it, True, tangent)
            F = z - self.log_mu - x / tau
            # F is defined up to a constant (softmax ignores it); removing it keeps the
            # reduced Newton system from leaking a large constant into the policy.
            F -= np.dot(pi, F)
            steps = self._solve_jacobian(pi, tau, np.stack([-F, -x / tau**2], axis=1))
            dz, tangent = steps[:, 0], steps[:, 1]
            self.newton_steps += 1
            step = 1.0
            while True:
                z_try = z + step * dz
                pi_try, x_try, gap_try = regularized_gap_from_logits(A, z_try, tau, self.log_mu)
                if gap_try < gap or step < 1e-4:
                    break
                step *= 0.5
            if not gap_try < gap:
                # No progress: at the rounding floor this is convergence, otherwise a stall.
                return _Level(z, pi, x, gap, it, gap <= max(gap_tol, _GAP_FLOOR), tangent)
            if step < 1.0:
                damped += 1
                if max_damped is not None and damped > max_damped:
                    return _Level(z_try, pi_try, x_try, gap_try, it + 1, False, tangent)
            slow = gap_try > 0.25 * gap
            z, pi, x, gap = z_try - z_try.max(), pi_try, x_try, gap_try
            if slow and gap <= _GAP_FLOOR:
                # Newton converges quadratically; a slow step this close means rounding noise.
                return _Level(z, pi, x, gap, it + 1, True, tangent)
        return _Level(z, pi, x, gap, max_iterations, gap <= gap_tol, tangent)

    def _solve_jacobian(self, pi: np.ndarray, tau: float, rhs: np.ndarray) -> np.ndarray:
        """Solve ``(I - A Sigma / tau) d = rhs`` exploiting negligible responses.

        With ``a`` the live responses, ``Sigma`` is (up to the negligible mass) zero
        outside the ``a × a`` block, so ``J`` is block lower-triangular: solve the dense
        ``a`` block, then ``d_dead = rhs_dead + A[dead, a] Sigma_aa d_a / tau``.
        """
        live = np.flatnonzero(pi >= _LIVE_THRESHOLD * min(tau, 1.0) / self.n)
        everyone = len(live) == self.n
        s = pi[live]
        A_cols = self.A if everyone else self.A[:, live]
        A_live = A_cols if everyone else A_cols[live]
        # J = I - A Sigma / tau = I - (A_live - w 1^T) diag(s) / tau with w = A_live s
        J = A_live - (A_live @ s)[:, None]
        J *= s / -tau
        J.flat[:: len(s) + 1] += 1.0  # the diagonal (cheaper than diag_indices_from on tiny systems)
        d_live = np.linalg.solve(J, rhs[live])
        sd = s[:, None] * d_live
        sd -= s[:, None] * sd.sum(axis=0)
        if everyone:
            return d_live
        d = rhs + (A_cols @ sd) / tau
        d[live] = d_live
        return d


def mirror_prox_logits(
    A: np.ndarray,
    log_mu: np.ndarray,
    z: np.ndarray,
    tau: float,
    *,
    target_gap: float,
    max_iterations: int = 50_000,
) -> np.ndarray:
    """Mirror-prox iterations on the regularized game until its gap is below ``target_gap``.

    ``pi_half ∝ [pi mu^(eta tau) exp(eta A pi)]^(1/(1+eta tau))``, then the same from ``pi``
    with ``A pi_half``: linear convergence at rate about ``1 / (1 + eta tau)`` from any
    start (Tiapkin et al. 2025, Nash-MP); ``eta = 1`` is safe because ``|A_ij| <= 1/2``.
    Slow for small ``tau`` but never stalls: the path's fallback on stiff stretches.
    """
    eta = 1.0
    keep = 1.0 / (1.0 + eta * tau)
    log_pi = z - logsumexp(z)
    for it in range(max_iterations):
        pi = np.exp(log_pi)
        if it % 20 == 0:
            _, _, gap = regularized_gap_from_logits(A, log_pi, tau, log_mu)
            if gap <= target_gap:
                break
        base = log_pi + eta * tau * log_mu
        half = keep * (base + eta * (A @ pi))
        half -= logsumexp(half)
        log_pi = keep * (base + eta * (A @ np.exp(half)))
        log_pi -= logsumexp(log_pi)
    return log_pi - log_pi.max()


@dataclass
class PathPoint:
    """A converged point of the entropic path."""

    tau: float
    z: np.ndarray
    pi: np.ndarray
    x: np.ndarray
    gap: float


def follow_entropic_path(
    A: np.ndarray,
    log_mu: np.ndarray,
    tau_target: float,
    *,
    gap_tol: float = 1e-24,
    on_level: Callable[[PathPoint], bool] | None = None,
    solver: RegularizedNewton | None = None,
    stop_on_stall: bool = False,
    walk_iterations: int = 50_000,
) -> PathPoint:
    """Follow the regularized Nash ``pi*_tau`` from ``tau = max(1, tau_target)`` down to ``tau_target``.

    ``on_level`` is called with every accepted intermediate point; returning True stops
    the path early (used by the exact Nash solver once it can certify an answer).
    Raises :class:`SolverError` if Newton cannot make progress even with tiny ``tau``
    steps, unless ``stop_on_stall``: then the last converged point is returned (its
    ``tau`` tells how far the path got). ``walk_iterations`` bounds each mirror-prox walk across a
    stiff stretch.
    """
    newton = solver or RegularizedNewton(A, log_mu)
    tau = max(PATH_START_TAU, tau_target)
    z0 = log_mu + (A @ np.exp(log_mu)) / tau  # one fixed-point step from mu
    level = newton.solve_level(z0 - z0.max(), tau, gap_tol if tau <= tau_target else 1e-6 * tau, 100)
    if not level.converged:
        raise SolverError(
            f"Newton's method did not converge at tau = {tau:g}; this should not happen for a "
            f"valid game, please report the game."
        )
    factor = _FACTOR_START
    while True:
        point = PathPoint(tau, level.z, level.pi, level.x, level.gap)
        if tau <= tau_target:
            return point
        if on_level is not None and on_level(point):
            return point
        tau_next = max(tau * factor, tau_target)
        final = tau_next <= tau_target
        z_pred = level.z
        if level.tangent is not None:
            z_pred = level.z + (tau_next - tau) * level.tangent
            if not np.all(np.isfinite(z_pred)):
                z_pred = level.z
        trial = newton.solve_level(
            z_pred - z_pred.max(),
            tau_next,
            gap_tol if final else 1e-3 * tau_next,
            60 if final else _LEVEL_ITERATIONS,
            max_damped=_MAX_DAMPED,
        )
        if trial.converged:
            tau, level = tau_next, trial
            if trial.iterations <= 2:
                factor = max(factor**_FACTOR_GROW, _FACTOR_MIN)
            elif trial.iterations >= 5:
                factor = min(factor**0.5, 0.9)
            continue
        factor = factor**0.5
        if factor > 0.97:
            # A stiff stretch (mass jumping between responses): walk to tau_next with a
            # globally convergent first-order method, then let Newton finish.
            z_walk = mirror_prox_logits(
                A, log_mu, level.z, tau_next, target_gap=1e-3 * tau_next, max_iterations=walk_iterations
            )
            trial = newton.solve_level(z_walk, tau_next, gap_tol if final else 1e-3 * tau_next, 100, max_damped=None)
            if trial.converged:
                tau, level, factor = tau_next, trial, _FACTOR_START
                continue
            if stop_on_stall:
                return point
            raise SolverError(
                f"The entropic path stalled at tau = {tau_next:g}; try a larger tau (the "
                f"regularized Nash is well conditioned for tau >= 1e-4)."
            )
