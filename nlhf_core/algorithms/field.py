"""The update field of a solver on the simplex: where one step moves each policy.

Drawn as faint arrows under a trajectory (3 responses), it shows the dynamics a solver
follows everywhere, not only along one run: spirals for self-play, a sink at ``pi*_tau``
for regularized methods. The points form the settings axis of the engine, so the whole
field is one batched step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlhf_core.algorithms.engine import PreferenceOracle
from nlhf_core.algorithms.registry import get_solver
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import as_reference
from nlhf_core.numerics import safe_log


def simplex_grid(k: int) -> np.ndarray:
    """Interior points ``(i, j, l) / k`` with ``i + j + l = k`` and all parts >= 1: shape ``(m, 3)``."""
    points = [(i, j, k - i - j) for i in range(1, k) for j in range(1, k - i)]
    return np.array(points, dtype=float) / k


def update_field(
    name: str,
    game: PreferenceGame,
    points: np.ndarray,
    *,
    reference: Any = None,
    context: int = 0,
    **params: Any,
) -> np.ndarray:
    """The policy one iteration of ``name`` reaches from each of ``points`` (shape ``(m, n)``).

    A step schedule is frozen at a constant step (Theorem 1's schedule changes with time, so
    its field would too): the spec's :meth:`~nlhf_core.algorithms.registry.AlgorithmSpec.frozen_for_field`.
    """
    spec = get_solver(name)
    resolved = spec.frozen_for_field(params)
    mu = as_reference(reference, game)[context : context + 1]  # (1, n): the one context's row
    solver = spec.solver(resolved, safe_log(mu))
    solver.start(safe_log(np.asarray(points, dtype=float))[:, None, :])
    solver.step(0, PreferenceOracle(game.matrices[context : context + 1]))
    return np.exp(solver.log_policy())[:, 0, :]
