"""Mirror-descent solvers that query the current policy: OMD/INPO, self-play MWU, MMD/MPO.

* **OMD / INPO** (online mirror descent with KL to the reference; Zhang et al. 2024,
  *Iterative Nash Policy Optimization*): ``pi_{t+1} ∝ pi_t^(1-eta tau) mu^(eta tau)
  exp(eta P(y ≻ pi_t))``. Same as Nash-MD except the opponent is ``pi_t`` itself. Its fixed
  point is ``pi*_tau``; the last iterate converges when ``eta`` is small compared to
  ``tau`` (linearized map ``(1 - eta tau) I + eta A Sigma`` has spectral radius < 1),
  otherwise only the average is guaranteed (the paper's remark in Section 5).
* **Self-play MWU** (multiplicative weights; Freund & Schapire 1999; the SPO, SPPO and DNO
  family of self-play preference optimization): ``pi_{t+1} ∝ pi_t exp(eta P(y ≻ pi_t))``.
  Unregularized: the last iterate cycles around interior equilibria, the average
  converges to a Nash equilibrium at rate ``O(log n / (eta T) + eta)``.
* **MMD** (magnetic mirror descent; Sokota et al., ICLR 2023, Eq. 5 with the reference as
  magnet): ``pi_{t+1} ∝ [pi_t mu^(eta tau) exp(eta P(y ≻ pi_t))]^(1/(1+eta tau))``, linear
  last-iterate convergence to ``pi*_tau`` for small ``eta``. With ``reset_every = K`` the
  magnet is moved to the current policy every ``K`` steps (Magnetic Preference
  Optimization, Wang et al. 2024), which targets the unregularized Nash equilibrium.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlhf_core.algorithms.common_params import TAU, eta, require_mixture_weight
from nlhf_core.algorithms.engine import PreferenceOracle, Solver
from nlhf_core.algorithms.registry import AlgorithmSpec
from nlhf_core.numerics import log_normalize
from nlhf_core.params import ParamSpec
from nlhf_core.registry import register


class OnlineMirrorDescent(Solver):
    def __init__(self, params: dict[str, Any], log_mu: np.ndarray):
        super().__init__(params, log_mu)
        self.tau, self.eta = params["tau"], params["eta"]
        require_mixture_weight(self.eta, self.tau)

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        w = self.eta * self.tau
        x = oracle(np.exp(self.log_pi))
        self.log_pi = log_normalize((1.0 - w) * self.log_pi + w * self.log_mu + self.eta * x)


class MultiplicativeWeights(Solver):
    def step(self, t: int, oracle: PreferenceOracle) -> None:
        self.log_pi = log_normalize(self.log_pi + self.params["eta"] * oracle(np.exp(self.log_pi)))


class MagneticMirrorDescent(Solver):
    def __init__(self, params: dict[str, Any], log_mu: np.ndarray):
        super().__init__(params, log_mu)
        self.tau, self.eta, self.reset = params["tau"], params["eta"], int(params["reset_every"])
        self.magnet = log_mu

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        w = self.eta * self.tau
        x = oracle(np.exp(self.log_pi))
        self.log_pi = log_normalize((self.log_pi + w * self.magnet + self.eta * x) / (1.0 + w))
        if self.reset and (t + 1) % self.reset == 0:
            self.magnet = self.log_pi


register(
    AlgorithmSpec(
        name="omd",
        title="Online mirror descent (INPO)",
        summary=(
            "Regularized mirror descent against the current policy; converges to the "
            "regularized Nash equilibrium (last iterate for small eta)."
        ),
        update="pi ← pi^(1-eta tau) mu^(eta tau) exp(eta P pi) / Z",
        params=(TAU, eta(0.1, note="; eta × tau must be at most 1; small eta for last-iterate convergence")),
        target="regularized Nash equilibrium pi*_tau",
        iterate="last",
        queries_per_iteration=1,
        citation=(
            "Zhang et al., Iterative Nash Policy Optimization (INPO), 2024; Munos et al. 2024, Section 5 "
            "(online mirror descent remark)"
        ),
        solver=OnlineMirrorDescent,
        mixes_reference=True,
        latex=r"\pi_{t+1}(y) \propto \pi_t(y)^{1-\eta\tau}\,\mu(y)^{\eta\tau}\, e^{\eta P(y \succ \pi_t)}",
    )
)

register(
    AlgorithmSpec(
        name="mwu",
        title="Self-play multiplicative weights",
        summary=(
            "Unregularized self-play (the SPO/SPPO/DNO family): the last iterate cycles, the "
            "average iterate converges to a Nash equilibrium."
        ),
        update="pi ← pi exp(eta P pi) / Z",
        params=(eta(0.1),),
        target="Nash equilibrium (average iterate)",
        iterate="average",
        queries_per_iteration=1,
        citation=(
            "Freund & Schapire 1999 (multiplicative weights); Swamy et al. 2024 (SPO), Wu et al. 2024 "
            "(SPPO), Rosset et al. 2024 (DNO)"
        ),
        solver=MultiplicativeWeights,
        latex=r"\pi_{t+1}(y) \propto \pi_t(y)\, e^{\eta P(y \succ \pi_t)}",
        converges_to=lambda params: "nash",
    )
)

register(
    AlgorithmSpec(
        name="mmd",
        title="Magnetic mirror descent (MPO with resets)",
        summary=(
            "Mirror descent with a proximal pull to a magnet (the reference); moving the magnet to "
            "the current policy every K steps targets the unregularized Nash (MPO)."
        ),
        update="pi ← [pi mu^(eta tau) exp(eta P pi)]^(1/(1+eta tau)) / Z;  every K steps: mu ← pi",
        params=(
            TAU,
            eta(0.5),
            ParamSpec(
                "reset_every",
                0,
                "Move the magnet to the current policy every K iterations (0: never).",
                kind="int",
                low=0,
                high=1_000_000,
            ),
        ),
        target="regularized Nash pi*_tau; with magnet resets, the Nash equilibrium",
        iterate="last",
        queries_per_iteration=1,
        citation=(
            "Sokota et al., A Unified Approach to RL, QREs and Two-Player Zero-Sum Games, ICLR 2023 (MMD); "
            "Wang et al., Magnetic Preference Optimization, 2024 (MPO)"
        ),
        solver=MagneticMirrorDescent,
        latex=r"\pi_{t+1} \propto \big[\pi_t\, \mu^{\eta\tau}\, e^{\eta P \pi_t}\big]^{\frac{1}{1+\eta\tau}} \quad(\mu \leftarrow \pi_t \text{ every } K \text{ steps})",  # noqa: E501
        converges_to=lambda params: "nash" if params.get("reset_every") else "regularized",
    )
)
