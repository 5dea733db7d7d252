"""Nash-MD, the tabular algorithm of Munos et al. (2024, Section 5, Eqs. 3–5).

Each iteration makes one preference query, against the geometric mixture of the current
policy and the reference:

    pi_t^mu   ∝ pi_t^(1 - eta_t tau) mu^(eta_t tau)           (Eq. 4)
    pi_{t+1}  ∝ pi_t^mu exp(eta_t P(y ≻ pi_t^mu))              (Eq. 5)

Theorem 1: ``KL(pi*_tau, pi_{t+1}) <= (1 - eta_t tau) KL(pi*_tau, pi_t) + 2 eta_t^2``; with
``eta_t = 2 / (tau (t + 2))`` (never above ``1/tau``) induction gives
``KL(pi*_tau, pi_T) <= 8 / (tau^2 (T + 1))`` for ``T >= 1`` (:func:`theorem_kl_bound`).
With a constant step the iterates converge to a point near ``pi*_tau`` (the fixed point
solves ``pi ∝ mu exp(P pi^mu / tau)``), at distance ``O(eta)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError
from .logspace import batched_matvec, log_normalize
from .registry import AlgorithmSpec, ParamSpec, register

CITATION = (
    "Munos et al., Nash Learning from Human Feedback, ICML 2024, Section 5, Eqs. 3–5 (Nash-MD) and Theorem 1"
)


def theorem_step(t: int | np.ndarray, tau: float) -> np.ndarray:
    """Theorem 1's step ``eta_t = 2 / (tau (t + 2))``, capped at ``1 / tau``."""
    return np.minimum(2.0 / (tau * (np.asarray(t, dtype=float) + 2.0)), 1.0 / tau)


def theorem_kl_bound(tau: float, steps: np.ndarray) -> np.ndarray:
    """``8 / (tau^2 (T + 1))``: Theorem 1's bound on ``KL(pi*_tau, pi_T)`` (``inf`` at T = 0)."""
    T = np.asarray(steps, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(T >= 1, 8.0 / (tau**2 * (T + 1.0)), np.inf)


def nash_md_step(P: np.ndarray, log_pi: np.ndarray, log_mu: np.ndarray, eta: float, tau: float) -> np.ndarray:
    """One Nash-MD iteration in log space (one preference query ``P pi^mu``).

    ``log_pi`` and ``log_mu`` must be finite (full support, which the runner enforces), so
    the geometric mixture is a plain weighted sum of logs.
    """
    w = eta * tau
    log_mix = log_normalize((1.0 - w) * log_pi + w * log_mu)
    return log_normalize(log_mix + eta * batched_matvec(P, np.exp(log_mix)))


def run_nash_md(
    P: np.ndarray,
    log_mu: np.ndarray,
    log_init: np.ndarray,
    params: dict[str, Any],
    steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterate Nash-MD; return the policies at ``steps`` and the queries used by then."""
    tau, schedule = params["tau"], params["schedule"]
    if schedule == "constant" and params["eta"] * tau > 1.0 + 1e-12:
        raise ParameterError(
            f"eta × tau = {params['eta'] * tau:g} exceeds 1, but it is the reference's weight in "
            f"the geometric mixture; lower eta to at most 1/tau = {1.0 / tau:g}."
        )
    out = np.empty((len(steps), *log_init.shape))
    log_pi = log_init
    record = 0
    for t in range(int(steps[-1]) + 1):
        if t == steps[record]:
            out[record] = np.exp(log_pi)
            record += 1
            if record == len(steps):
                break
        eta = params["eta"] if schedule == "constant" else min(2.0 / (tau * (t + 2.0)), 1.0 / tau)
        log_pi = nash_md_step(P, log_pi, log_mu, eta, tau)
    return out, steps.astype(np.int64)  # one query per iteration


NASH_MD = register(
    AlgorithmSpec(
        name="nash-md",
        title="Nash-MD",
        summary=(
            "Mirror descent against a mixture of the current policy and the reference; its "
            "last iterate converges to the regularized Nash equilibrium."
        ),
        update="pi_mix ∝ pi^(1-eta tau) mu^(eta tau);  pi ← pi_mix exp(eta P pi_mix) / Z",
        params=(
            ParamSpec(
                "tau",
                0.1,
                "KL-regularization strength towards the reference.",
                low=1e-3,
                high=10.0,
                log_scale=True,
            ),
            ParamSpec(
                "eta",
                1.0,
                "Step size (constant schedule); eta × tau must be at most 1.",
                low=1e-4,
                high=1e3,
                log_scale=True,
            ),
            ParamSpec(
                "schedule",
                "constant",
                "Step schedule: constant eta, or Theorem 1's eta_t = 2 / (tau (t + 2)).",
                kind="choice",
                choices=("constant", "theorem"),
            ),
        ),
        target="regularized Nash equilibrium pi*_tau",
        iterate="last",
        queries_per_iteration=1,
        citation=CITATION,
        run=run_nash_md,
    )
)
