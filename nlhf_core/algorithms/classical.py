"""Classical game dynamics: optimistic MWU, fictitious play, discrete replicator, best response.

* **Optimistic MWU** (Daskalakis & Panageas 2019; Rakhlin & Sridharan 2013):
  ``pi_{t+1} ∝ pi_t exp(eta (2 P pi_t - P pi_{t-1}))``, one new query per iteration (the
  previous answer is reused). Last-iterate convergence to the Nash equilibrium when it is
  unique and ``eta`` is small.
* **Fictitious play** (Brown 1951; Robinson 1951): each round the policy is the average
  of all best responses so far, ``pi_{t+1} = (t+1)/(t+2) pi_t + 1/(t+2) BR(pi_t)`` (ties
  split uniformly). Converges to the Nash set, slowly (``O(t^(-1/2))`` in practice).
* **Discrete replicator dynamics** (Taylor & Jonker 1978, Euler step):
  ``pi_{t+1}(y) = pi_t(y) [1 + eta (P(y ≻ pi_t) - P(pi_t ≻ pi_t))]``, on the simplex for
  ``eta <= 2``. In cyclic games the iterates drift outwards; the time average stays near
  the equilibrium.
* **Best response to the reference**: ``pi ∝ mu exp(P(y ≻ mu) / tau)`` — IPO's tabular
  optimum when the comparisons come from ``mu`` (Azar et al., AISTATS 2024) and Nash-MD's
  first step with Theorem 1's schedule. One query, then constant.
"""

from __future__ import annotations

import numpy as np

from nlhf_core.algorithms.common_params import TAU, eta
from nlhf_core.algorithms.engine import PreferenceOracle, Solver
from nlhf_core.algorithms.registry import AlgorithmSpec
from nlhf_core.numerics import log_normalize, safe_log
from nlhf_core.registry import register


class OptimisticMWU(Solver):
    def start(self, log_init: np.ndarray) -> None:
        super().start(log_init)
        self.previous: np.ndarray | None = None

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        x = oracle(np.exp(self.log_pi))
        prediction = x if self.previous is None else 2.0 * x - self.previous
        self.previous = x
        self.log_pi = log_normalize(self.log_pi + self.params["eta"] * prediction)


class FictitiousPlay(Solver):
    def start(self, log_init: np.ndarray) -> None:
        self.pi = np.exp(log_init)

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        x = oracle(self.pi)
        best = x >= x.max(axis=-1, keepdims=True) - 1e-12
        response = best / best.sum(axis=-1, keepdims=True)
        self.pi = self.pi + (response - self.pi) / (t + 2.0)

    def log_policy(self) -> np.ndarray:
        return safe_log(self.pi)


class Replicator(Solver):
    def start(self, log_init: np.ndarray) -> None:
        self.pi = np.exp(log_init)

    def step(self, t: int, oracle: PreferenceOracle) -> None:
        x = oracle(self.pi)
        value = (self.pi * x).sum(axis=-1, keepdims=True)
        grown = self.pi * np.maximum(1.0 + self.params["eta"] * (x - value), 0.0)
        self.pi = grown / grown.sum(axis=-1, keepdims=True)

    def log_policy(self) -> np.ndarray:
        return safe_log(self.pi)


class BestResponseToReference(Solver):
    def step(self, t: int, oracle: PreferenceOracle) -> None:
        if t == 0:
            mu = np.exp(self.log_mu)
            best = log_normalize(self.log_mu + oracle(mu) / self.params["tau"])
            # The answer does not depend on the start, but keeps the state's shape (a field of many starts).
            self.log_pi = np.broadcast_to(best, np.broadcast_shapes(best.shape, self.log_pi.shape)).copy()


register(
    AlgorithmSpec(
        name="omwu",
        title="Optimistic multiplicative weights",
        summary="MWU with an optimistic correction; its last iterate converges to the (unique) Nash equilibrium.",
        update="pi ← pi exp(eta (2 P pi_t - P pi_{t-1})) / Z",
        params=(eta(0.5),),
        target="Nash equilibrium (last iterate, when unique)",
        iterate="last",
        queries_per_iteration=1,
        citation=(
            "Daskalakis & Panageas, Last-Iterate Convergence: Zero-Sum Games and Constrained Min-Max "
            "Optimization, ITCS 2019"
        ),
        solver=OptimisticMWU,
        latex=r"\pi_{t+1}(y) \propto \pi_t(y)\, e^{\eta\,(2P(y\succ\pi_t) - P(y \succ \pi_{t-1}))}",
        converges_to=lambda params: "nash",
    )
)

register(
    AlgorithmSpec(
        name="fictitious-play",
        title="Fictitious play",
        summary="Play the average of past best responses; converges to the Nash set, slowly.",
        update="pi ← pi + (BR(pi) - pi) / (t + 2)",
        params=(),
        target="Nash equilibrium (the iterate is itself an average)",
        iterate="last",
        queries_per_iteration=1,
        citation="Brown 1951; Robinson, An Iterative Method of Solving a Game, Annals of Mathematics 1951",
        solver=FictitiousPlay,
        latex=r"\pi_{t+1} = \pi_t + \tfrac{1}{t+2}\big(\mathrm{BR}(\pi_t) - \pi_t\big), \quad \mathrm{BR}(\pi) = \arg\max_y P(y \succ \pi)",  # noqa: E501
        converges_to=lambda params: "nash",
    )
)

register(
    AlgorithmSpec(
        name="replicator",
        title="Discrete replicator dynamics",
        summary="Each response grows with its advantage over the population; cycles in cyclic games.",
        update="pi(y) ← pi(y) [1 + eta (P(y ≻ pi) - P(pi ≻ pi))]",
        params=(eta(0.1, high=2.0, note="; at most 2 keeps the iterates on the simplex"),),
        target="Nash equilibrium (time average; iterates drift to the boundary in cyclic games)",
        iterate="average",
        queries_per_iteration=1,
        citation="Taylor & Jonker, Evolutionarily Stable Strategies and Game Dynamics, 1978 (Euler discretization)",
        solver=Replicator,
        latex=r"\pi_{t+1}(y) = \pi_t(y)\,\big[1 + \eta\,(P(y \succ \pi_t) - P(\pi_t \succ \pi_t))\big]",
        converges_to=lambda params: "nash",
    )
)

register(
    AlgorithmSpec(
        name="best-response",
        title="Best response to the reference",
        summary="The KL-regularized best response to the reference: IPO's tabular optimum; one query.",
        update="pi = mu exp(P mu / tau) / Z",
        params=(TAU,),
        target="the regularized best response to mu (not an equilibrium)",
        iterate="last",
        queries_per_iteration=1,
        citation=(
            "Azar et al., A General Theoretical Paradigm to Understand Learning from Human Preferences "
            "(IPO), AISTATS 2024; Munos et al. 2024 (Nash-MD's first step, beta = 1)"
        ),
        solver=BestResponseToReference,
        latex=r"\pi(y) \propto \mu(y)\, e^{P(y \succ \mu)/\tau}",
        converges_to=lambda params: "reference-best-response",
    )
)
