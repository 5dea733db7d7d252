"""Nash-MD (Munos et al. 2024, Section 5, Eqs. 3–5) and Nash-EMA (its moving-average opponent).

Nash-MD makes one preference query per iteration, against the geometric mixture of the
current policy and the reference:

    pi_t^mu   ∝ pi_t^(1 - eta_t tau) mu^(eta_t tau)           (Eq. 4)
    pi_{t+1}  ∝ pi_t^mu exp(eta_t P(y ≻ pi_t^mu))              (Eq. 5)

Theorem 1: ``KL(pi*_tau, pi_{t+1}) <= (1 - eta_t tau) KL(pi*_tau, pi_t) + 2 eta_t^2``; with
``eta_t = 2 / (tau (t + 2))`` (never above ``1/tau``) induction gives
``KL(pi*_tau, pi_T) <= 8 / (tau^2 (T + 1))`` for ``T >= 1`` (:func:`theorem_kl_bound`).
With a constant step the iterates converge to a point near ``pi*_tau`` (the fixed point
solves ``pi ∝ mu exp(P pi^mu / tau)``), at distance ``O(eta)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nlhf_core.algorithms.common_params import TAU, eta, require_mixture_weight
from nlhf_core.algorithms.engine import PreferenceOracle, Solver
from nlhf_core.algorithms.registry import AlgorithmSpec
from nlhf_core.numerics import log_normalize
from nlhf_core.params import ParamSpec
from nlhf_core.registry import KLBound, register

CITATION = "Munos et al., Nash Learning from Human Feedback, ICML 2024, Section 5, Eqs. 3–5 (Nash-MD) and Theorem 1"


def theorem_step(t: int | np.ndarray, tau: Any) -> np.ndarray:
    """Theorem 1's step ``eta_t = 2 / (tau (t + 2))``, capped at ``1 / tau``."""
    return np.minimum(2.0 / (np.asarray(tau) * (np.asarray(t, dtype=float) + 2.0)), 1.0 / np.asarray(tau))


