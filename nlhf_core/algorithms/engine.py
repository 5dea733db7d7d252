"""The engine every tabular solver runs on: preference oracles and one iteration loop.

A solver keeps its state in log space and asks an :class:`PreferenceOracle` for
``P(y ≻ pi)`` (one *preference query*, the unit of cost: DESIGN.md). The oracle answers
exactly (``P pi``) or from a finite batch of sampled comparisons, and counts the queries.

Shapes broadcast: ``P`` is ``(C, n, n)`` (one matrix per context) and the state is
``(S, C, n)`` where ``S`` runs over settings of a sweep (``eta``/``tau`` arrays of shape
``(S, 1, 1)``) — so a sweep of 400 settings is one batched computation per iteration.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from nlhf_core.numerics import batched_matvec


class PreferenceOracle:
    """Answers preference queries ``q(y) = P(y ≻ pi)`` for every response ``y``.

    With ``samples = m`` each ``q(y)`` is the win frequency of ``y`` in ``m`` comparisons
    against opponents drawn from ``pi`` (each a Bernoulli draw with probability
    ``P(y ≻ y')``): an unbiased estimate with variance at most ``1 / (4 m)``. Seeded
    through ``rng``; ``comparisons`` counts the simulated human judgements.
    """

    def __init__(self, P: np.ndarray, *, samples: int | None = None, rng: np.random.Generator | None = None):
        self.P = P
        self.samples = samples
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.queries = 0
        self.comparisons = 0

    def __call__(self, pi: np.ndarray) -> np.ndarray:
        self.queries += 1
        if self.samples is None:
            return batched_matvec(self.P, pi)
        self.comparisons += self.samples * pi.size
        return sampled_preferences(self.P, pi, self.samples, self.rng)


def sampled_preferences(P: np.ndarray, pi: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Estimate ``P(y ≻ pi)`` for every ``y`` from ``samples`` comparisons each.

    Opponents ``y' ~ pi`` are drawn as multinomial counts per ``y``, then the wins against
    each opponent as binomial draws with probability ``P(y ≻ y')``.
    """
    n = pi.shape[-1]
    probs = np.clip(pi, 0.0, None)
    probs = probs / probs.sum(axis=-1, keepdims=True)
    opponents = np.broadcast_to(probs[..., None, :], (*probs.shape[:-1], n, n))
    counts = rng.multinomial(samples, opponents)
    wins = rng.binomial(counts, np.broadcast_to(P, counts.shape))
    return wins.sum(axis=-1) / samples


class Solver(ABC):
    """Base class of the tabular solvers: ``start`` then ``step`` once per iteration.

    Subclasses read their parameters from ``params`` (scalars, or arrays broadcasting
    against the state for sweeps) and keep the current policy as ``self.log_pi``.
    """

    def __init__(self, params: dict[str, Any], log_mu: np.ndarray):
        self.params = params
        self.log_mu = log_mu
        self.log_pi: np.ndarray = log_mu

    def start(self, log_init: np.ndarray) -> None:
        """Set the initial policy (log probabilities)."""
        self.log_pi = log_init

    @abstractmethod
    def step(self, t: int, oracle: PreferenceOracle) -> None:
        """Advance from iterate ``t`` to ``t + 1``."""

    def log_policy(self) -> np.ndarray:
        """Log probabilities of the current iterate."""
        return self.log_pi


def run_solver(
    solver: Solver,
    oracle: PreferenceOracle,
    log_init: np.ndarray,
    steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Iterate ``solver`` to ``steps[-1]``; record last and average iterates at ``steps``.

    The average iterate at step ``t`` is the mean of the policies ``pi_0, ..., pi_t``.
    Returns ``(last, average, queries)`` with policies of shape ``(R, *state)`` and the
    cumulative preference queries at each recorded step.
    """
    solver.start(log_init)
    shape = np.broadcast_shapes(log_init.shape, solver.log_policy().shape)
    last = np.empty((len(steps), *shape))
    average = np.empty_like(last)
    queries = np.empty(len(steps), dtype=np.int64)
    running = np.zeros(shape)
    record = 0
    for t in range(int(steps[-1]) + 1):
        pi = np.exp(solver.log_policy())
        running += pi
        if t == steps[record]:
            last[record] = pi
            average[record] = running / (t + 1)
            queries[record] = oracle.queries
            record += 1
            if record == len(steps):
                break
        solver.step(t, oracle)
    return last, average, queries
