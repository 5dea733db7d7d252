"""Extragradient solvers: two preference queries per iteration, linear last-iterate rates.

* **Nash-MP** (Nash mirror prox; Tiapkin et al. 2025, *Accelerating Nash Learning from Human
  Feedback via Mirror Prox*): a look-ahead half step, then the real step with the
  look-ahead's preferences, each the proximal (magnetic) form
  ``pi_half ∝ [pi_k mu^(eta tau) exp(eta P pi_k)]^(1/(1+eta tau))``,
  ``pi_{k+1} ∝ [pi_k mu^(eta tau) exp(eta P pi_half)]^(1/(1+eta tau))``;
  KL to ``pi*_tau`` shrinks linearly, about ``(1 + 2 eta tau)`` per iteration.
* **EGPO** (extragradient preference optimization; Zhou et al. 2025): the same two
  queries with the mixture form ``pi_k^(1-eta tau) mu^(eta tau)`` in both half steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlhf_core.algorithms.common_params import TAU, eta, require_mixture_weight
from nlhf_core.algorithms.engine import PreferenceOracle, Solver
from nlhf_core.algorithms.registry import AlgorithmSpec
from nlhf_core.numerics import log_normalize
from nlhf_core.registry import register


class NashMirrorProx(Solver):
    def __init__(self, params: dict[str, Any], log_mu: np.ndarray):
        super().__init__(params, log_mu)
        self.tau, self.eta = params["tau"], params["eta"]

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        w, eta = self.eta * self.tau, self.eta
        base = self.log_pi + w * self.log_mu
        half = log_normalize((base + eta * oracle(np.exp(self.log_pi))) / (1.0 + w))
        self.log_pi = log_normalize((base + eta * oracle(np.exp(half))) / (1.0 + w))


class ExtragradientPO(Solver):
    def __init__(self, params: dict[str, Any], log_mu: np.ndarray):
        super().__init__(params, log_mu)
        self.tau, self.eta = params["tau"], params["eta"]
        require_mixture_weight(self.eta, self.tau)

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        w, eta = self.eta * self.tau, self.eta
        base = (1.0 - w) * self.log_pi + w * self.log_mu
        half = log_normalize(base + eta * oracle(np.exp(self.log_pi)))
        self.log_pi = log_normalize(base + eta * oracle(np.exp(half)))


register(
    AlgorithmSpec(
        name="nash-mp",
        title="Nash mirror prox (Nash-MP)",
        summary="Mirror prox with a proximal pull to the reference; linear last-iterate convergence to pi*_tau.",
        update=(
            "pi_half ∝ [pi mu^(eta tau) exp(eta P pi)]^(1/(1+eta tau));  "
            "pi ← [pi mu^(eta tau) exp(eta P pi_half)]^(1/(1+eta tau))"
        ),
        params=(TAU, eta(2.0, high=1e3)),
        target="regularized Nash equilibrium pi*_tau",
        iterate="last",
        queries_per_iteration=2,
        citation="Tiapkin et al., Accelerating Nash Learning from Human Feedback via Mirror Prox, 2025 (Nash-MP)",
        solver=NashMirrorProx,
        latex=r"\pi_{t+\frac12} \propto \big[\pi_t \mu^{\eta\tau} e^{\eta P\pi_t}\big]^{\frac{1}{1+\eta\tau}}, \quad \pi_{t+1} \propto \big[\pi_t \mu^{\eta\tau} e^{\eta P\pi_{t+1/2}}\big]^{\frac{1}{1+\eta\tau}}",  # noqa: E501
    )
)

register(
    AlgorithmSpec(
        name="egpo",
        title="Extragradient preference optimization (EGPO)",
        summary="Extragradient with the reference mixed in geometrically; linear last-iterate convergence to pi*_tau.",
        update=(
            "pi_half ∝ pi^(1-eta tau) mu^(eta tau) exp(eta P pi);  pi ← pi^(1-eta tau) mu^(eta tau) exp(eta P pi_half)"
        ),
        params=(TAU, eta(2.0, note="; eta × tau must be at most 1")),
        target="regularized Nash equilibrium pi*_tau",
        iterate="last",
        queries_per_iteration=2,
        citation="Zhou et al., Extragradient Preference Optimization (EGPO), 2025",
        solver=ExtragradientPO,
        mixes_reference=True,
        latex=r"\pi_{t+\frac12} \propto \pi_t^{1-\eta\tau}\mu^{\eta\tau} e^{\eta P\pi_t}, \quad \pi_{t+1} \propto \pi_t^{1-\eta\tau}\mu^{\eta\tau} e^{\eta P\pi_{t+1/2}}",  # noqa: E501
    )
)
