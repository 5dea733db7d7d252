"""Win rates, exploitability, regularized duality gap, KL and head-to-head tables.

All functions take the preference matrix ``P`` with shape ``(..., n, n)`` and policies with
shape ``(..., n)`` and broadcast over the leading axes, so a batch of policies (a
trajectory, a sweep) is evaluated in one call; ``tau`` may be a scalar or one value per
policy (an array broadcasting against the batch shape, e.g. ``(S, 1)`` for a sweep).
Conventions follow Munos et al. (2024):

* win rate ``P(pi ≻ pi') = pi^T P pi'`` (Section 3);
* exploitability ``max_y P(y ≻ pi) - 1/2`` (0 iff ``pi`` is a Nash equilibrium);
* regularized preference ``P_tau(pi ≻ pi') = P(pi ≻ pi') - tau KL(pi||mu) + tau KL(pi'||mu)``
  (Eq. 2) and its duality gap
  ``2 [tau log sum_y mu(y) exp(P(y ≻ pi) / tau) + tau KL(pi||mu) - 1/2]``
  (0 iff ``pi = pi*_tau``).

Policies of a game are ``(C, n)`` (``C = 1`` for a plain game) and the per-context values
are averaged with the context weights ``rho`` by :func:`context_average`; the win rate of a
contextual game, ``E_{x ~ rho} P(pi(.|x) ≻ pi'(.|x))``, is :func:`context_win_rate`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nlhf_core.numerics import log_normalize


def win_rate(P: np.ndarray, pi: np.ndarray, pi_other: np.ndarray) -> np.ndarray:
    """``P(pi ≻ pi') = sum_{y, y'} pi(y) P(y ≻ y') pi'(y')``.

    Args:
        P: ``(..., n, n)`` preference matrix, P[i, j] = P(y_i ≻ y_j).
        pi: policy ``(..., n)``.
        pi_other: policy ``(..., n)`` (broadcasting against ``pi``).

    Returns:
        The win rates in ``[0, 1]`` over the broadcast leading axes, ``(...)``.
    """
    return np.einsum("...i,...ij,...j->...", pi, P, pi_other)


def preference_against(P: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """``P(y ≻ pi)`` for every response ``y``: the vector ``P pi`` (one preference query).

    Args:
        P: ``(..., n, n)`` preference matrix, P[i, j] = P(y_i ≻ y_j).
        pi: policy ``(..., n)``.

    Returns:
        ``P(y ≻ pi)`` per response, shape ``(..., n)``.
    """
    return np.einsum("...ij,...j->...i", P, pi)


def exploitability(P: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """``max_y P(y ≻ pi) - 1/2``: how much a best response beats ``pi`` by (0 at a Nash).

    Args:
        P: ``(..., n, n)`` preference matrix, P[i, j] = P(y_i ≻ y_j).
        pi: policy ``(..., n)``.

    Returns:
        The exploitability in ``[0, 1/2]`` over the leading axes, ``(...)``.
    """
    return preference_against(P, pi).max(axis=-1) - 0.5


def kl_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``KL(p || q) = sum_y p(y) log(p(y) / q(y))`` along the last axis: the library's one KL.

    Exact conventions, no clipping: ``0 log(0 / q) = 0`` (also for ``q = 0``) and ``+inf``
    where ``q(y) = 0 < p(y)``; it equals ``scipy.stats.entropy(p, q)`` on probability vectors.

    Args:
        p, q: probability vectors (or stacks of them, broadcasting), each summing to 1.

    Returns:
        ``KL(p || q) >= 0`` over the leading axes (see :func:`kl_from_logs` for the method).
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore"):
        return kl_from_logs(p, np.log(p), np.log(q))


def kl_from_logs(p: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``KL(p || q)`` from ``p`` and the logs of both, along the last axis.

    Computed as ``sum_{p>0} p (d + expm1(-d)) + q(p = 0)`` with ``d = log p - log q``
    (the two extra terms cancel because both sum to 1): every term is non-negative and
    the sum is accurate when ``p ≈ q``; a ``q`` too small to represent (``log q`` finite,
    ``exp`` underflowing) still gives the right finite value.

    Args:
        p: probability vectors ``(..., n)``.
        log_p: ``log p`` (``-inf`` where ``p = 0``), broadcasting against ``p``.
        log_q: ``log q`` of the second distribution (``-inf`` where ``q = 0``).

    Returns:
        ``KL(p || q) >= 0`` in nats over the leading axes, ``(...)``; ``+inf`` where ``q = 0 < p``.
    """
    p, log_p, log_q = np.broadcast_arrays(p, log_p, log_q)
    live = p > 0
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.where(live, log_p - log_q, 0.0)
        # p (d + e^{-d} - 1) = p d + q - p: use the expm1 form near d = 0, the other when
        # p << q (where e^{-d} would overflow)
        near = p * (d + np.expm1(-np.maximum(d, -1.0)))
        far = p * d + (np.exp(log_q) - p)
        terms = np.where(live, np.where(d >= -1.0, near, far), np.exp(log_q))
    terms = np.where(live & np.isneginf(log_q), np.inf, terms)
    return terms.sum(axis=-1)


def regularized_preference(
    P: np.ndarray,
    pi: np.ndarray,
    pi_other: np.ndarray,
    tau: float,
    mu: np.ndarray,
) -> np.ndarray:
    """``P_tau(pi ≻ pi') = P(pi ≻ pi') - tau KL(pi||mu) + tau KL(pi'||mu)`` (Eq. 2).

    Args:
        P: ``(..., n, n)`` preference matrix, P[i, j] = P(y_i ≻ y_j).
        pi: policy ``(..., n)``.
        pi_other: policy ``(..., n)``.
        tau: KL strength ``tau > 0`` (a scalar or one value per policy).
        mu: reference policy ``(..., n)``, positive.

    Returns:
        ``P_tau(pi ≻ pi')`` over the leading axes, ``(...)``.
    """
    return win_rate(P, pi, pi_other) - tau * kl_divergence(pi, mu) + tau * kl_divergence(pi_other, mu)


def regularized_best_response(P: np.ndarray, pi: np.ndarray, tau: float, mu: np.ndarray) -> np.ndarray:
    """``argmax_{pi'} P_tau(pi' ≻ pi)``: the policy ``∝ mu exp(P(y ≻ pi) / tau)``.

    Args:
        P: ``(..., n, n)`` preference matrix, P[i, j] = P(y_i ≻ y_j).
        pi: the opponent's policy ``(..., n)``.
        tau: KL strength ``tau > 0`` (a scalar or one value per policy).
        mu: reference policy ``(..., n)``.

    Returns:
        The regularized best response ``(..., n)``, each row summing to 1.
    """
    return np.exp(_log_regularized_best_response(P, pi, tau, mu))


def _log_regularized_best_response(P: np.ndarray, pi: np.ndarray, tau, mu: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return log_normalize(np.log(mu) + preference_against(P, pi) / _per_policy(tau))


def _per_policy(tau) -> np.ndarray | float:
    """``tau`` broadcast over the response axis: one value per policy of a batch, or a scalar."""
    t = np.asarray(tau, dtype=float)
    return t[..., None] if t.ndim else float(t)


def regularized_gap(P: np.ndarray, pi: np.ndarray, tau: float, mu: np.ndarray) -> np.ndarray:
    """Regularized duality gap ``2 [tau log sum_y mu(y) e^{P(y ≻ pi)/tau} + tau KL(pi||mu) - 1/2]``.

    Evaluated through the identity
    ``gap = 2 tau KL(pi || BR_tau(pi)) + 2 (pi^T P pi - 1/2)``, where ``BR_tau`` is the
    regularized best response; the last term is exactly 0 for a complementary ``P`` up to
    rounding, and the first is non-negative and has no cancellation, so the certificate
    is accurate to ~1e-16 even for tiny ``tau``.

    Args:
        P: ``(..., n, n)`` preference matrix, P[i, j] = P(y_i ≻ y_j).
        pi: policy ``(..., n)``.
        tau: KL strength ``tau > 0`` (a scalar or one value per policy, e.g. ``(S, 1)``).
        mu: reference policy ``(..., n)``, positive.

    Returns:
        The gap ``>= 0`` (0 iff ``pi = pi*_tau``) over the leading axes, ``(...)``.
    """
    pi = np.asarray(pi, dtype=float)
    log_br = _log_regularized_best_response(P, pi, tau, mu)
    with np.errstate(divide="ignore"):
        kl = kl_from_logs(pi, np.log(pi), log_br)
    return 2.0 * tau * kl + 2.0 * (win_rate(P, pi, pi) - 0.5)


def context_average(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average per-context values (last axis = context) with the context weights ``rho``.

    Args:
        values: per-context values ``(..., C)``.
        weights: the context weights ``rho``, shape ``(C,)``, summing to 1.

    Returns:
        ``sum_x rho(x) values[..., x]``, shape ``(...)``.
    """
    return np.asarray(values) @ np.asarray(weights)


def context_win_rate(P: np.ndarray, pi: np.ndarray, pi_other: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``P(pi ≻ pi') = sum_x rho(x) sum_{y, y'} pi(y|x) P(y ≻ y'|x) pi'(y'|x)`` (Munos et al. 2024, Section 3).

    The win rate of a contextual game: per-context :func:`win_rate` averaged with ``rho``.

    Args:
        P: ``(C, n, n)`` preference matrices, one per context.
        pi, pi_other: policies ``(..., C, n)`` (broadcasting against each other).
        weights: the context weights ``rho``, shape ``(C,)``.

    Returns:
        The win rates over the leading axes, ``(...)``.
    """
    return context_average(win_rate(P, pi, pi_other), weights)


def head_to_head(
    P: np.ndarray,
    policies: Mapping[str, np.ndarray],
    weights: np.ndarray | None = None,
) -> tuple[list[str], np.ndarray]:
    """Win-rate table ``W[a, b] = P(pi_a ≻ pi_b)`` for named policies (``W + W.T = 1``).

    Args:
        P: ``(C, n, n)`` matrices of a game, or one ``(n, n)`` matrix.
        policies: name -> policy ``(C, n)`` (or ``(n,)``, the same in every context).
        weights: the context weights ``rho`` (default: uniform).

    Returns:
        The names and the table of :func:`context_win_rate` values.
    """
    names = list(policies)
    matrices = P if P.ndim == 3 else P[None]
    stack = np.stack([np.broadcast_to(np.asarray(policies[k], float), matrices.shape[:-1]) for k in names])
    rho = np.full(len(matrices), 1.0 / len(matrices)) if weights is None else np.asarray(weights)
    return names, context_win_rate(matrices, stack[:, None], stack[None, :], rho)
