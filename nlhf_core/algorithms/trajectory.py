"""The record of an iterative solver's run: policies at chosen steps, queries, metric curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..metrics import context_average, exploitability, kl_divergence, regularized_gap

#: Largest number of floats a trajectory may store (policies x contexts x responses).
MAX_RECORDED_VALUES = 50_000_000


@dataclass(frozen=True)
class Trajectory:
    """Policies of an iterative solver at recorded steps, with metric curves.

    Attributes:
        algorithm: registry name (``"nash-md"``).
        params: parameter values used.
        steps: iteration index of each recorded policy (0 is the initial policy).
        queries: cumulative preference queries (evaluations of ``P pi``, per context) at
            those steps.
        policies: shape ``(R, C, n)``.
        metrics: name -> curve of shape ``(R,)`` (context-averaged with ``rho``):
            ``exploitability``, and with ``tau > 0`` ``regularized_gap`` and
            ``kl_to_equilibrium`` = ``KL(pi*_tau || pi_t)``.
        target: the exact ``pi*_tau`` the KL is measured to, shape ``(C, n)`` (or None).
    """

    algorithm: str
    params: dict[str, Any]
    steps: np.ndarray
    queries: np.ndarray
    policies: np.ndarray
    metrics: dict[str, np.ndarray]
    target: np.ndarray | None = field(default=None, repr=False)

    @property
    def final_policy(self) -> np.ndarray:
        """The last recorded policy: ``(n,)`` for one context, else ``(C, n)``."""
        last = self.policies[-1]
        return last[0] if last.shape[0] == 1 else last

    @property
    def iterations(self) -> int:
        """Number of iterations run."""
        return int(self.steps[-1])

    @property
    def total_queries(self) -> int:
        """Preference queries used (per context)."""
        return int(self.queries[-1])

    def final_metrics(self) -> dict[str, float]:
        """Each metric at the last recorded step."""
        return {k: float(v[-1]) for k, v in self.metrics.items()}


def recording_steps(iterations: int, record_every: int | None, max_records: int = 1000) -> np.ndarray:
    """Steps ``0, k, 2k, ..., iterations`` (the last one always included).

    The default ``k`` keeps about ``max_records`` records.
    """
    if record_every is None:
        record_every = max(1, -(-iterations // max_records))
    if record_every < 1:
        raise ParameterError(f"The trajectory step is {record_every}; record every k >= 1 iterations.")
    steps = np.arange(0, iterations + 1, record_every)
    if steps[-1] != iterations:
        steps = np.append(steps, iterations)
    return steps


def check_recording_size(n_records: int, contexts: int, n: int) -> None:
    """Refuse a trajectory that would not fit in memory, saying how to shrink it."""
    size = n_records * contexts * n
    if size > MAX_RECORDED_VALUES:
        raise ParameterError(
            f"Recording {n_records} policies of {contexts}×{n} probabilities needs "
            f"{size * 8 / 2**30:.1f} GiB; record fewer steps (a larger trajectory step)."
        )


def trajectory_metrics(
    P: np.ndarray,
    weights: np.ndarray,
    policies: np.ndarray,
    *,
    tau: float | None,
    reference: np.ndarray,
    target: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """Context-averaged metric curves for a stack of policies ``(R, C, n)``."""
    out = {"exploitability": context_average(exploitability(P, policies), weights)}
    if tau is not None and tau > 0:
        out["regularized_gap"] = context_average(regularized_gap(P, policies, tau, reference), weights)
    if target is not None:
        out["kl_to_equilibrium"] = context_average(kl_divergence(target, policies), weights)
    return out
