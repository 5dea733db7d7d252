"""The record of an iterative solver's run: policies at chosen steps, queries, metric curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlhf_core.errors import ParameterError
from nlhf_core.games.metrics import context_average, exploitability, kl_divergence, regularized_gap

#: Largest number of floats a trajectory may store (policies x contexts x responses).
MAX_RECORDED_VALUES = 50_000_000


@dataclass(frozen=True)
class Trajectory:
    """Policies of an iterative solver at recorded steps, with metric curves.

    Both the last iterate and the running average of the iterates are kept;
    ``iterate`` (from the registry) says which one the algorithm's guarantee is about,
    and :attr:`policies`, :attr:`metrics` and :attr:`final_policy` refer to that one.

    Attributes:
        algorithm: registry name (``"nash-md"``).
        params: parameter values used (plus ``iterations`` and, for sampled feedback,
            ``samples`` and ``seed``).
        steps: iteration index of each recorded policy (0 is the initial policy).
        queries: cumulative preference queries (evaluations of ``P pi``, per context).
        iterate: ``"last"`` or ``"average"``.
        last_policies, average_policies: shape ``(R, C, n)``.
        metrics_last, metrics_average: name -> curve ``(R,)``, context-averaged with
            ``rho``: ``exploitability``; ``regularized_gap`` for solvers with ``tau``;
            ``kl_to_equilibrium`` = ``KL(target || pi_t)`` to the solver's target.
        target: the exact policy the solver converges to, shape ``(C, n)`` (or None).
        target_kind: ``"regularized"``, ``"nash"``, ``"reference-best-response"`` or ``"none"``.
        comparisons: simulated pairwise judgements used (sampled feedback only, else 0).
    """

    algorithm: str
    params: dict[str, Any]
    steps: np.ndarray
    queries: np.ndarray
    iterate: str
    last_policies: np.ndarray
    average_policies: np.ndarray
    metrics_last: dict[str, np.ndarray]
    metrics_average: dict[str, np.ndarray]
    target: np.ndarray | None = field(default=None, repr=False)
    target_kind: str = "regularized"
    comparisons: int = 0

    @property
    def policies(self) -> np.ndarray:
        """Recorded policies of the converging iterate, shape ``(R, C, n)``."""
        return self.average_policies if self.iterate == "average" else self.last_policies

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """Metric curves of the converging iterate."""
        return self.metrics_average if self.iterate == "average" else self.metrics_last

    @property
    def final_policy(self) -> np.ndarray:
        """The final converging iterate, shape ``(C, n)`` (``C = 1`` for a plain game)."""
        return self.policies[-1]

    @property
    def iterations(self) -> int:
        """Number of iterations run."""
        return int(self.steps[-1])

    @property
    def total_queries(self) -> int:
        """Preference queries used (per context)."""
        return int(self.queries[-1])

    def final_metrics(self) -> dict[str, float]:
        """Each metric of the converging iterate at the last recorded step."""
        return {k: float(v[-1]) for k, v in self.metrics.items()}

    def records(self, per_context: bool, extra: dict[str, np.ndarray] | None = None) -> list[dict[str, Any]]:
        """One dict per recorded step (``step``, ``queries``, ``policy``, every metric and ``extra`` curve).

        ``policy`` is ``(C, n)`` when ``per_context``, else the single context's ``(n,)``.

        Args:
            per_context: keep the ``(C, n)`` policy (a contextual game) instead of its only row.
            extra: more curves ``(R,)`` to add to each record, by name.

        Returns:
            ``R`` dicts, one per recorded step, in step order.
        """
        curves = {**self.metrics, **(extra or {})}
        return [
            {
                "step": int(step),
                "queries": int(q),
                "policy": self.policies[r] if per_context else self.policies[r, 0],
                **{k: float(v[r]) for k, v in curves.items()},
            }
            for r, (step, q) in enumerate(zip(self.steps, self.queries, strict=True))
        ]


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
    size = 2 * n_records * contexts * n  # last and average iterates
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
    tau: Any,
    reference: np.ndarray,
    target: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """Context-averaged metric curves for a stack of policies ``(..., C, n)``.

    ``tau`` is None for unregularized solvers, else a scalar or one value per policy.
    """
    out = {"exploitability": context_average(exploitability(P, policies), weights)}
    if tau is not None:
        out["regularized_gap"] = context_average(regularized_gap(P, policies, tau, reference), weights)
    if target is not None:
        out["kl_to_equilibrium"] = context_average(kl_divergence(target, policies), weights)
    return out


def queries_to_tolerance(curve: np.ndarray, queries: np.ndarray, tolerance: float) -> int | None:
    """Preference queries at the first recorded step where ``curve <= tolerance`` (None if never)."""
    hit = np.flatnonzero(np.asarray(curve) <= tolerance)
    return int(queries[hit[0]]) if len(hit) else None
