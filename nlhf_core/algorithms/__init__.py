"""Iterative solvers for preference games, behind one registry and one runner.

:func:`run_algorithm` resolves the game, reference and initial policy, validates the
parameters against the registry, runs the solver and returns a :class:`Trajectory` with
metric curves (exploitability, regularized gap, KL to the exact ``pi*_tau``).
"""

from __future__ import annotations

from typing import Any

from ..equilibria import regularized_nash
from ..errors import ParameterError
from ..games import PreferenceGame
from ..policies import as_context_policies, as_reference
from . import nash_md  # noqa: F401  (registers Nash-MD)
from .logspace import safe_log
from .registry import AlgorithmSpec, ParamSpec, get_algorithm, list_algorithms, register
from .trajectory import Trajectory, check_recording_size, recording_steps, trajectory_metrics

#: Largest number of iterations one run may ask for.
MAX_ITERATIONS = 1_000_000

__all__ = [
    "AlgorithmSpec",
    "ParamSpec",
    "Trajectory",
    "get_algorithm",
    "list_algorithms",
    "register",
    "run_algorithm",
]


def run_algorithm(
    name: str,
    game: PreferenceGame,
    *,
    iterations: int = 500,
    reference: Any = None,
    init: Any = None,
    record_every: int | None = None,
    **params: Any,
) -> Trajectory:
    """Run a registered solver on ``game`` and return its :class:`Trajectory`.

    ``reference`` is ``mu`` (default uniform); ``init`` the initial policy (default: the
    reference, as in the paper where the SFT policy is both). ``params`` override the
    registry defaults (``tau``, ``eta``, ...). Policies are recorded every
    ``record_every`` iterations (default: about 1000 records) and at the end.
    """
    spec = get_algorithm(name)
    resolved = spec.resolve_params(params)
    iterations = _check_iterations(iterations)
    mu = as_reference(reference, game)
    start = mu if init is None else as_context_policies(init, game, what="initial policy", full_support=True)
    steps = recording_steps(iterations, record_every)
    check_recording_size(len(steps), game.num_contexts, game.n)
    policies, queries = spec.run(game.matrices, safe_log(mu), safe_log(start), resolved, steps)
    tau = resolved.get("tau")
    target = regularized_nash(game, tau, mu).policy.reshape(mu.shape) if tau else None
    metrics = trajectory_metrics(game.matrices, game.weights, policies, tau=tau, reference=mu, target=target)
    return Trajectory(
        algorithm=spec.name,
        params={**resolved, "iterations": iterations},
        steps=steps,
        queries=queries * spec.queries_per_iteration,
        policies=policies,
        metrics=metrics,
        target=target,
    )


def _check_iterations(iterations: Any) -> int:
    try:
        value = int(iterations)
    except (TypeError, ValueError):
        raise ParameterError(f"iterations must be a whole number, not {iterations!r}.") from None
    if value != iterations and not (isinstance(iterations, float) and iterations.is_integer()):
        raise ParameterError(f"iterations must be a whole number, not {iterations!r}.")
    if not 1 <= value <= MAX_ITERATIONS:
        raise ParameterError(
            f"iterations = {value} is outside [1, {MAX_ITERATIONS:,}]; choose a number of "
            f"iterations in that range."
        )
    return value
