"""The regularized Nash equilibrium ``pi*_tau`` of a preference game, with its certificate.

Munos et al. (2024, Eq. 2 and Proposition 1): for ``tau > 0`` and a reference ``mu`` with full
support, the regularized preference game ``P_tau(pi ≻ pi') = P(pi ≻ pi') - tau KL(pi || mu) +
tau KL(pi' || mu)`` has a unique Nash equilibrium, the fixed point

    pi*_tau(y) ∝ mu(y) exp((P pi*_tau)(y) / tau).

It is computed by Newton's method on the entropic path (:mod:`.entropic_path`) and certified by
its regularized duality gap ``max_pi P_tau(pi ≻ pi*_tau) - 1/2`` (0 exactly at the equilibrium).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlhf_core.equilibria.common import as_game, check_tau
from nlhf_core.equilibria.entropic_path import RegularizedNewton, follow_entropic_path
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import exploitability as _exploitability
from nlhf_core.games.metrics import regularized_gap as _regularized_gap
from nlhf_core.games.policies import as_reference


@dataclass(frozen=True)
class RegularizedNash:
    """The regularized Nash equilibrium ``pi*_tau`` and its certificate.

    Attributes:
        policy: ``(n,)`` or ``(C, n)``.
        tau: regularization strength.
        reference: the reference policy ``mu`` used (same shape as ``policy``).
        regularized_gap: duality gap of ``P_tau`` at ``policy`` (0 iff exact).
        fixed_point_residual: ``max |pi - softmax(log mu + P pi / tau)|``.
        exploitability: unregularized exploitability of ``policy``.
        newton_steps: Newton iterations used (summed over contexts).
    """

    policy: np.ndarray
    tau: float
    reference: np.ndarray
    regularized_gap: float
    fixed_point_residual: float
    exploitability: float
    newton_steps: int
    per_context: tuple[RegularizedNash, ...] = field(default=(), repr=False)


def regularized_nash(
    game: PreferenceGame | Any,
    tau: float,
    reference: Any = None,
) -> RegularizedNash:
    """The unique regularized Nash ``pi*_tau`` (Munos et al. 2024, Eq. 2, Proposition 1).

    ``pi*_tau(y) ∝ mu(y) exp((P pi*_tau)(y) / tau)``.

    Args:
        game: a :class:`PreferenceGame` (plain or contextual) or an ``n × n`` matrix.
        tau: KL strength, in ``[TAU_MIN, TAU_MAX]``.
        reference: ``mu`` (default uniform; ``"uniform"``, a vector, or one vector per context);
            it must give every response positive probability.

    Returns:
        The certified :class:`RegularizedNash` (one result per context in ``per_context``).
    """
    game = as_game(game)
    tau = check_tau(tau)
    mu = as_reference(reference, game)
    results = [_regularized_of_matrix(M, tau, m) for M, m in zip(game.matrices, mu, strict=True)]
    if not game.has_contexts:
        return results[0]
    w = game.weights
    return RegularizedNash(
        policy=np.stack([r.policy for r in results]),
        tau=tau,
        reference=mu,
        regularized_gap=float(np.dot(w, [r.regularized_gap for r in results])),
        fixed_point_residual=max(r.fixed_point_residual for r in results),
        exploitability=float(np.dot(w, [r.exploitability for r in results])),
        newton_steps=sum(r.newton_steps for r in results),
        per_context=tuple(results),
    )


def _regularized_of_matrix(P: np.ndarray, tau: float, mu: np.ndarray) -> RegularizedNash:
    A = 0.5 * (P - P.T)
    log_mu = np.log(mu)
    newton = RegularizedNewton(A, log_mu)
    point = follow_entropic_path(A, log_mu, tau, solver=newton)
    pi = _refine_tiny_masses(point.pi, log_mu + point.x / tau)
    gap = float(_regularized_gap(P, pi, tau, mu))
    residual = float(np.abs(pi - _softmax(log_mu + (P @ pi) / tau)).max())
    return RegularizedNash(
        policy=pi,
        tau=tau,
        reference=mu,
        regularized_gap=gap,
        fixed_point_residual=residual,
        exploitability=float(_exploitability(P, pi)),
        newton_steps=newton.newton_steps,
    )


def _refine_tiny_masses(pi: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """Recompute negligible probabilities from the fixed point, to full relative accuracy.

    Newton's stopping test (the gap) cannot see masses like 1e-100; their exact values
    follow from ``log pi(y) = log mu(y) + (P pi)(y) / tau - C`` once the others have
    converged, with ``C`` read off the converged responses.
    """
    big = pi >= 1e-6 * pi.max()
    if big.all():
        return pi
    C = np.median(log_target[big] - np.log(pi[big]))
    log_pi = np.where(big, np.log(np.where(big, pi, 1.0)), log_target - C)
    out = np.exp(log_pi - log_pi.max())
    return out / out.sum()


def _softmax(v: np.ndarray) -> np.ndarray:
    w = np.exp(v - v.max())
    return w / w.sum()