def theorem_kl_bound(tau: float, steps: np.ndarray) -> np.ndarray:
    """``8 / (tau^2 (T + 1))``: Theorem 1's bound on ``KL(pi*_tau, pi_T)`` (``inf`` at T = 0)."""
    T = np.asarray(steps, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(T >= 1, 8.0 / (tau**2 * (T + 1.0)), np.inf)


def nash_md_step(
    log_pi: np.ndarray, log_mu: np.ndarray, eta: Any, tau: Any, query: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """One Nash-MD iteration in log space (Eqs. 4–5), with one preference query.

    ``pi_mix ∝ pi^(1 - eta tau) mu^(eta tau)``, then ``pi' ∝ pi_mix exp(eta P(y ≻ pi_mix))``.

    Args:
        log_pi, log_mu: log-probabilities of the current policy and the reference, finite
            (full support, which the runner enforces), so the mixture is a weighted sum of logs.
        eta, tau: step size and regularization (scalars, or arrays broadcasting for sweeps).
        query: answers ``P(y ≻ pi)`` for every ``y`` (a :class:`PreferenceOracle`, exact or sampled).

    Returns:
        ``log pi'``, normalized along the last axis.
    """
    w = eta * tau
    log_mix = log_normalize((1.0 - w) * log_pi + w * log_mu)
    return log_normalize(log_mix + eta * query(np.exp(log_mix)))


class NashMD(Solver):
    """Nash-MD with a constant step or Theorem 1's schedule."""

    def __init__(self, params: dict[str, Any], log_mu: np.ndarray):
        super().__init__(params, log_mu)
        self.tau, self.eta, self.schedule = params["tau"], params["eta"], params["schedule"]
        if self.schedule == "constant":
            require_mixture_weight(self.eta, self.tau)

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        eta = self.eta if self.schedule == "constant" else theorem_step(t, self.tau)
        self.log_pi = nash_md_step(self.log_pi, self.log_mu, eta, self.tau, oracle)


def theorem_1_bound(params: Mapping[str, Any], steps: np.ndarray) -> KLBound | None:
    """Theorem 1's ``KL(pi*_tau, pi_T) <= 8 / (tau^2 (T + 1))``: it covers the theorem schedule only."""
    if params["schedule"] != "theorem":
        return None
    return KLBound("Theorem 1 bound 8/(τ²(T+1)) on KL", theorem_kl_bound(params["tau"], steps))


def constant_step(params: dict[str, Any]) -> dict[str, Any]:
    """The theorem schedule frozen at the given step, capped at ``1 / tau`` (the schedule's first step)."""
    if params["schedule"] != "theorem":
        return params
    return {**params, "schedule": "constant", "eta": min(float(params["eta"]), 1.0 / float(params["tau"]))}


class NashEMA(Solver):
    """Nash-EMA: regularized mirror descent against a moving average of past policies.

    The tabular analogue of Nash-EMA-PG (Munos et al. 2024, Section 7), whose opponent is
    the policy at an exponential moving average of past *parameters*; for a tabular
    softmax policy the parameters are the logits, so the opponent is the normalized
    geometric average ``log pi_bar_{t+1} = beta log pi_bar_t + (1 - beta) log pi_{t+1}``:

        pi_{t+1} ∝ pi_t^(1 - eta tau) mu^(eta tau) exp(eta P(y ≻ pi_bar_t)).

    Its fixed point (``pi_bar = pi``) is ``pi ∝ mu exp(P pi / tau) = pi*_tau``. The average
    lags behind the policy: on sharp cycles (rock-paper-scissors) a large ``beta`` with a
    large ``eta`` oscillates instead of converging, which the defaults avoid.
    """

    def __init__(self, params: dict[str, Any], log_mu: np.ndarray):
        super().__init__(params, log_mu)
        self.tau, self.eta, self.beta = params["tau"], params["eta"], params["beta"]
        require_mixture_weight(self.eta, self.tau)

    def start(self, log_init: np.ndarray) -> None:
        self.log_pi = self.log_bar = log_init

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        w = self.eta * self.tau
        x = oracle(np.exp(self.log_bar))
        self.log_pi = log_normalize((1.0 - w) * self.log_pi + w * self.log_mu + self.eta * x)
        self.log_bar = log_normalize(self.beta * self.log_bar + (1.0 - self.beta) * self.log_pi)


NASH_MD = register(
    AlgorithmSpec(
        name="nash-md",
        title="Nash-MD",
        summary=(
            "Mirror descent against a mixture of the current policy and the reference; with Theorem 1's "
            "step schedule its last iterate converges to the regularized Nash equilibrium, with a constant "
            "step it settles near it."
        ),
        update="pi_mix ∝ pi^(1-eta tau) mu^(eta tau);  pi ← pi_mix exp(eta P pi_mix) / Z",
        params=(
            TAU,
            eta(1.0, note="; eta × tau must be at most 1 (constant schedule)"),
            ParamSpec(
                "schedule",
                "constant",
                "Step schedule: constant eta, or Theorem 1's eta_t = 2 / (tau (t + 2)).",
                kind="choice",
                choices=("constant", "theorem"),
            ),
        ),
        target="regularized Nash equilibrium pi*_tau (theorem schedule; near it with a constant step)",
        iterate="last",
        queries_per_iteration=1,
        citation=CITATION,
        solver=NashMD,
        mixes_reference=True,
        theorem_bound=theorem_1_bound,
        time_invariant=constant_step,
        latex=r"\pi_t^{\mu} \propto \pi_t^{1-\eta\tau}\mu^{\eta\tau}, \qquad \pi_{t+1}(y) \propto \pi_t^{\mu}(y)\, e^{\eta\, P(y \succ \pi_t^{\mu})}",  # noqa: E501
    )
)

NASH_EMA = register(
    AlgorithmSpec(
        name="nash-ema",
        title="Nash-EMA",
        summary=(
            "Regularized mirror descent whose opponent is an exponential moving average of the "
            "past policies (in logit space), the tabular form of Nash-EMA-PG."
        ),
        update=(
            "pi ← pi^(1-eta tau) mu^(eta tau) exp(eta P pi_bar) / Z;  log pi_bar ← beta log pi_bar + (1-beta) log pi"
        ),
        params=(
            TAU,
            eta(0.5, note="; eta × tau must be at most 1"),
            ParamSpec("beta", 0.5, "Moving-average coefficient of the opponent.", low=0.0, high=0.9999),
        ),
        target="regularized Nash equilibrium pi*_tau",
        iterate="last",
        queries_per_iteration=1,
        citation="Munos et al., Nash Learning from Human Feedback, ICML 2024, Section 7 (Nash-EMA-PG), tabular form",
        solver=NashEMA,
        mixes_reference=True,
        latex=r"\pi_{t+1}(y) \propto \pi_t(y)^{1-\eta\tau}\mu(y)^{\eta\tau} e^{\eta P(y \succ \bar\pi_t)}, \quad \log\bar\pi_{t+1} = \beta\log\bar\pi_t + (1-\beta)\log\pi_{t+1}",  # noqa: E501
    )
)
