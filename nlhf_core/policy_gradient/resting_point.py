"""Where tabular Nash-MD-PG comes to rest, in closed form (Munos et al. 2024, Sections 6–7).

Nash-MD-PG ascends ``E_{y~pi, y'~pi_beta}[P(y ≻ y')] - tau KL(pi || mu)`` with the opponent drawn
from the geometric mixture ``pi_beta ∝ pi^(1-beta) mu^beta`` (held fixed while differentiating). For
a tabular softmax policy the expected gradient vanishes exactly where

    pi ∝ mu exp(P pi_beta / tau),        pi_beta ∝ pi^(1-beta) mu^beta.

Substituting the first equation into the second gives
``pi_beta ∝ mu^(1-beta) exp((1-beta) P pi_beta / tau) mu^beta = mu exp(P pi_beta / (tau / (1-beta)))``:
the mixture is the **regularized Nash at the larger temperature** ``tau / (1 - beta)``, and the policy
is the regularized **best response** to it,

    pi_beta = pi*_{tau/(1-beta)},        pi = BR_tau(pi*_{tau/(1-beta)}) ∝ mu (pi*_{tau/(1-beta)} / mu)^(1/(1-beta)).

``beta = 0`` is self-play's ``pi*_tau`` (the mixture is the policy); ``beta = 1`` is the best response
to the reference, ``mu exp(P mu / tau) / Z`` (IPO's optimum with pairs from ``mu``). ``P`` may be the
true preferences or a fitted preference model ``P̂``: the formula only uses the matrix. The policy
is computed as ``softmax(log mu + P pi_beta / tau)`` (numerically stable for every ``beta``), the
mixture with :func:`nlhf_core.equilibria.regularized_nash` (the one home of ``pi*_tau``).

No torch is imported here, so the tabular study and its command line stay light.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlhf_core.equilibria import REGULARIZED_GAP_TOLERANCE, TAU_MAX, check_tau, regularized_nash
from nlhf_core.equilibria.entropic_path import RegularizedNewton
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import preference_against, regularized_best_response
from nlhf_core.games.policies import as_reference


@dataclass(frozen=True)
class RestingPoint:
    """Nash-MD-PG's resting point for one ``(tau, beta)``.

    Attributes:
        policy: ``pi = BR_tau(pi_beta)``, shape ``(n,)`` for a plain game, ``(C, n)`` for a contextual one.
        mixture: the opponent ``pi_beta = pi*_{tau/(1-beta)}`` (``mu`` at ``beta = 1``), same shape.
        tau: the KL strength ``tau``; ``beta``: the mixture coefficient.
        mixture_tau: ``tau / (1 - beta)`` (``inf`` at ``beta = 1``).
    """

    policy: np.ndarray
    mixture: np.ndarray
    tau: float
    beta: float
    mixture_tau: float


def check_beta(beta: Any) -> float:
    """``beta`` as a float in ``[0, 1]``, or :class:`ParameterError` with one sentence."""
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise ParameterError(f"beta must be a number in [0, 1], not {beta!r}; e.g. beta = 0.125.") from None
    if not np.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ParameterError(
            f"beta = {value:g} is outside [0, 1]; it mixes the policy with the reference "
            f"(0: self-play, 1: best response to the reference)."
        )
    return value


def nash_md_pg_resting_point(game: PreferenceGame, tau: float, beta: float, reference: Any = None) -> RestingPoint:
    """The policy where Nash-MD-PG's expected gradient vanishes: ``BR_tau(pi*_{tau/(1-beta)})``.

    ``game`` holds the preferences the method is trained on (true or fitted, plain or contextual);
    ``reference`` is ``mu`` (default uniform; every response needs positive probability). See the
    module docstring for the derivation (Munos et al. 2024, Section 7, Nash-MD-PG).
    """
    tau, beta = check_tau(tau), check_beta(beta)
    mu = as_reference(reference, game)
    P = game.matrices
    if beta == 1.0:
        mixture, mixture_tau = mu, float("inf")
    else:
        mixture_tau = tau / (1.0 - beta)
        mixture = _regularized(game, mixture_tau, mu)
    policy = regularized_best_response(P, mixture, tau, mu)
    if not game.has_contexts:
        return RestingPoint(policy[0], mixture[0], tau, beta, mixture_tau)
    return RestingPoint(policy, mixture, tau, beta, mixture_tau)


def nash_md_pg_resting_points(
    game: PreferenceGame, tau: float, betas: Sequence[float], reference: Any = None
) -> list[RestingPoint]:
    """:func:`nash_md_pg_resting_point` for several ``beta`` at once (same answers, about twice as fast).

    The mixtures ``pi*_{tau/(1-beta)}`` all lie on one entropic path, so they are solved largest
    temperature first, each Newton solve (:class:`nlhf_core.equilibria.entropic_path.RegularizedNewton`, the
    solver of :func:`~nlhf_core.equilibria.regularized_nash`) starting from the previous answer; a
    level Newton cannot certify (gap above 1e-24) is handed to :func:`regularized_nash` itself.
    """
    tau = check_tau(tau)
    values = [check_beta(b) for b in betas]
    mu = as_reference(reference, game)
    temperatures = sorted({tau / (1.0 - b) for b in values if b < 1.0}, reverse=True)
    mixtures = dict(zip(temperatures, regularized_path(game, temperatures, mu), strict=True))
    out = []
    for beta in values:
        mixture_tau = float("inf") if beta == 1.0 else tau / (1.0 - beta)
        mixture = mu if beta == 1.0 else mixtures[mixture_tau]
        policy = regularized_best_response(game.matrices, mixture, tau, mu)
        if game.has_contexts:
            out.append(RestingPoint(policy, mixture, tau, beta, mixture_tau))
        else:
            out.append(RestingPoint(policy[0], mixture[0], tau, beta, mixture_tau))
    return out


def regularized_path(game: PreferenceGame, taus: Sequence[float], mu: np.ndarray) -> list[np.ndarray]:
    """``pi*_tau`` ``(C, n)`` for each ``tau`` of a decreasing sequence, warm-starting Newton along the path."""
    results: list[list[np.ndarray]] = [[] for _ in taus]
    for c, P in enumerate(game.matrices):
        A, log_mu = 0.5 * (P - P.T), np.log(mu[c])
        newton = RegularizedNewton(A, log_mu)
        z, last, last_tau = None, None, 0.0
        for k, t in enumerate(taus):
            if t > TAU_MAX:
                results[k].append(_fixed_point(P, t, mu[c]))
                continue
            if z is None:
                z = log_mu + A @ mu[c] / t
            elif last is not None and last.tangent is not None:
                z = last.z + (t - last_tau) * last.tangent
            level = newton.solve_level(z - z.max(), t, 1e-24, 60, max_damped=2)
            if level.converged and level.gap <= REGULARIZED_GAP_TOLERANCE:
                results[k].append(level.pi)
                z, last, last_tau = level.z, level, t
            else:  # off Newton's fast region: the certified solver, then continue from its answer
                pi = regularized_nash(P, t, mu[c]).policy
                results[k].append(pi)
                z, last = np.log(pi), None
    return [np.stack(r) for r in results]


def _regularized(game: PreferenceGame, tau: float, mu: np.ndarray) -> np.ndarray:
    """``pi*_tau`` per context, shape ``(C, n)``; past ``TAU_MAX`` by fixed-point iteration."""
    if tau <= TAU_MAX:
        return regularized_nash(game, tau, mu).policy.reshape(mu.shape)
    return np.stack([_fixed_point(P, tau, m) for P, m in zip(game.matrices, mu, strict=True)])


def _fixed_point(P: np.ndarray, tau: float, mu: np.ndarray) -> np.ndarray:
    """``pi = softmax(log mu + P pi / tau)`` for ``tau > TAU_MAX``: a contraction with factor below
    ``1 / tau < 1e-6``, so a few iterations from ``mu`` reach machine precision."""
    pi = mu.copy()
    for _ in range(8):
        pi = regularized_best_response(P, pi, tau, mu)
    return pi


def resting_point_residual(P: np.ndarray, policy: np.ndarray, tau: float, beta: float, mu: np.ndarray) -> float:
    """``max |pi - softmax(log mu + P pi_beta / tau)|`` with ``pi_beta ∝ pi^(1-beta) mu^beta`` (0 at rest)."""
    pi, mu = np.atleast_2d(policy), np.atleast_2d(mu)
    with np.errstate(divide="ignore"):
        log_mix = (1.0 - beta) * np.log(pi) + beta * np.log(mu)
    mix = np.exp(log_mix - log_mix.max(axis=-1, keepdims=True))
    mix /= mix.sum(axis=-1, keepdims=True)
    logits = np.log(mu) + preference_against(np.broadcast_to(P, (*pi.shape, pi.shape[-1])), mix) / tau
    target = np.exp(logits - logits.max(axis=-1, keepdims=True))
    target /= target.sum(axis=-1, keepdims=True)
    return float(np.abs(pi - target).max())
